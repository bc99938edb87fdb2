"""Runs side by side: each run's metrics with intervals (from its ``eval/``), a paired
bootstrap of every later run against the first on the same records, and the validation
curves overlaid."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from framework.errors import PlaitError
from framework.evaluate import stats
from framework.rundir import EVAL_JSON, PREDICTIONS


def read_predictions(folder: Path) -> list[dict[str, str]]:
    """``predictions.csv`` of an evaluation folder."""
    with open(folder / PREDICTIONS, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def same_records(names: list[str], preds: list[list[dict[str, str]]]) -> None:
    """Stop unless every run was evaluated on the same records in the same order."""
    first = [(r.get("text"), r.get("true")) for r in preds[0]]
    for name, p in zip(names[1:], preds[1:]):
        if [(r.get("text"), r.get("true")) for r in p] != first:
            raise PlaitError(
                f"{names[0]} and {name} were evaluated on different records ({len(first):,} "
                f"and {len(p):,}); compare runs of the same data stage, or evaluate each on one "
                "file (plait eval run=DIR data.source.paths=[FILE]) and compare those"
            )


def paired(
    kind: str, a: list[dict[str, str]], b: list[dict[str, str]], seed: int = 0
) -> dict[str, dict[str, float]]:
    """The difference b - a of each headline metric with its paired bootstrap interval and
    p-value (both runs scored on the same resampled records), as the target's analysis
    defines it; empty for a target without a paired test."""
    from framework.evaluate.analysis import analysis_named

    test = analysis_named(kind).paired
    if test is None:
        return {}
    idx = stats.resamples(len(a), seed=seed)
    return {name: _with_p(full, boot) for name, (full, boot) in test(a, b, idx).items()}


def _with_p(full: float, boot: np.ndarray) -> dict[str, float]:
    iv = stats.interval(full, boot)
    p = min(1.0, 2 * min(float((boot <= 0).mean()), float((boot >= 0).mean())))
    return {**iv.to_dict(), "p_value": p}


def overlay_curves(metrics: dict[str, Path], out: Path) -> Path | None:
    """Every validation metric of the runs, one panel per metric, one line per run."""
    import math

    from framework.evaluate.charts import _pyplot, _save
    from framework.training.curves import read_metrics

    series = {name: read_metrics(p) for name, p in metrics.items() if p.is_file()}
    keys = sorted(
        {k for s in series.values() for k in s if k.startswith("val/") and k.count("/") == 1},
        key=lambda k: (k != "val/loss", k),
    )
    if not keys:
        return None
    plt = _pyplot()
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for name, s in series.items():
            if key in s:
                steps, values = zip(*s[key])
                ax.plot(steps, values, "o-", ms=3, label=name)
        ax.set(title=key, xlabel="step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    _save(fig, out / "curves.png")
    return out / "curves.png"


def compare(
    folders: dict[str, Path], metrics: dict[str, Path], out: Path, seed: int = 0
) -> dict[str, Any]:
    """Compare evaluations (name -> ``eval/`` folder) with a paired bootstrap seeded by
    ``seed``; writes ``compare.json``, ``curves.png`` and ``report.html`` into ``out``."""
    docs = {n: json.loads((f / EVAL_JSON).read_text("utf-8")) for n, f in folders.items()}
    kinds = {d["kind"] for d in docs.values()}
    if len(kinds) > 1:
        shown = ", ".join(f"{n} ({d['kind']})" for n, d in docs.items())
        raise PlaitError(f"compare: the runs are of different tasks: {shown}; compare runs of one")
    kind = kinds.pop()
    names = list(folders)
    preds = [read_predictions(folders[n]) for n in names]
    same_records(names, preds)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "kind": kind,
        "records": len(preds[0]),
        "metrics": {n: docs[n].get(kind, {}).get("metrics", {}) for n in names},
        "paired": {
            f"{n} - {names[0]}": paired(kind, preds[0], p, seed)
            for n, p in zip(names[1:], preds[1:])
        },
    }
    curves = overlay_curves(metrics, out)
    result["curves"] = curves.name if curves else None
    (out / "compare.json").write_text(json.dumps(result, indent=1), "utf-8")
    _write_html(result, out)
    return result


def _write_html(result: dict[str, Any], out: Path) -> None:
    from framework.eda.html import STYLE, esc, image, table

    names = list(result["metrics"])
    metric_names = sorted({k for m in result["metrics"].values() for k in m})
    rows = [[k, *[_fmt(result["metrics"][n].get(k)) for n in names]] for k in metric_names]
    parts = [
        "<h1>plait compare</h1>",
        f"<p>{result['records']:,} records, the same for every run</p>",
        "<h2>Metrics [95% bootstrap interval]</h2>",
        table(["metric", *names], rows),
    ]
    for pair, diffs in result["paired"].items():
        rows = [
            [k, f"{d['value']:+.4f}", f"[{d['low']:+.4f}, {d['high']:+.4f}]", d["p_value"]]
            for k, d in diffs.items()
        ]
        parts += [
            f"<h2>Paired bootstrap: {esc(pair)}</h2>",
            table(["metric", "difference", "95% interval", "p-value"], rows),
        ]
    if result.get("curves"):
        parts += ["<h2>Validation curves</h2>", image(out / result["curves"], "validation curves")]
    (out / "report.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>plait compare</title>'
        f"<style>{STYLE}</style></head><body>\n{''.join(parts)}\n</body></html>\n",
        "utf-8",
    )


def _fmt(d: dict[str, float] | None) -> str:
    return "" if not d else f"{d['value']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"
