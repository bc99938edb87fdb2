"""Checkpoints: atomic writes and finding the one to resume from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.fabric.utilities.cloud_io import _atomic_save
from lightning.pytorch.plugins.io import TorchCheckpointIO

from framework.errors import PlaitError


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write to a temporary file, fsync, then rename: a kill mid-write keeps the old file."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        _atomic_save(checkpoint, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def find_resume(resume: str | None, runs_root: Path, current: Path) -> str | None:
    """The checkpoint path for ``resume`` (None, ``auto`` or a path)."""
    if not resume:
        return None
    if resume != "auto":
        if not Path(resume).is_file():
            raise PlaitError(
                f"resume={resume}: no such checkpoint; give a .ckpt path or resume=auto"
            )
        return resume
    candidates = [p for p in runs_root.glob("*/checkpoints/last.ckpt") if current not in p.parents]
    if not candidates:
        raise PlaitError(
            f"resume=auto found no checkpoint under {runs_root}/*/checkpoints/; "
            "train once first, or give resume=PATH"
        )
    return str(max(candidates, key=lambda p: p.stat().st_mtime))
