"""A component's config schema: generated from its builder's signature (or checked when a
provider gives one), and described for ``plait list``: the types OmegaConf holds, the
defaults, the docstring's argument lines."""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from framework.errors import PlaitError
from framework.kinds import KINDS, NAME_KEY

_OMEGACONF_SCALARS = (int, float, str, bool)


def check_schema(kind: str, name: str, schema: type) -> None:
    """A component's schema as OmegaConf will hold it: every default of its declared type,
    every type one OmegaConf supports; the PlaitError names the field and the fix."""
    from omegaconf import OmegaConf

    try:
        OmegaConf.structured(schema)
    except Exception as exc:
        said = " ".join(str(exc).split("\n")[0].split())
        key = getattr(exc, "full_key", None) or getattr(exc, "key", None)
        where = f"field '{key}'" if key else "its schema"
        raise PlaitError(
            f"{kind} '{name}' has a bad schema ({where}: {said}); give each field a default "
            "of its declared type and a type OmegaConf holds (int, float, str, bool, a list "
            "or dict of them, Optional, Any)"
        ) from None


def schema_for(kind: str, name: str, builder: Callable[..., Any], schema: type | None) -> type:
    """The option's dataclass: the provider's ``schema`` with ``_name_`` and the kind's common
    fields added, or one generated from the builder's configurable parameters (runtime
    keyword-only ones left out) and their defaults."""
    cls_name = "".join(p.capitalize() for p in f"{name}_{kind}".split("_")) + "Config"
    if schema is not None:
        if not dataclasses.is_dataclass(schema):
            raise PlaitError(f"schema of {kind} '{name}' must be a dataclass, not {schema!r}")
        extra: list[tuple[str, Any, Any]] = [(NAME_KEY, str, dataclasses.field(default=name))]
        extra += [_common_field(c) for c in KINDS[kind].common]
        return dataclasses.make_dataclass(cls_name, extra, bases=(schema,))
    try:
        hints = typing.get_type_hints(builder)
    except Exception:
        hints = {}
    fields: list[tuple[str, Any, Any]] = [(NAME_KEY, str, dataclasses.field(default=name))]
    for p in inspect.signature(builder).parameters.values():
        if p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        typ = omegaconf_type(hints.get(p.name, Any))
        if p.default is p.empty:
            fields.append((p.name, typ, dataclasses.field(default=dataclasses.MISSING)))
        elif isinstance(p.default, (list, dict)):
            fields.append((p.name, typ, dataclasses.field(default_factory=_copier(p.default))))
        else:
            fields.append((p.name, typ, dataclasses.field(default=p.default)))
    fields += [_common_field(c) for c in KINDS[kind].common]
    # dataclasses want fields without defaults first
    required = [f for f in fields if _is_required(f)]
    optional = [f for f in fields if not _is_required(f)]
    return dataclasses.make_dataclass(cls_name, required + optional)


def _common_field(c: Any) -> tuple[str, Any, Any]:
    if isinstance(c.default, (list, dict)):
        return (c.name, c.type, dataclasses.field(default_factory=_copier(c.default)))
    return (c.name, c.type, dataclasses.field(default=c.default))


def _is_required(f: tuple[str, Any, Any]) -> bool:
    field = f[2]
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _copier(value: Any) -> Callable[[], Any]:
    import copy

    return lambda: copy.deepcopy(value)


def omegaconf_type(tp: Any) -> Any:
    """Map an annotation to one OmegaConf can validate, or ``Any``."""
    if tp in _OMEGACONF_SCALARS or tp is Any:
        return tp
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            inner = omegaconf_type(rest[0])
            return Any if inner is Any else typing.Optional[inner]  # noqa: UP045
        return Any
    if origin in (list, typing.List):  # noqa: UP006
        inner = omegaconf_type(args[0]) if args else Any
        return typing.List[inner]  # noqa: UP006
    if origin in (dict, typing.Dict):  # noqa: UP006
        inner = omegaconf_type(args[1]) if len(args) == 2 else Any
        return typing.Dict[str, inner]  # noqa: UP006
    return Any


def type_name(tp: Any) -> str:
    """``int``, ``list[str]``, ``float | None``, ``Any``: the type as a user writes it."""
    if tp in _OMEGACONF_SCALARS:
        return tp.__name__
    if tp is Any:
        return "Any"
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        return " | ".join("None" if a is type(None) else type_name(a) for a in args)
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(type_name(a) for a in args)}]"
    return str(tp).replace("typing.", "")


def arg_docs(doc: str) -> dict[str, str]:
    """Parse the ``Args:`` section of a Google-style docstring into {name: description}."""
    out: dict[str, str] = {}
    lines = inspect.cleandoc(doc).splitlines()
    in_args, current = False, None
    for line in lines:
        if line.strip() in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if not in_args:
            continue
        if line and not line.startswith(" "):
            break
        m = re.match(r"^\s{2,4}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current and line.strip():
            out[current] += " " + line.strip()
    return out
