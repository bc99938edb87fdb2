"""Optimizer parameter groups."""

from __future__ import annotations

from typing import Any

from torch import nn


def param_groups(model: nn.Module, decay: tuple[list[Any], float] | None = None) -> list[dict]:
    """Trainable parameters split into decayed and undecayed groups.

    By default weight matrices and embeddings decay at the optimizer's ``weight_decay`` and
    biases and norms do not; ``decay`` (the parameters and coefficient of the
    ``weight_decay`` regularizer) replaces that choice.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    if decay is None:
        groups: list[dict[str, Any]] = [{"params": [p for p in trainable if p.ndim >= 2]}]
        rest = [p for p in trainable if p.ndim < 2]
    else:
        chosen = {id(p) for p in decay[0]}
        groups = [{"params": [p for p in trainable if id(p) in chosen], "weight_decay": decay[1]}]
        rest = [p for p in trainable if id(p) not in chosen]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups
