"""Declarative checks of config values: ranges, choices and lengths, declared where a value is
declared and applied when the config is composed, before any data work.

- On a builder's parameter: ``lr: Annotated[float, Check(gt=0)] = 3e-4``.
- On a schema dataclass field: ``field(default=16, metadata={"check": Check(ge=1)})``.

Every problem of a config is collected in one pass and reported on one line.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CHECK_KEY = "check"
"""Key of a dataclass field's metadata holding its :class:`Check`."""


@dataclass(frozen=True)
class Check:
    """A constraint on one value; null values pass (their type says whether null is allowed)."""

    ge: float | None = None
    """At least this."""
    gt: float | None = None
    """Above this."""
    le: float | None = None
    """At most this."""
    lt: float | None = None
    """Below this."""
    choices: tuple[Any, ...] | None = None
    """One of these."""
    length: int | None = None
    """Lists: exactly this many items."""
    each: Check | None = None
    """Lists: the check of every item."""
    pattern: str | None = None
    """Text: a regular expression the whole value must match."""
    says: str = ""
    """What a good value looks like, said when one is not (``at least 1, or -1: every GPU``)."""
    also: tuple[Any, ...] = ()
    """Values taken besides the range (``-1`` for "every visible GPU")."""

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (``must be above 0``), or None."""
        if value is None or value in self.also:
            return None
        if isinstance(value, (list, tuple)):
            if self.length is not None and len(value) != self.length:
                return f"must hold {self.length} values, not {len(value)}"
            if self.each is not None:
                for item in value:
                    wrong = self.each.problem(item)
                    if wrong:
                        return f"holds {item!r}, which {wrong}"
            return None
        if self.choices is not None and value not in self.choices:
            return "must be one of " + ", ".join(str(c) for c in self.choices)
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            return f"must be {self.says or 'of the form ' + self.pattern}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        said, ok = [], True
        for limit, holds, words in (
            (self.ge, operator.ge, "at least"),
            (self.gt, operator.gt, "above"),
            (self.le, operator.le, "at most"),
            (self.lt, operator.lt, "below"),
        ):
            if limit is not None:
                said.append(f"{words} {limit:g}")
                ok = ok and holds(value, limit)
        return None if ok else "must be " + (self.says or " and ".join(said))


POSITIVE = Check(gt=0)
"""Above zero (learning rates, epsilons, temperatures)."""
COUNT = Check(ge=1)
"""A whole number of at least one (sizes, steps, layers)."""
NON_NEGATIVE = Check(ge=0)
"""Zero or more (weight decay, workers)."""
SHARE = Check(ge=0, lt=1)
"""A probability or share in [0, 1) (dropout, split shares)."""
UNIT = Check(ge=0, le=1)
"""In [0, 1] (label smoothing, ratios)."""
DEVICES = Check(ge=1, also=(-1,), says="at least 1, or -1 (every visible GPU)")
"""A device count: at least one, or -1 for every one there is."""


def field_checks(cls: type) -> dict[str, Check]:
    """Checks declared on a dataclass's fields (``metadata={"check": ...}``)."""
    return {
        f.name: f.metadata[CHECK_KEY] for f in dataclasses.fields(cls) if CHECK_KEY in f.metadata
    }


def signature_checks(builder: Callable[..., Any]) -> dict[str, Check]:
    """Checks declared on a builder's parameters (``Annotated[T, Check(...)]``)."""
    try:
        hints = typing.get_type_hints(builder, include_extras=True)
    except Exception:  # unresolvable annotations: nothing declared that we can read
        return {}
    out = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is typing.Annotated:
            found = [m for m in hint.__metadata__ if isinstance(m, Check)]
            if found:
                out[name] = found[0]
    return out
