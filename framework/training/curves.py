"""``curves.png``: every logged metric against step, train and validation together."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
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
    panel for each of 40 classes would take a minute to draw at every validation. The test
    pass's values (``test/...``, one point after training) are not curves and stay out."""
    panels: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        if key.count("/") < 2 and not key.startswith("test/"):
            panels[key.split("/", 1)[-1]].append(key)
    return {p: panels[p] for p in sorted(panels, key=lambda p: (p != "loss", p))}


DRAWING = "plait-curves 3"
"""What a drawing's digest starts from: change it when the drawing changes."""
PANEL_INCHES = (5.0, 3.6)
"""Width and height of one panel of the drawing."""
DIGEST_KEY = "Description"
"""The PNG text field holding the digest of what a drawing shows."""


def _digest(panels: dict[str, list[str]], series: dict[str, list[tuple[int, float]]]) -> str:
    """A digest of what the drawing shows: its panels, their series and every point."""
    shown = {p: {k: series[k] for k in keys} for p, keys in panels.items()}
    blob = json.dumps([DRAWING, shown], sort_keys=True).encode()
    return f"{DRAWING} {hashlib.sha256(blob).hexdigest()}"


def drawn_digest(png: Path) -> str | None:
    """The digest a drawing of :func:`plot_curves` stored, or None."""
    from PIL import Image

    try:
        with Image.open(png) as image:
            return image.info.get(DIGEST_KEY)
    except (OSError, ValueError):
        return None


def plot_curves(
    metrics_csv: str | Path, out_png: str | Path, drawn: Path | None = None
) -> Path | None:
    """Draw one panel per metric (``train/loss`` beside ``val/loss``); None if nothing logged.
    ``drawn``: a drawing made before (the run's own ``curves.png``), copied instead when it
    shows the same points."""
    series = read_metrics(metrics_csv)
    panels = curve_panels(list(series))
    if not panels:
        return None
    digest = _digest(panels, series)
    out_png = Path(out_png)
    tmp = out_png.with_suffix(".tmp.png")
    if drawn is not None and drawn.is_file() and drawn_digest(drawn) == digest:
        shutil.copyfile(drawn, tmp)
        return tmp.replace(out_png)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(panels)
    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    width, height = PANEL_INCHES
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    # fixed margins in inches: tight_layout would draw the figure once more to measure it
    fig.subplots_adjust(left=0.75 / (width * cols), right=1 - 0.15 / (width * cols),
                        bottom=0.5 / (height * rows), top=1 - 0.35 / (height * rows),
                        wspace=0.3, hspace=0.85 / (height - 0.85))  # fmt: skip
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
    fig.savefig(tmp, dpi=100, metadata={DIGEST_KEY: digest})
    plt.close(fig)
    return tmp.replace(out_png)
