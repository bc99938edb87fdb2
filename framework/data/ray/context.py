"""What every step on Ray is handed, and the per-block statistics the data report is merged
from."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RayContext:
    """What a step's Ray form gets beside its data set."""

    name: str
    """The step's name in the recipe."""
    kind: str
    """``curate`` or ``clean``."""
    rows: int
    """Records going in."""
    seed: int
    """The run's seed."""
    cpus: float
    """CPUs each task reserves (``data.engine.cpus_per_task``)."""
    partitions: int
    """Partitions of a shuffle (group-by)."""


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON atomically (a retried task rewrites the same file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(value), "utf-8")
    os.replace(tmp, path)


def read_jsons(folder: Path) -> list[Any]:
    """Every JSON file of ``folder`` (none: empty)."""
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))]
