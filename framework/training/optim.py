"""Built-in optimizers and learning-rate schedules."""

from __future__ import annotations

import math
from typing import Any


def adamw(
    lr: float = 3e-4,
    betas: list[float] = [0.9, 0.95],  # noqa: B006 - copied into the schema
    eps: float = 1e-8,
    weight_decay: float = 0.1,
    *,
    params: Any,
) -> Any:
    """AdamW; weight decay applies only to the groups the engine marks for decay.

    Args:
        lr: Peak learning rate.
        betas: Coefficients of the running averages of the gradient and its square.
        eps: Term added to the denominator for stability.
        weight_decay: Decoupled weight decay of weight matrices and embeddings (biases and
            norms: none).
    """
    import torch

    return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)


def _warmup_then(warmup_steps: int, after: Any) -> Any:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return after(step)

    return factor


def cosine(
    warmup_steps: int = 100, min_lr_ratio: float = 0.1, *, optimizer: Any, total_steps: int
) -> Any:
    """Linear warmup, then cosine decay to ``min_lr_ratio`` x peak at the last step.

    Args:
        warmup_steps: Steps of linear warmup from 0 to the peak learning rate.
        min_lr_ratio: Final learning rate as a share of the peak.
    """
    import torch

    span = max(1, total_steps - warmup_steps)

    def after(step: int) -> float:
        progress = min(1.0, (step - warmup_steps) / span)
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then(warmup_steps, after))


def constant(warmup_steps: int = 0, *, optimizer: Any, total_steps: int) -> Any:
    """Constant learning rate after an optional linear warmup.

    Args:
        warmup_steps: Steps of linear warmup from 0 to the learning rate.
    """
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then(warmup_steps, lambda s: 1.0))
