"""What a task predicts and reads, and which losses, metrics and models fit it.

Builders declare it with :func:`fits` (targets) and :func:`reads` (inputs); the config is
checked against the task when it is composed, before any data work. A builder that declares
nothing (a third party's, say) is taken to fit every task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from framework.errors import PlaitError

TARGETS = ("tokens", "class", "multilabel", "value")
"""``tokens``: next-token prediction; ``class``: one class per example; ``multilabel``: any
subset of the classes; ``value``: a number per example."""
INPUTS = ("tokens", "images")

F = TypeVar("F", bound=Callable[..., Any])


def fits(*targets: str) -> Callable[[F], F]:
    """Mark a loss, metric or model builder as fitting these targets."""

    def mark(fn: F) -> F:
        fn.fits = targets  # type: ignore[attr-defined]
        return fn

    return mark


def reads(inputs: str) -> Callable[[F], F]:
    """Mark a model builder as reading ``tokens`` or ``images``."""

    def mark(fn: F) -> F:
        fn.reads = inputs  # type: ignore[attr-defined]
        return fn

    return mark


_SAID = {
    "tokens": "predicts next tokens",
    "class": "predicts one class per example",
    "multilabel": "predicts a set of labels per example",
    "value": "predicts a number per example",
}


def check_fit(
    kind: str, name: str, builder: Any, task_name: str, task: Any, fitting: list[str]
) -> None:
    """Stop when component ``name`` does not fit ``task``; ``fitting``: the names that do."""
    targets = getattr(builder, "fits", None)
    if targets is not None and task.target is not None and task.target not in targets:
        raise PlaitError(
            f"{kind} '{name}' does not fit task {task_name}, which {_SAID[task.target]}; "
            f"{'losses' if kind == 'loss' else kind + 's'} that fit: {', '.join(fitting) or 'none'}"
        )
    inputs = getattr(builder, "reads", None)
    if inputs is not None and task.inputs is not None and inputs != task.inputs:
        raise PlaitError(
            f"model '{name}' reads {inputs}; task {task_name} feeds it {task.inputs}: "
            f"choose one of {', '.join(fitting) or 'none'}"
        )


def fitting_names(registry: Any, kind: str, task: Any) -> list[str]:
    """Registered ``kind`` components that fit ``task``."""
    out = []
    for comp in registry.components(kind):
        targets = getattr(comp.builder, "fits", None)
        inputs = getattr(comp.builder, "reads", None)
        fits_target = targets is None or task.target is None or task.target in targets
        if fits_target and (inputs is None or task.inputs in (None, inputs)):
            out.append(comp.name)
    return out
