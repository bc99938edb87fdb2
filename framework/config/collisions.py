"""Find config options that would hide one another on Hydra's search path."""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import entry_points
from importlib.resources import files
from typing import Any

from framework.registry import KINDS, Registry


def _yaml_options(root: Any, prefix: str = "") -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for item in root.iterdir():
        if item.is_dir() and not item.name.startswith(("_", ".")):
            out |= _yaml_options(item, f"{prefix}{item.name}/")
        elif item.name.endswith(".yaml") and prefix:
            out.add((prefix.rstrip("/"), item.name[: -len(".yaml")]))
    return out


def option_sources(registry: Registry) -> dict[str, set[tuple[str, str]]]:
    """(group, option) pairs per source: Plait's conf/, each ``plait.conf`` package, registry."""
    sources = {"plait:conf": _yaml_options(files("framework.conf"))}
    for ep in entry_points(group="plait.conf"):
        sources[f"{ep.name}:conf"] = _yaml_options(files(ep.value))
    sources["registry"] = {(KINDS[c.kind].group, c.name) for c in registry.components()}
    return sources


def find_collisions(registry: Registry) -> dict[tuple[str, str], list[str]]:
    """Options defined by more than one source; Hydra would silently take the first."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, options in option_sources(registry).items():
        for option in options:
            seen[option].append(source)
    return {opt: srcs for opt, srcs in seen.items() if len(srcs) > 1}
