"""The callback that redraws ``curves.png`` during training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from framework.training.curves import plot_curves


class CurvesCallback(L.Callback):
    """Redraw ``curves.png`` after every validation and at the end of training."""

    def __init__(self, run_dir: str | Path) -> None:
        from framework.rundir import RunDir

        self.run = RunDir(run_dir)

    def _draw(self, trainer: L.Trainer) -> None:
        if not trainer.is_global_zero or trainer.sanity_checking:
            return
        for logger in trainer.loggers:
            logger.save()
        if self.run.metrics.exists():
            plot_curves(self.run.metrics, self.run.curves)

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._draw(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._draw(trainer)
