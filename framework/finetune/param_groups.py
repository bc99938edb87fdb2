"""Optimizer parameter groups: weight decay on weight matrices, and per-layer learning rates
(layer-wise decay from the top block down, a head multiplier, multipliers by name pattern).

Every parameter is in a group, frozen ones too: torch's optimizers skip a parameter without
a gradient (no update, no weight decay), and a policy that thaws it later (gradual
unfreezing) finds it already there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from framework.errors import PlaitError

SCALE_KEY = "lr_scale"
"""Group key holding the multiplier of the optimizer's learning rate."""
LR_KEYS = ("lr_decay", "head_lr_scale", "lr_scales")
"""Optimizer config keys read here, not by the optimizer's builder."""


@dataclass
class LrScales:
    """Per-layer learning rates, as the optimizer config sets them."""

    lr_decay: float = 1.0
    """Layer-wise decay: the head trains at lr, the top block at lr x decay, the one below
    at lr x decay^2, ..., the embeddings at lr x decay^(blocks + 1); 1: one rate."""
    head_lr_scale: float = 1.0
    """Multiplier of the head's rate."""
    lr_scales: dict[str, float] = field(default_factory=dict)
    """Regex over parameter names -> multiplier (the first matching pattern applies)."""

    @classmethod
    def from_config(cls, node: Any) -> LrScales:
        """The scales an optimizer config node sets (defaults for the keys it lacks)."""
        get = node.get
        given = get("lr_scales") or {}
        if not hasattr(given, "items"):
            raise PlaitError(
                f"optimizer.lr_scales must map name regexes to multipliers, such as "
                f"{{'blocks\\.0\\.': 0.5}}, not {given!r}"
            )
        scales = {}
        for pattern, mult in given.items():
            if isinstance(mult, bool) or not isinstance(mult, (int, float)) or mult <= 0:
                raise PlaitError(
                    f"optimizer.lr_scales['{pattern}']={mult!r} must be a multiplier above 0"
                )
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise PlaitError(
                    f"optimizer.lr_scales: '{pattern}' is not a regular expression ({exc})"
                ) from None
            scales[str(pattern)] = float(mult)
        return cls(float(get("lr_decay", 1.0)), float(get("head_lr_scale", 1.0)), scales)

    @property
    def per_layer(self) -> bool:
        """Whether any rate differs from the optimizer's."""
        return self.lr_decay != 1.0 or self.head_lr_scale != 1.0 or bool(self.lr_scales)

    def of(self, model: Any) -> dict[str, tuple[str, float]]:
        """Parameter name -> (group label, multiplier)."""
        names = [n for n, _ in model.named_parameters()]
        for pattern in self.lr_scales:
            if not any(re.search(pattern, n) for n in names):
                raise PlaitError(
                    f"optimizer.lr_scales: '{pattern}' matches no parameter name (they look "
                    f"like {', '.join(names[:3])}, ...)"
                )
        if self.lr_decay != 1.0 or self.head_lr_scale != 1.0:
            from framework.finetune.structure import find_layout

            groups = find_layout(model).groups()
        else:
            groups = [("all", names)]
        depth = len(groups) - 1  # the head is groups[-1]
        out: dict[str, tuple[str, float]] = {}
        for level, (label, members) in enumerate(groups):
            scale = self.lr_decay ** (depth - level)
            if label == "head":
                scale *= self.head_lr_scale
            for n in members:
                out[n] = (label, scale)
        for n in names:
            for pattern, mult in self.lr_scales.items():
                if re.search(pattern, n):
                    label, scale = out[n]
                    out[n] = (f"{label} ~ {pattern}", scale * mult)
                    break
        return out


def param_groups(
    model: Any,
    decay: tuple[list[Any], float] | None = None,
    scales: LrScales | None = None,
) -> list[dict]:
    """Every parameter in decayed and undecayed groups, split further by learning-rate
    multiplier (``lr_scale``, applied by :func:`scale_learning_rates`).

    By default weight matrices and embeddings decay at the optimizer's ``weight_decay`` and
    biases and norms do not; ``decay`` (the parameters and coefficient of the
    ``weight_decay`` regularizer) replaces that choice.
    """
    chosen = {id(p) for p in decay[0]} if decay is not None else None
    rates = scales.of(model) if scales is not None and scales.per_layer else {}
    groups: dict[tuple[str, float, bool], dict[str, Any]] = {}
    for name, p in model.named_parameters():
        decayed = p.ndim >= 2 if chosen is None else id(p) in chosen
        label, scale = rates.get(name, ("all", 1.0))
        group = groups.setdefault((label, scale, decayed), {"params": [], "name": label,
                                                            SCALE_KEY: scale})  # fmt: skip
        if not decayed:
            group["weight_decay"] = 0.0
        elif decay is not None:
            group["weight_decay"] = decay[1]
        group["params"].append(p)
    return list(groups.values())


def scale_learning_rates(optimizer: Any) -> None:
    """Multiply each group's learning rate (the optimizer's, as built) by its ``lr_scale``;
    schedulers built afterwards keep the ratios through warmup and decay."""
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * group.get(SCALE_KEY, 1.0)
