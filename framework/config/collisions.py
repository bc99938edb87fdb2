"""Find config options that would hide one another on Hydra's search path."""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import entry_points
from importlib.resources import files
from typing import Any

from framework.kinds import KINDS

Registry = Any  # framework.registry.Registry (which imports this module)


def _yaml_options(root: Any, prefix: str = "") -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for item in root.iterdir():
        if item.is_dir() and not item.name.startswith(("_", ".")):
            out |= _yaml_options(item, f"{prefix}{item.name}/")
        elif item.name.endswith(".yaml") and prefix:
            out.add((prefix.rstrip("/"), item.name[: -len(".yaml")]))
    return out


def option_sources(registry: Registry) -> dict[str, set[tuple[str, str]]]:
    """(group, option) pairs per source, in the order Hydra searches them: Plait's conf/,
    each ``plait.conf`` package (by entry-point name), then the registry."""
    sources = {"plait:conf": _yaml_options(files("framework.conf"))}
    for ep in sorted(entry_points(group="plait.conf"), key=lambda e: e.name):
        try:
            sources[f"{ep.name}:conf"] = _yaml_options(files(ep.value))
        except (ModuleNotFoundError, OSError, TypeError):
            continue  # a plugin whose package is gone: reported when it registers
    sources["registry"] = {(KINDS[c.kind].group, c.name) for c in registry.components()}
    return sources


def find_collisions(registry: Registry) -> dict[tuple[str, str], list[str]]:
    """Options defined by more than one source; Hydra would silently take the first."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, options in option_sources(registry).items():
        for option in options:
            seen[option].append(source)
    return {opt: srcs for opt, srcs in seen.items() if len(srcs) > 1}


def shadowing_lines(registry: Registry) -> list[str]:
    """One line per option that a plugin's YAML folder ships where Plait or another package
    already defines it: both packages and the one Hydra uses (the first on its search
    path). Plait's own options never collide (a test checks that)."""
    labels = {"plait:conf": "plait", "registry": "a registered component"}
    for ep in entry_points(group="plait.conf"):
        dist = getattr(ep, "dist", None)
        labels[f"{ep.name}:conf"] = f"{dist.name} {dist.version}" if dist else ep.name
    out = []
    for (group, name), sources in sorted(find_collisions(registry).items()):
        if all(s in ("plait:conf", "registry") for s in sources):
            continue
        named = [labels.get(s, s) for s in sources]
        if "registry" in sources:
            comp = next(c for c in registry.components() if (KINDS[c.kind].group, c.name)
                        == (group, name))  # fmt: skip
            named[sources.index("registry")] = (
                f"{registry.provider_label(comp.provider)} (registered)"
            )
        out.append(f"{group}/{name} is shipped by {' and by '.join(named)}; {named[0]}'s is used")
    return out
