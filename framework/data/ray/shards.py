"""Arrow shards written by Ray tasks, each renamed into place and then marked complete, so a
rerun skips what is done and never writes a shard twice; read back memory-mapped as
``datasets`` tables."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

MARK = ".done"
"""Suffix of a shard's completion marker (JSON: rows, tokens, the attempt that wrote it)."""


def marker(path: Path) -> Path:
    """The completion marker of shard ``path``."""
    return path.with_name(path.name + MARK)


def is_done(path: Path) -> bool:
    """Whether shard ``path`` was written completely."""
    return marker(path).is_file() and path.is_file()


def write_table(table: Any, path: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``table`` as an Arrow stream file (what ``datasets.Dataset.from_file`` maps), then
    its marker; returns the marker's content."""
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)
    done = {"rows": table.num_rows, "attempt": uuid.uuid4().hex, **(extra or {})}
    mark = marker(path)
    tmp_mark = mark.with_name(f".{mark.name}.{uuid.uuid4().hex[:8]}")
    tmp_mark.write_text(json.dumps(done), "utf-8")
    os.replace(tmp_mark, mark)
    return done


def load(paths: list[Path]) -> Any:
    """One ``datasets.Dataset`` over the shards, in order, memory-mapped (nothing copied)."""
    import datasets

    parts = [datasets.Dataset.from_file(str(p)) for p in paths]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


class WriteBlock:
    """A ``map_batches`` function writing each block as ``part-<first id>.arrow`` (a retried
    task rewrites the same name) and returning its path and size."""

    def __init__(self, folder: Path, schema: Any) -> None:
        self.folder, self.schema = folder, schema

    def __call__(self, table: Any) -> Any:
        import pyarrow as pa

        from framework.records import ROW

        if table.num_rows == 0:
            return pa.table({"path": pa.array([], pa.string()), "first": pa.array([], pa.int64()),
                             "rows": pa.array([], pa.int64())})  # fmt: skip
        first = int(table.column(ROW).to_numpy().min())
        path = self.folder / f"part-{first:012d}.arrow"
        write_table(table.cast(self.schema), path)
        return pa.table({"path": [str(path)], "first": [first], "rows": [table.num_rows]})
