"""``key=value`` options of the commands that take no recipe (``generate``, ``eval``,
``predict``): typed, unknown keys refused with the nearest name."""

from __future__ import annotations

from typing import Any

from framework.errors import PlaitError, did_you_mean


def as_list(value: str) -> list[str]:
    """``[a,b]`` or ``a,b`` as a list of names."""
    inner = value.strip().removeprefix("[").removesuffix("]")
    return [v.strip() for v in inner.split(",") if v.strip()]


def parse_options(
    items: list[str], options: dict[str, tuple[Any, Any]], example: str,
    passthrough: tuple[str, ...] = (),
) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """Typed options from ``key=value`` items (``options``: key -> (type, default); a type
    ``list`` reads ``[a,b]``), and the items whose key starts with one of ``passthrough``
    (config overrides such as ``data.source.paths=[new.csv]``), in order."""
    opts = {k: default for k, (_, default) in options.items()}
    rest = []
    for item in items:
        if item == "--verbose":
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise PlaitError(f"expected key=value, got '{item}'; e.g. {example}")
        if key.startswith(passthrough):
            rest.append(item)
            continue
        if key not in options:
            raise PlaitError(f"unknown option '{key}'; {did_you_mean(key, options)}")
        typ = options[key][0]
        try:
            opts[key] = as_list(value) if typ is list else typ(value)
        except ValueError:
            raise PlaitError(f"{key}={value!r} is not a {typ.__name__}") from None
    return opts, rest
