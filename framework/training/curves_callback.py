"""The callback that redraws ``curves.png`` during training."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L

from framework.training.curves import plot_curves

REDRAW_EVERY_S = 30.0
"""Least wall time between two redraws during training: drawing takes a fraction of a second,
which a short run (a tiny sweep trial, a test) would pay at each of its validations."""


class CurvesCallback(L.Callback):
    """Redraw ``curves.png`` after a validation (at most every :data:`REDRAW_EVERY_S`
    seconds) and always at the end of training."""

    def __init__(self, run_dir: str | Path, every_s: float = REDRAW_EVERY_S) -> None:
        from framework.rundir import RunDir

        self.run = RunDir(run_dir)
        self.every_s = every_s
        self.drawn_at = time.monotonic()  # the first redraw comes after a while, not at step 0
        self.draw_s = 0.0
        """Seconds the last drawing took (``--estimate`` counts the one at the end once)."""

    def _draw(self, trainer: L.Trainer) -> None:
        if not trainer.is_global_zero or trainer.sanity_checking:
            return
        for logger in trainer.loggers:
            logger.save()
        began = time.monotonic()
        if self.run.metrics.exists():
            plot_curves(self.run.metrics, self.run.curves)
        self.drawn_at = time.monotonic()
        self.draw_s = self.drawn_at - began

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if time.monotonic() - self.drawn_at >= self.every_s:
            self._draw(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._draw(trainer)
