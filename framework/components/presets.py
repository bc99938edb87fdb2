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
    source: str
    """Where Hydra finds it: ``plait`` (Plait's own ``conf/``) or the ``plait.conf`` entry
    point's name."""
    provider: str
    """The package that ships it: ``plait`` or ``DISTRIBUTION VERSION`` (the entry point's
    name when its distribution is unknown)."""
    file: Any
    """The YAML file (an ``importlib.resources`` Traversable)."""

    def described(self) -> tuple[str, str]:
        """Its leading comment, whole (``# @package`` lines left out), and the option its
        ``defaults`` list names first (``gpt`` for ``gpt_small``; ``''`` for none)."""
        body = self.file.read_text(encoding="utf-8").splitlines()
        lines = []
        for line in body:
            if not line.startswith("#"):
                break
            if not line.startswith("# @package"):
                lines.append(line.lstrip("#").strip())
        return " ".join(x for x in lines if x), _first_default(body)


def _first_default(body: list[str]) -> str:
    for i, line in enumerate(body):
        if line.strip().startswith("defaults:"):
            rest = line.split(":", 1)[1].strip()
            items = [x.strip() for x in rest.strip("[]").split(",")] if rest else []
            for nxt in body[i + 1 :] if not rest else []:
                if not nxt.strip().startswith("- "):
                    break
                items.append(nxt.strip()[2:].strip())
            return next((x for x in items if x and ":" not in x and x != "_self_"), "")
    return ""


def _walk(root: Any, source: str, provider: str, prefix: str, out: list[Preset]) -> None:
    for item in sorted(root.iterdir(), key=lambda i: i.name):
        if item.is_dir() and not item.name.startswith(("_", ".")):
            _walk(item, source, provider, f"{prefix}{item.name}/", out)
        elif item.name.endswith(".yaml") and prefix:
            out.append(Preset(prefix.rstrip("/"), item.name[:-5], source, provider, item))


def yaml_presets(group: str | None = None) -> list[Preset]:
    """Every YAML option (of ``group`` alone, when given), in Hydra's search order: Plait's
    own, then each ``plait.conf`` package's by entry-point name (a package that is gone is
    left out: it is reported when its plugin registers). Reads no file."""
    out: list[Preset] = []
    _walk(files("framework.conf"), "plait", "plait", "", out)
    for ep in sorted(entry_points(group="plait.conf"), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else ep.name
        with contextlib.suppress(ModuleNotFoundError, OSError, TypeError):
            _walk(files(ep.value), ep.name, label, "", out)
    return [p for p in out if group is None or p.group == group]
