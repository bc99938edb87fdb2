"""Built-in loggers."""

from __future__ import annotations

from typing import Any


def csv(flush_every: int = 50, *, run_dir: str) -> Any:
    """CSV file ``metrics.csv`` in the run dir (read by ``curves.png``).

    Args:
        flush_every: Write buffered rows to disk every this many logging steps.
    """
    from lightning.pytorch.loggers import CSVLogger

    return CSVLogger(save_dir=run_dir, name="", version="", flush_logs_every_n_steps=flush_every)
