"""Built-in optimizers over the engine's parameter groups."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import NON_NEGATIVE, POSITIVE, Check

BETAS = Check(length=2, each=Check(ge=0, lt=1))
"""Coefficients of Adam's running averages: two, each in [0, 1)."""


def adamw(
    lr: Annotated[float, NON_NEGATIVE] = 3e-4,
    betas: Annotated[list[float], BETAS] = [0.9, 0.95],  # noqa: B006 - copied into the schema
    eps: Annotated[float, POSITIVE] = 1e-8,
    weight_decay: Annotated[float, NON_NEGATIVE] = 0.1,
    fused: bool | None = None,
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
        fused: One kernel for the whole update (torch's ``fused=True``). null: fused where
            torch has the kernel for the parameters' device and type (CPU and CUDA floats),
            else torch's default; false: torch's default (a loop over the tensors on a CPU,
            4x slower on two cores); true: fused, an error where torch has no kernel.
    """
    import torch

    return with_fused(torch.optim.AdamW, params, fused, lr=lr, betas=tuple(betas), eps=eps,
                      weight_decay=weight_decay)  # fmt: skip


def with_fused(optimizer: Any, params: Any, fused: bool | None, **settings: Any) -> Any:
    """``optimizer(params, **settings)`` with torch's fused update as ``fused`` asks; None:
    fused where torch has the kernel for every parameter's device and type, else not."""
    if fused is None:
        params = [dict(g, params=list(g["params"])) if isinstance(g, dict) else g
                  for g in params]  # fmt: skip
        fused = fusable(params)
    return optimizer(params, fused=fused or None, **settings)


MIXED = ("16-mixed", "bf16-mixed")
"""Precisions run by Lightning's mixed-precision plugin."""


def clipping_refuses_fused(precision: str, grad_clip: float | None) -> bool:
    """Whether Lightning will refuse to clip the gradients of a fused optimizer: its
    mixed-precision plugin takes a fused update for one that unscales gradients itself."""
    return str(precision) in MIXED and bool(grad_clip)


def fused_setting(node: dict[str, Any], precision: str, grad_clip: float | None) -> dict[str, Any]:
    """An optimizer config node whose ``fused: null`` (fused where it can be) turns
    ``false`` where Lightning would refuse to clip a fused optimizer's gradients."""
    if "fused" in node and node["fused"] is None and clipping_refuses_fused(precision, grad_clip):
        return {**node, "fused": False}
    return node


def fusable(params: list[Any]) -> bool:
    """Whether torch has a fused update for each of ``params`` (tensors, or groups of them),
    by torch's own rule (``torch.optim``'s choice between its fused and foreach updates),
    which torch applies to ``fused=True`` only at the first step."""
    try:
        from torch.optim.optimizer import _default_to_fused_or_foreach
    except ImportError:  # a torch that moved it: its default update, never wrong
        return False
    tensors = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
    return bool(tensors) and _default_to_fused_or_foreach(tensors, False, use_fused=True)[0]


def adam(
    lr: Annotated[float, NON_NEGATIVE] = 1e-3,
    betas: Annotated[list[float], BETAS] = [0.9, 0.999],  # noqa: B006 - copied into the schema
    eps: Annotated[float, POSITIVE] = 1e-8,
    weight_decay: Annotated[float, NON_NEGATIVE] = 0.0,
    fused: bool | None = None,
    *,
    params: Any,
) -> Any:
    """Adam; ``weight_decay`` here is the classic L2 term added to the gradient (coupled),
    applied to the groups the engine marks for decay.

    Args:
        lr: Peak learning rate.
        betas: Coefficients of the running averages of the gradient and its square.
        eps: Term added to the denominator for stability.
        weight_decay: L2 coefficient added to the gradients of weight matrices and embeddings.
        fused: One kernel for the whole update, as AdamW's ``fused`` (null: where torch has
            the kernel).
    """
    import torch

    return with_fused(torch.optim.Adam, params, fused, lr=lr, betas=tuple(betas), eps=eps,
                      weight_decay=weight_decay)  # fmt: skip


def sgd(
    lr: Annotated[float, NON_NEGATIVE] = 0.1,
    momentum: Annotated[float, NON_NEGATIVE] = 0.9,
    nesterov: bool = False,
    weight_decay: Annotated[float, NON_NEGATIVE] = 0.0,
    *,
    params: Any,
) -> Any:
    """Stochastic gradient descent with momentum (optionally Nesterov's).

    Args:
        lr: Peak learning rate.
        momentum: Momentum factor (0: plain SGD).
        nesterov: Use Nesterov momentum (needs momentum > 0).
        weight_decay: L2 coefficient for weight matrices and embeddings.
    """
    import torch

    if nesterov and momentum <= 0:
        from framework.errors import PlaitError

        raise PlaitError("optimizer.nesterov=true needs optimizer.momentum above 0")
    return torch.optim.SGD(
        params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
    )
