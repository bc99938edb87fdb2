"""Whether a model, loss or metric fits the task: its declared ``fits`` (targets) and
``reads`` (inputs) against the task's ``target`` and ``inputs``, checked when the config is
composed, before any data work. A component that declares nothing fits every task."""

from __future__ import annotations

from typing import Any

from framework.contract import INPUTS, TARGETS, Contract
from framework.errors import PlaitError

__all__ = ["INPUTS", "TARGETS", "check_fit", "fits_task", "fitting_names"]

_SAID = {
    "tokens": "predicts next tokens",
    "class": "predicts one class per example",
    "multilabel": "predicts a set of labels per example",
    "value": "predicts a number per example",
}
_PLURAL = {"loss": "losses", "model": "models", "metric": "metrics"}


def fits_task(contract: Contract, task: Any) -> bool:
    """Whether a component with ``contract`` fits ``task`` (target and inputs)."""
    fits_target = contract.fits is None or task.target is None or task.target in contract.fits
    fits_inputs = contract.reads is None or task.inputs is None or contract.reads == task.inputs
    return fits_target and fits_inputs


def check_fit(
    kind: str, name: str, contract: Contract, task_name: str, task: Any, fitting: list[str]
) -> None:
    """Stop when component ``name`` does not fit ``task``; ``fitting``: the names that do."""
    choices = ", ".join(fitting) or "none"
    if contract.fits is not None and task.target is not None and task.target not in contract.fits:
        raise PlaitError(
            f"{kind} '{name}' does not fit task {task_name}, which {_SAID[task.target]}; "
            f"{_PLURAL.get(kind, kind + 's')} that fit: {choices}"
        )
    if contract.reads is not None and task.inputs is not None and contract.reads != task.inputs:
        raise PlaitError(
            f"model '{name}' reads {contract.reads}; task {task_name} feeds it {task.inputs}: "
            f"choose one of {choices}"
        )


def fitting_names(registry: Any, kind: str, task: Any) -> list[str]:
    """Registered ``kind`` components that fit ``task``."""
    return [c.name for c in registry.components(kind) if fits_task(c.contract, task)]
