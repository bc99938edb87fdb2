"""``plait plot RUN_DIR``: redraw a run's ``curves.png`` from its ``metrics.csv``."""

from __future__ import annotations

from pathlib import Path

from framework.errors import PlaitError


def plot(run_dir: str) -> int:
    """Redraw ``RUN_DIR/curves.png``; returns the exit status."""
    folder = Path(run_dir)
    csv = folder / "metrics.csv"
    if not csv.is_file():
        raise PlaitError(
            f"plot: no metrics.csv in '{run_dir}'; give a run dir such as runs/NAME/<time>"
        )
    from framework.training.curves import plot_curves

    out = plot_curves(csv, folder / "curves.png")
    if out is None:
        raise PlaitError(f"plot: '{csv}' holds no logged values yet")
    print(out)
    return 0
