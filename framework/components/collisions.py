"""Find config options that would hide one another on Hydra's search path."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from framework.components.presets import Preset, yaml_presets
from framework.kinds import KINDS

Registry = Any  # framework.registry.Registry (which imports this module)


def option_sources(registry: Registry) -> dict[str, set[tuple[str, str]]]:
    """(group, option) pairs per source, in the order Hydra searches them: Plait's conf/,
    each ``plait.conf`` package (by entry-point name), then the registry."""
    return _sources(registry, yaml_presets())


def _sources(registry: Registry, presets: list[Preset]) -> dict[str, set[tuple[str, str]]]:
    sources: dict[str, set[tuple[str, str]]] = {"plait:conf": set()}
    for p in presets:
        sources.setdefault(f"{p.source}:conf", set()).add((p.group, p.name))
    sources["registry"] = {(KINDS[c.kind].group, c.name) for c in registry.components()}
    return sources


def find_collisions(
    registry: Registry, presets: list[Preset] | None = None
) -> dict[tuple[str, str], list[str]]:
    """Options defined by more than one source; Hydra would silently take the first."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    found = _sources(registry, yaml_presets() if presets is None else presets)
    for source, options in found.items():
        for option in options:
            seen[option].append(source)
    return {opt: srcs for opt, srcs in seen.items() if len(srcs) > 1}


def shadowing_lines(registry: Registry) -> list[str]:
    """One line per option that a plugin's YAML folder ships where Plait or another package
    already defines it: both packages and the one Hydra uses (the first on its search
    path). Plait's own options never collide (a test checks that)."""
    presets = yaml_presets()
    labels = {f"{p.source}:conf": p.provider for p in presets}
    out = []
    for (group, name), sources in sorted(find_collisions(registry, presets).items()):
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
