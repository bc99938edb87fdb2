"""What installed plugins provided, remembered after they are gone: a recipe naming a
component (or a recipe) of an uninstalled plugin is told which package to reinstall.

The memory is ``providers.json`` in Plait's cache folder (``$PLAIT_CACHE``): ``"group/name"``
(``model/bigram``, ``recipe/example_bigram``) -> ``"distribution version"``, for plugins'
components and their YAML options (recipes, presets). It is rewritten only when an
installed plugin adds something new; a folder that cannot be written leaves the memory as it
was (it is a convenience, never a requirement).
"""

from __future__ import annotations

import json
from typing import Any

from framework.paths import plait_cache


def _memory_file() -> Any:
    return plait_cache("providers.json")


def _read() -> dict[str, str]:
    try:
        data = json.loads(_memory_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(registry: Any) -> None:
    """Record every plugin component of ``registry`` and every YAML option of installed
    ``plait.conf`` packages with the distribution that provides it."""
    from framework.components.presets import yaml_presets
    from framework.kinds import KINDS

    seen: dict[str, str] = {}
    for comp in registry.components():
        dist = registry.distributions.get(comp.provider)
        if dist is not None and comp.provider != "plait":
            seen[f"{KINDS[comp.kind].group}/{comp.name}"] = " ".join(dist)
    for preset in yaml_presets():
        if preset.source != "plait" and preset.provider != preset.source:  # a known dist
            seen[f"{preset.group}/{preset.name}"] = preset.provider
    if not seen:
        return
    memory = _read()
    if all(memory.get(k) == v for k, v in seen.items()):
        return
    memory.update(seen)
    path = _memory_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(memory, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def former_provider(group: str, name: str) -> str | None:
    """``"it came from plait-example 0.1.0, which is not installed: pip install
    plait-example"`` for a remembered option ``group/name`` (``model/bigram``,
    ``data/source/docstrings``, ``recipe/example_bigram``) whose distribution is gone; else
    None."""
    from importlib.metadata import PackageNotFoundError, version

    known = _read().get(f"{group}/{name}")
    if not known:
        return None
    dist = known.split(" ", 1)[0]
    try:
        version(dist)
        return None  # installed: the name is unknown for another reason
    except PackageNotFoundError:
        return f"it came from {known}, which is not installed: pip install {dist}"
