"""The reduce-on-plateau schedule's class (imports torch; loaded when it is built)."""

from __future__ import annotations

from typing import Any

from torch.optim.lr_scheduler import ReduceLROnPlateau


class Plateau(ReduceLROnPlateau):
    """torch's ReduceLROnPlateau that names the metric it watches; TaskModule steps it after
    each validation with that metric."""

    def __init__(self, optimizer: Any, monitor: str, **kwargs: Any) -> None:
        super().__init__(optimizer, **kwargs)
        self.monitor = monitor


def plateau_monitor(scheduler: Any) -> str:
    """The metric a plateau schedule watches: its own ``monitor`` when built by ``plateau``,
    else ``val/loss`` (a third party's bare ReduceLROnPlateau)."""
    return scheduler.monitor if isinstance(scheduler, Plateau) else "val/loss"
