"""The YAML options on Hydra's search path (recipes and every kind's presets) with the
package that ships each and the description in its leading comment: ``plait list``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Preset:
    """One YAML option of a config group."""

    group: str
    """Config group (``recipe``, ``model``, ``data/curate``)."""
    name: str
    """Option name (the file name without ``.yaml``)."""
    provider: str
    """The package that ships it: ``plait`` or ``DISTRIBUTION VERSION``."""
    doc: str
    """Its leading comment, whole (``# @package`` lines left out)."""
    extends: str
    """The options its ``defaults`` list names first (``gpt`` for ``gpt_small``), or ``''``."""


def _doc_and_base(text: str) -> tuple[str, str]:
    lines, base = [], ""
    body = text.splitlines()
    for line in body:
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("#").strip())
    for i, line in enumerate(body):
        if line.strip().startswith("defaults:"):
            rest = line.split(":", 1)[1].strip()
            items = [x.strip() for x in rest.strip("[]").split(",")] if rest else []
            for nxt in body[i + 1 :] if not rest else []:
                if not nxt.strip().startswith("- "):
                    break
                items.append(nxt.strip()[2:].strip())
            base = next((x for x in items if x and ":" not in x and x != "_self_"), "")
            break
    return " ".join(x for x in lines if x), base


def _walk(root: Any, provider: str, prefix: str, out: list[Preset]) -> None:
    for item in sorted(root.iterdir(), key=lambda i: i.name):
        if item.is_dir() and not item.name.startswith(("_", ".")):
            _walk(item, provider, f"{prefix}{item.name}/", out)
        elif item.name.endswith(".yaml") and prefix:
            doc, base = _doc_and_base(item.read_text(encoding="utf-8"))
            out.append(Preset(prefix.rstrip("/"), item.name[:-5], provider, doc, base))


def yaml_presets(group: str | None = None) -> list[Preset]:
    """Every YAML option (of ``group`` alone, when given), in Hydra's search order: Plait's
    own, then each ``plait.conf`` package's by entry-point name."""
    out: list[Preset] = []
    _walk(files("framework.conf"), "plait", "", out)
    for ep in sorted(entry_points(group="plait.conf"), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else ep.name
        with contextlib.suppress(ModuleNotFoundError, OSError, TypeError):
            _walk(files(ep.value), label, "", out)
    return [p for p in out if group is None or p.group == group]
