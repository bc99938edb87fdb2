"""Built-in optional callbacks (checkpointing, curves and progress are always on)."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, NON_NEGATIVE, Check


def early_stopping(
    monitor: str = "val/loss",
    mode: Annotated[str, Check(choices=("min", "max"))] = "min",
    patience: Annotated[int, COUNT] = 3,
    min_delta: Annotated[float, NON_NEGATIVE] = 0.0,
) -> Any:
    """Stop when the monitored validation metric stops improving.

    Args:
        monitor: Logged metric to watch, such as val/loss.
        mode: min or max: which direction is better.
        patience: Validations without improvement before stopping.
        min_delta: Smallest change that counts as an improvement.
    """
    from lightning.pytorch.callbacks import EarlyStopping

    return EarlyStopping(monitor=monitor, mode=mode, patience=patience, min_delta=min_delta)
