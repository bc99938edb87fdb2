"""``plait sweep-report DIR``: the report of a sweep, written again into ``DIR/report/``."""

from __future__ import annotations

from pathlib import Path


def sweep_report(sweep_dir: str) -> int:
    """Print and write the report of the sweep in ``sweep_dir``; returns the exit status."""
    from framework.search.report import load_study, write_report

    path = Path(sweep_dir)
    write_report(path, load_study(path), print_it=True)
    return 0
