"""Optimizer parameter groups."""

from __future__ import annotations

from typing import Any

from torch import nn


def param_groups(model: nn.Module) -> list[dict[str, Any]]:
    """Trainable parameters split into decayed matrices and undecayed biases and norms."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups: list[dict[str, Any]] = [{"params": decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups
