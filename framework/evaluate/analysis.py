"""What an evaluation computes for each task target: one registered analysis per target
(``class``, ``multilabel``, ``value``, ``tokens``; images are classes read from pixels), used
alike by ``plait eval``, ``plait predict``, ``plait compare`` and the HTML report, so none of
them switches on the target."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framework.errors import PlaitError


@dataclass(frozen=True)
class Analysis:
    """One target's evaluation."""

    kind: str
    """Its name in ``eval.json`` (``kind`` and the key of its numbers): ``classification``."""
    evaluate: Callable[..., dict[str, Any]]
    """``evaluate(m, evalset, registry, opts, out, charts)``: score the records, write
    ``predictions.csv`` and the charts (``charts``: caption -> file, filled in); returns
    ``{kind: numbers, "seconds": {...}}``."""
    predict: Callable[..., list[dict[str, Any]]]
    """``predict(m, texts, batch_size)``: one dict of output columns per text (``plait
    predict``)."""
    report: Callable[[dict[str, Any], list[Any]], list[str]]
    """``report(numbers, inputs)``: the HTML sections of the report."""
    paired: Callable[..., dict[str, dict[str, float]]] | None = None
    """``paired(a_rows, b_rows, idx)``: each headline metric's difference b - a between two
    runs' ``predictions.csv`` rows over the bootstrap resamples ``idx`` (value, replicates);
    None: ``plait compare`` shows the metrics side by side without a paired test."""
    samples: bool = False
    """Whether the report shows samples from the recipe's prompts (language models)."""
    empty_inputs: bool = True
    """Whether records with an empty text are scored (a language model skips them)."""


TARGET_ANALYSES: dict[str, str] = {
    "class": "classes",
    "multilabel": "multilabel",
    "value": "values",
    "tokens": "tokens",
}
"""Each task target's analysis: a module of ``framework.evaluate.targets`` whose ``ANALYSIS``
it is."""


def analysis_for(task: Any) -> Analysis:
    """The analysis of ``task``'s target (a task with no target is scored as classes)."""
    target = task.target or "class"
    if target not in TARGET_ANALYSES:
        raise PlaitError(
            f"no evaluation for target '{target}'; targets with one: {', '.join(TARGET_ANALYSES)}"
        )
    return _load(TARGET_ANALYSES[target])


def analysis_named(kind: str) -> Analysis:
    """The analysis whose ``kind`` an ``eval.json`` names."""
    for module in TARGET_ANALYSES.values():
        found = _load(module)
        if found.kind == kind:
            return found
    raise PlaitError(f"eval.json of kind '{kind}', which this Plait does not know; evaluate again")


def _load(module: str) -> Analysis:
    return importlib.import_module(f"framework.evaluate.targets.{module}").ANALYSIS
