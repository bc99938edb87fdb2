"""Curation and cleaning steps.

A step is any callable ``step(dataset, ctx) -> dataset``. Steps that treat each record on its
own derive from :class:`TextMap` or :class:`RowFilter`: they run as batched ``datasets``
``map``/``filter`` calls on ``ctx.num_proc`` processes, and also apply to a stream. Steps that
need the whole data set (dedupe, rare classes) are plain callables and cannot stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framework.errors import PlaitError
from framework.records import TEXT


@dataclass
class StepContext:
    """What the pipeline hands every step."""

    num_proc: int = 1
    """Processes for ``datasets`` map/filter calls."""
    seed: int = 0
    """The run's seed."""
    name: str = ""
    """The step's name in the recipe (for error messages)."""


def require_column(ds: Any, column: str, step: str) -> None:
    """Fail naming the step when ``column`` is missing."""
    if column not in ds.column_names:
        raise PlaitError(
            f"data step '{step}': no column '{column}'; columns: {', '.join(ds.column_names)}"
        )


def _proc(ds: Any, num_proc: int) -> int | None:
    return num_proc if num_proc > 1 and len(ds) >= 1000 * num_proc else None


class TextMap:
    """Rewrite the text of each record with a function ``str -> str``."""

    def __init__(self, fn: Callable[[str], str], column: str = TEXT) -> None:
        self.fn, self.column = fn, column

    def batch(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Apply to one batch of records."""
        fn = self.fn
        return {self.column: [fn(t) if isinstance(t, str) else t for t in batch[self.column]]}

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        return ds.map(self.batch, batched=True, num_proc=_proc(ds, ctx.num_proc), desc=ctx.name)


class RowFilter:
    """Keep the records for which ``keep(batch)`` says True."""

    column: str | None = TEXT

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """One flag per record of the batch."""
        raise NotImplementedError

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        if self.column is not None:
            require_column(ds, self.column, ctx.name)
        return ds.filter(self.keep, batched=True, num_proc=_proc(ds, ctx.num_proc), desc=ctx.name)


class FnFilter(RowFilter):
    """A :class:`RowFilter` from a per-text predicate."""

    def __init__(self, pred: Callable[[str], bool], column: str = TEXT) -> None:
        self.pred, self.column = pred, column

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """``pred`` of each text."""
        pred = self.pred
        return [isinstance(t, str) and pred(t) for t in batch[self.column]]
