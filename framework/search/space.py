"""A search space: what each searched config value may take, from the recipe's ``search.space``
and from the command line's sweep overrides (``optimizer.lr=1e-3,3e-4``,
``model.dropout=interval(0,0.5)``), checked before any trial starts.

In YAML each entry is one kind and its bounds or values::

    search:
      space:
        optimizer.lr: {log_interval: [1.0e-4, 1.0e-2]}
        model.dropout: {interval: [0.0, 0.5]}
        model.layers: {int: [1, 4]}
        model: {choice: [textcnn, lstm]}
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from framework.errors import PlaitError

KINDS = ("interval", "log_interval", "int", "log_int", "choice")
"""What a searched value may be: a float interval, the same sampled on a log scale, an integer
range (both ends included), the same on a log scale, or one of listed values."""


@dataclass(frozen=True)
class Param:
    """One searched config value."""

    path: str
    """Config path (``optimizer.lr``) or config group (``model``, ``data/tokenizer``)."""
    kind: str
    """One of :data:`KINDS`."""
    values: tuple[Any, ...]
    """``(low, high)`` for the ranges; the candidates of a ``choice``."""

    @property
    def discrete(self) -> bool:
        """Whether a grid can enumerate it."""
        return self.kind in ("choice", "int")

    def grid(self) -> list[Any]:
        """Every value of a discrete parameter, in order."""
        if self.kind == "choice":
            return list(self.values)
        low, high = self.values
        return list(range(int(low), int(high) + 1))

    def ends(self) -> list[Any]:
        """The values checked before the search starts: every choice, both ends of a range
        (whole numbers for an integer range: Hydra reads ``interval(64,256)`` as floats)."""
        if self.kind in ("int", "log_int"):
            return [int(v) for v in self.values]
        return list(self.values)

    def distribution(self) -> Any:
        """The Optuna distribution sampling it."""
        import optuna.distributions as D

        if self.kind == "choice":
            return D.CategoricalDistribution(list(self.values))
        low, high = self.values
        if self.kind in ("int", "log_int"):
            return D.IntDistribution(int(low), int(high), log=self.kind == "log_int")
        return D.FloatDistribution(float(low), float(high), log=self.kind == "log_interval")


def override(path: str, value: Any) -> str:
    """The command-line override setting ``path`` to ``value`` (floats written to round-trip
    exactly, so a trial's command line reproduces it)."""
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = str(value)
    return f"{path}={text}"


def from_yaml(space: Mapping[str, Any] | None) -> list[Param]:
    """Parse ``search.space`` (dotted keys, or nested mappings down to a one-key mapping
    naming a kind); a malformed entry is a :class:`PlaitError` naming it."""
    params: list[Param] = []
    for path, spec in (space or {}).items():
        where = f"search.space.{path}"
        leaf = isinstance(spec, Mapping) and len(spec) == 1
        if leaf and not isinstance(next(iter(spec.values())), Mapping):
            ((kind, values),) = spec.items()
            params.append(_param(str(path), str(kind), values, where))
        elif _nested(spec):
            params += [replace(p, path=f"{path}.{p.path}") for p in from_yaml(spec)]
        else:
            raise PlaitError(
                f"{where} must be one kind and its values, such as {{interval: [0.0, 0.5]}} or "
                f"{{choice: [a, b]}} (kinds: {', '.join(KINDS)})"
            )
    return params


def _param(path: str, kind: str, values: Any, where: str) -> Param:
    if kind not in KINDS:
        from framework.errors import did_you_mean

        raise PlaitError(f"{where}: unknown kind '{kind}'; {did_you_mean(kind, KINDS)}")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        values = [values]
    values = tuple(values)
    if kind == "choice":
        if not values:
            raise PlaitError(f"{where}: choice lists no values; give at least one")
        return Param(path, kind, values)
    if len(values) != 2 or not all(_number(v) for v in values):
        raise PlaitError(f"{where}: {kind} takes [low, high] as two numbers, not {list(values)}")
    low, high = values
    if low > high:
        raise PlaitError(f"{where}: {kind} [{low}, {high}] has low above high; swap them")
    if kind.startswith("log") and low <= 0:
        raise PlaitError(f"{where}: {kind} needs low above 0 (a log scale), not {low}")
    if kind.endswith("int") and not all(float(v).is_integer() for v in values):
        raise PlaitError(f"{where}: {kind} takes whole numbers, not {list(values)}")
    return Param(path, kind, (low, high))


def _nested(spec: Any) -> bool:
    """A mapping of config keys to further entries (``optimizer: {lr: {...}}``)."""
    return (
        isinstance(spec, Mapping)
        and bool(spec)
        and all(isinstance(v, Mapping) for v in spec.values())
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def from_overrides(overrides: Sequence[str]) -> tuple[list[Param], list[str]]:
    """Split command-line overrides into searched parameters (a choice or range sweep is a
    ``choice``; ``interval(a,b)`` an interval, ``tag(log, interval(a,b))`` a log interval,
    ``tag(int, ...)`` integers) and the fixed overrides, kept as written."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception as exc:
        raise PlaitError(f"cannot parse overrides: {str(exc).splitlines()[0]}") from None
    params, fixed = [], []
    for text, ov in zip(overrides, parsed):
        if not ov.is_sweep_override() or ov.key_or_group.startswith("hydra"):
            fixed.append(text)
            continue
        path = ov.get_key_element()
        if ov.is_interval_sweep():
            sweep = ov.value()
            tags = set(sweep.tags)
            kind = ("log_" if "log" in tags else "") + ("int" if "int" in tags else "interval")
            params.append(_param(path, kind, (sweep.start, sweep.end), f"the override {text}"))
        else:
            params.append(Param(path, "choice", tuple(ov.sweep_string_iterator())))
    return params, fixed


def combine(yaml_params: list[Param], cli_params: list[Param]) -> list[Param]:
    """The whole space; a path searched in both places is a :class:`PlaitError`."""
    seen = {p.path for p in yaml_params}
    both = [p.path for p in cli_params if p.path in seen]
    if both:
        raise PlaitError(
            f"'{both[0]}' is searched both in search.space and on the command line; keep one"
        )
    return [*yaml_params, *cli_params]


def grid(params: list[Param]) -> list[dict[str, Any]]:
    """Every combination of discrete parameters, the first varying slowest (Hydra's order)."""
    continuous = [p.path for p in params if not p.discrete]
    if continuous:
        raise PlaitError(
            f"a grid enumerates choices and integer ranges, and '{continuous[0]}' is an "
            "interval; give it as {choice: [...]} or use search=random or search=tpe"
        )
    names = [p.path for p in params]
    return [dict(zip(names, combo)) for combo in itertools.product(*(p.grid() for p in params))]


def variants(params: list[Param], limit: int) -> list[list[str]]:
    """Override lists covering every value to check before the search starts: every
    combination of the values :meth:`Param.ends` gives up to ``limit`` of them, else each
    value once with the others at their first."""
    import math

    axes = [[override(p.path, v) for v in p.ends()] for p in params]
    if math.prod(len(a) for a in axes) <= limit:
        return [list(c) for c in itertools.product(*axes)]
    base = [a[0] for a in axes]
    out = [base]
    for pos, values in enumerate(axes):
        out.extend([*base[:pos], v, *base[pos + 1 :]] for v in values[1:])
    return out
