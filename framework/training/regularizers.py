"""Built-in regularizers: ``dropout`` (changes the model), ``l1`` and ``l2`` (penalties added
to the loss and logged beside it) and ``weight_decay`` (decoupled decay through optimizer
parameter groups). Several can be selected at once: ``regularizer=[dropout,l2]``.

Parameters are selected by name with regular expressions matched against
``model.named_parameters()`` (``blocks\\.[0-3]\\.``); biases and norm weights (tensors of
one dimension) are left out unless ``include_1d`` says otherwise.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from framework.checks import NON_NEGATIVE, SHARE
from framework.errors import PlaitError


class Regularizer:
    """What the engine asks of a regularizer; each method may do nothing."""

    name = "regularizer"

    def apply(self, model: Any) -> None:
        """Change the model once, after it is built (and frozen)."""

    def penalty(self, model: Any) -> Any:
        """A scalar tensor added to the training loss, or None."""
        return None

    def decay(self, model: Any) -> tuple[list[Any], float] | None:
        """Parameters to decay and the coefficient, or None."""
        return None


def _compile(patterns: list[str], key: str) -> list[re.Pattern[str]]:
    try:
        return [re.compile(p) for p in patterns]
    except re.error as exc:
        raise PlaitError(
            f"regularizer.{key}: '{exc.pattern}' is not a regular expression ({exc})"
        ) from None


def select(model: Any, patterns: list[str], include_1d: bool, key: str) -> list[tuple[str, Any]]:
    """Trainable (name, parameter) pairs whose name matches one of ``patterns`` (all when
    empty); one-dimensional tensors only with ``include_1d``. None matching stops the run."""
    compiled = _compile(patterns, key)
    out = [
        (name, p)
        for name, p in model.named_parameters()
        if p.requires_grad
        and (include_1d or p.ndim >= 2)
        and (not compiled or any(c.search(name) for c in compiled))
    ]
    if not out:
        names = [n for n, _ in model.named_parameters()][:6]
        raise PlaitError(
            f"regularizer.{key}={patterns} selects no trainable parameter; names look like "
            f"{', '.join(names)}"
        )
    return out


class Penalty(Regularizer):
    """``coefficient x sum |w|^power`` over the selected parameters."""

    def __init__(self, name: str, power: int, coefficient: float, params: list[str],
                 include_1d: bool) -> None:  # fmt: skip
        self.name, self.power, self.coefficient = name, power, coefficient
        self.patterns, self.include_1d = params, include_1d
        self._selected: list[Any] | None = None

    def parameters(self, model: Any) -> list[Any]:
        """The selected parameters (chosen once, on first use)."""
        if self._selected is None:
            self._selected = [p for _, p in select(model, self.patterns, self.include_1d, "params")]
        return self._selected

    def penalty(self, model: Any) -> Any:
        """The penalty as a tensor on the parameters' device."""
        params = self.parameters(model)
        if self.power == 1:
            total = sum(p.abs().sum() for p in params)
        else:
            total = sum(p.pow(2).sum() for p in params)
        return self.coefficient * total


def l1(
    coefficient: Annotated[float, NON_NEGATIVE] = 1e-5,
    params: list[str] = [],  # noqa: B006 - copied into the schema
    include_1d: bool = False,
) -> Penalty:
    """L1 penalty ``coefficient x sum |w|`` added to the loss (drives weights to zero);
    logged as ``train/penalty/l1``.

    Args:
        coefficient: Strength of the penalty.
        params: Regular expressions selecting parameters by name (empty: all).
        include_1d: Also penalize biases and norm weights.
    """
    return Penalty("l1", 1, coefficient, list(params), include_1d)


def l2(
    coefficient: Annotated[float, NON_NEGATIVE] = 1e-4,
    params: list[str] = [],  # noqa: B006 - copied into the schema
    include_1d: bool = False,
) -> Penalty:
    """L2 penalty ``coefficient x sum w^2`` added to the loss (classic weight decay through
    the gradient); logged as ``train/penalty/l2``.

    Args:
        coefficient: Strength of the penalty.
        params: Regular expressions selecting parameters by name (empty: all).
        include_1d: Also penalize biases and norm weights.
    """
    return Penalty("l2", 2, coefficient, list(params), include_1d)


class WeightDecay(Regularizer):
    """Decoupled decay of the selected parameters through the optimizer's groups."""

    name = "weight_decay"

    def __init__(self, coefficient: float, params: list[str], include_1d: bool) -> None:
        self.coefficient, self.patterns, self.include_1d = coefficient, params, include_1d

    def decay(self, model: Any) -> tuple[list[Any], float]:
        """The selected parameters and the coefficient."""
        chosen = select(model, self.patterns, self.include_1d, "params")
        return [p for _, p in chosen], self.coefficient


def weight_decay(
    coefficient: Annotated[float, NON_NEGATIVE] = 0.01,
    params: list[str] = [],  # noqa: B006
    include_1d: bool = False,
) -> WeightDecay:
    """Decoupled weight decay (AdamW's) of the selected parameters, through optimizer
    parameter groups: it replaces the optimizer's own ``weight_decay``, and every other
    parameter gets none.

    Args:
        coefficient: Decay per step, as the optimizer's ``weight_decay``.
        params: Regular expressions selecting parameters by name (empty: all).
        include_1d: Also decay biases and norm weights.
    """
    return WeightDecay(coefficient, list(params), include_1d)


class Dropout(Regularizer):
    """Set dropout probabilities in the modules a pattern names."""

    name = "dropout"

    def __init__(self, p: float, modules: list[str]) -> None:
        if not 0.0 <= p < 1.0:
            raise PlaitError(f"regularizer.p must be in [0, 1), not {p}")
        self.p, self.patterns = p, modules
        self.changed: list[str] = []
        """Names of the modules set by :meth:`apply`."""

    def apply(self, model: Any) -> None:
        """Set ``p`` on every dropout the patterns select; stop if there is none."""
        from torch import nn

        compiled = _compile(self.patterns, "modules")
        for name, m in model.named_modules():
            if compiled and not any(c.search(name) for c in compiled):
                continue
            if isinstance(m, nn.Dropout):
                m.p = self.p
            elif isinstance(m, nn.MultiheadAttention) or (
                isinstance(m, nn.RNNBase) and m.num_layers > 1
            ):
                m.dropout = self.p
            elif isinstance(getattr(m, "attn_dropout", None), float):
                m.attn_dropout = self.p
            else:
                continue
            self.changed.append(name)
        if not self.changed:
            raise PlaitError(
                f"regularizer dropout: no dropout in the modules "
                f"{self.patterns or 'of the model'}; this model exposes none there"
            )


def dropout(p: Annotated[float, SHARE] = 0.1, modules: list[str] = []) -> Dropout:  # noqa: B006
    """Set the dropout probability of the model's dropout layers, attention dropout and
    dropout between recurrent layers, in all modules or those whose names match.

    Args:
        p: Probability of zeroing an activation.
        modules: Regular expressions selecting modules by name (``blocks\\.0\\.``,
            ``attn``); empty: every module.
    """
    return Dropout(p, list(modules))
