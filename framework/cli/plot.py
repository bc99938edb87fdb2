"""``plait plot RUN_DIR``: redraw a run's ``curves.png`` from its ``metrics.csv``."""

from __future__ import annotations

from framework.errors import PlaitError
from framework.rundir import RunDir, metrics_of


def plot(run_dir: str) -> int:
    """Redraw ``RUN_DIR/curves.png``; returns the exit status."""
    from framework.training.curves import plot_curves

    csv = metrics_of(run_dir)
    out = plot_curves(csv, RunDir(run_dir).curves)
    if out is None:
        raise PlaitError(f"plot: '{csv}' holds no logged values yet")
    print(out)
    return 0
