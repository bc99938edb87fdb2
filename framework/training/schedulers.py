"""Built-in learning-rate schedules: warmup then decay, one-cycle, and reduce-on-plateau."""

from __future__ import annotations

import math
from typing import Annotated, Any

from framework.checks import NON_NEGATIVE, POSITIVE, UNIT, Check


def _warmup_then(warmup_steps: int, after: Any) -> Any:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return after(step)

    return factor


def _decay_after_warmup(
    optimizer: Any, warmup_steps: int, min_lr_ratio: float, total_steps: int, shape: Any
) -> Any:
    """Linear warmup, then ``min_lr_ratio + (1 - min_lr_ratio) x shape(progress)`` where
    progress runs from 0 after warmup to 1 at the last step and ``shape`` falls from 1 to 0."""
    import torch

    span = max(1, total_steps - warmup_steps)

    def after(step: int) -> float:
        progress = min(1.0, (step - warmup_steps) / span)
        return min_lr_ratio + (1 - min_lr_ratio) * shape(progress)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then(warmup_steps, after))


def cosine(
    warmup_steps: Annotated[int, NON_NEGATIVE] = 100,
    min_lr_ratio: Annotated[float, UNIT] = 0.1,
    *,
    optimizer: Any,
    total_steps: int,
) -> Any:
    """Linear warmup, then cosine decay to ``min_lr_ratio`` x peak at the last step.

    Args:
        warmup_steps: Steps of linear warmup from 0 to the peak learning rate.
        min_lr_ratio: Final learning rate as a share of the peak.
    """
    return _decay_after_warmup(
        optimizer, warmup_steps, min_lr_ratio, total_steps,
        lambda p: 0.5 * (1 + math.cos(math.pi * p)),
    )  # fmt: skip


def constant(
    warmup_steps: Annotated[int, NON_NEGATIVE] = 0, *, optimizer: Any, total_steps: int
) -> Any:
    """Constant learning rate after an optional linear warmup.

    Args:
        warmup_steps: Steps of linear warmup from 0 to the learning rate.
    """
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then(warmup_steps, lambda s: 1.0))


def linear(
    warmup_steps: Annotated[int, NON_NEGATIVE] = 100,
    min_lr_ratio: Annotated[float, UNIT] = 0.0,
    *,
    optimizer: Any,
    total_steps: int,
) -> Any:
    """Linear warmup, then linear decay to ``min_lr_ratio`` x peak at the last step.

    Args:
        warmup_steps: Steps of linear warmup from 0 to the peak learning rate.
        min_lr_ratio: Final learning rate as a share of the peak.
    """
    return _decay_after_warmup(optimizer, warmup_steps, min_lr_ratio, total_steps, lambda p: 1 - p)


def one_cycle(
    pct_start: Annotated[float, Check(gt=0, lt=1)] = 0.3,
    div_factor: Annotated[float, POSITIVE] = 25.0,
    final_div_factor: Annotated[float, POSITIVE] = 1e4,
    anneal: Annotated[str, Check(choices=("cos", "linear"))] = "cos",
    *,
    optimizer: Any,
    total_steps: int,
) -> Any:
    """One-cycle policy (Smith, 2018; torch's ``OneCycleLR``): up from peak/div_factor to the
    optimizer's learning rate over ``pct_start`` of the steps, then down to
    peak/(div_factor x final_div_factor). Momentum is left as the optimizer sets it.

    Args:
        pct_start: Share of the steps spent rising.
        div_factor: Starting learning rate = peak / div_factor.
        final_div_factor: Final learning rate = start / final_div_factor.
        anneal: ``cos`` or ``linear``.
    """
    import torch

    if anneal not in ("cos", "linear"):
        from framework.errors import PlaitError

        raise PlaitError(f"scheduler.anneal must be 'cos' or 'linear', not '{anneal}'")
    peaks = [group["lr"] for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=peaks,
        total_steps=max(2, total_steps),
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        anneal_strategy=anneal,
        cycle_momentum=False,
    )


def plateau(
    monitor: str = "val/loss",
    mode: Annotated[str, Check(choices=("min", "max"))] = "min",
    factor: Annotated[float, Check(gt=0, lt=1)] = 0.5,
    patience: Annotated[int, NON_NEGATIVE] = 2,
    min_lr: Annotated[float, NON_NEGATIVE] = 0.0,
    *,
    optimizer: Any,
    total_steps: int,
) -> Any:
    """Reduce the learning rate by ``factor`` when the monitored validation metric has not
    improved for ``patience`` validations (torch's ``ReduceLROnPlateau``, stepped after each
    validation).

    Args:
        monitor: Logged metric to watch, such as val/loss.
        mode: min or max: which direction is better.
        factor: Multiplier applied to the learning rate at each reduction.
        patience: Validations without improvement before reducing.
        min_lr: Floor of the learning rate.
    """
    from framework.training._plateau import Plateau

    return Plateau(optimizer, monitor, mode=mode, factor=factor, patience=patience, min_lr=min_lr)
