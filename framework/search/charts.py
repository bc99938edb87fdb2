"""The sweep report's plots: the objective per trial, the objective against each parameter,
and every trial's validation curve of the objective."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.rundir import RunDir

STATE_COLOURS = {"complete": "tab:blue", "pruned": "tab:orange", "failed": "tab:red"}


def draw_all(out: Path, study: Any, rows: list[dict[str, Any]], objective: str) -> list[Path]:
    """Write ``objective.png``, ``params.png`` and ``curves.png`` (those with something to
    draw) into ``out``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    written = [_history(out / "objective.png", study, rows, objective)]
    written.append(_params(out / "params.png", study, rows, objective))
    written.append(_curves(out / "curves.png", rows, objective))
    return [p for p in written if p is not None]


def _history(path: Path, study: Any, rows: list[dict[str, Any]], objective: str) -> Path | None:
    import matplotlib.pyplot as plt

    done = sorted((r for r in rows if r["value"] is not None), key=lambda r: r["trial"])
    if not done:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for state, colour in STATE_COLOURS.items():
        pts = [(r["trial"], r["value"]) for r in done if r["state"] == state]
        if pts:
            ax.scatter(*zip(*pts), color=colour, label=state, zorder=3)
    better = min if study.direction.name == "MINIMIZE" else max
    best, line = None, []
    for r in (r for r in done if r["state"] == "complete"):
        best = r["value"] if best is None else better(best, r["value"])
        line.append((r["trial"], best))
    if line:
        ax.step(*zip(*line), where="post", color="black", label="best so far")
    for r in rows:
        if r["state"] == "failed":
            ax.axvline(r["trial"], color=STATE_COLOURS["failed"], alpha=0.3, ls="--")
    ax.set(xlabel="trial", ylabel=objective, title="objective per trial (failed: dashed)")
    ax.legend()
    return _save(fig, path)


def _params(path: Path, study: Any, rows: list[dict[str, Any]], objective: str) -> Path | None:
    import matplotlib.pyplot as plt

    names = sorted({k[6:] for r in rows for k in r if k.startswith("param:")})
    done = [r for r in rows if r["value"] is not None]
    if not names or not done:
        return None
    dists = {}
    for t in study.get_trials(deepcopy=False):
        dists.update(t.distributions)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        pts = [(r.get(f"param:{name}"), r["value"], r["state"]) for r in done]
        pts = [p for p in pts if p[0] is not None]
        xs = [p[0] if isinstance(p[0], (int, float)) else str(p[0]) for p in pts]
        ax.scatter(xs, [p[1] for p in pts], color=[STATE_COLOURS[p[2]] for p in pts])
        if getattr(dists.get(name), "log", False):
            ax.set_xscale("log")
        ax.set(xlabel=name, ylabel=objective)
    fig.suptitle("objective against each parameter")
    return _save(fig, path)


def _curves(path: Path, rows: list[dict[str, Any]], objective: str) -> Path | None:
    import matplotlib.pyplot as plt

    from framework.training.curves import read_metrics

    metric = objective.replace("test/", "val/", 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = 0
    for r in sorted(rows, key=lambda r: r["trial"]):
        csv_path = RunDir(r["run_dir"]).metrics if r["run_dir"] else None
        if csv_path is None or not csv_path.is_file():
            continue
        series = read_metrics(csv_path).get(metric)
        if series:
            style = "-" if r["state"] == "complete" else ":"
            ax.plot(*zip(*series), style, marker="o", ms=3, label=f"trial {r['trial']}")
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set(xlabel="step", ylabel=metric, title="each trial's validation curve (pruned: dotted)")
    if drawn <= 12:
        ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
