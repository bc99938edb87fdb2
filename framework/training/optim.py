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
    fused: bool = False,
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
        fused: One fused kernel for the whole update (torch's ``fused=True``; fastest on a
            GPU).
    """
    import torch

    return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps,
                             weight_decay=weight_decay, fused=fused or None)  # fmt: skip


def adam(
    lr: Annotated[float, NON_NEGATIVE] = 1e-3,
    betas: Annotated[list[float], BETAS] = [0.9, 0.999],  # noqa: B006 - copied into the schema
    eps: Annotated[float, POSITIVE] = 1e-8,
    weight_decay: Annotated[float, NON_NEGATIVE] = 0.0,
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
    """
    import torch

    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)


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
