"""``curves.png``: every logged metric against step, train and validation together."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path


def read_metrics(path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Columns of a Lightning ``metrics.csv`` as {metric: [(step, value), ...]}."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            step = int(float(row.get("step") or 0))
            for key, value in row.items():
                if key in ("step", "epoch") or value in ("", None):
                    continue
                v = float(value)
                if math.isfinite(v):
                    series[key].append((step, v))
    return dict(series)


def curve_panels(keys: list[str]) -> dict[str, list[str]]:
    """Panel name -> the series drawn in it (``loss``: ``train/loss``, ``val/loss``), loss
    first. Per-class values (``val/f1_per_class/<class>``) stay in ``metrics.csv`` only: a
    panel for each of 40 classes would take a minute to draw at every validation."""
    panels: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        if key.count("/") < 2:
            panels[key.split("/", 1)[-1]].append(key)
    return {p: panels[p] for p in sorted(panels, key=lambda p: (p != "loss", p))}


def plot_curves(metrics_csv: str | Path, out_png: str | Path) -> Path | None:
    """Draw one panel per metric (``train/loss`` beside ``val/loss``); None if nothing logged."""
    series = read_metrics(metrics_csv)
    panels = curve_panels(list(series))
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(panels)
    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, order):
        for key in panels[panel]:
            steps, values = zip(*series[key])
            style = "o-" if key.startswith("val") or len(steps) < 30 else "-"
            ax.plot(steps, values, style, label=key.split("/", 1)[0] if "/" in key else key, ms=3)
        ax.set_title(panel)
        if "perplexity" in panel:  # falls by orders of magnitude: a linear axis hides the end
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    for ax in list(axes.flat)[len(order) :]:
        ax.axis("off")
    fig.tight_layout()
    out_png = Path(out_png)
    tmp = out_png.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out_png)
    return out_png
