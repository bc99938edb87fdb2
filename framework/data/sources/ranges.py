"""Pieces of big files, so that a distributed engine reads one file on several tasks: byte
ranges of line-based files (each piece owns the lines that start inside its range) and
groups of row groups of Parquet files. What the engine hands a source's builder is the
source's own config plus the piece (``byte_range`` and ``first_line``, or ``row_groups``);
the records of the pieces, in order, are the records of the whole file."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RANGE_BYTES = 16 << 20
"""Bytes of a file read by one task (a file this size or smaller is read whole)."""
COMPRESSED = (".gz", ".dz", ".bz2", ".xz", ".zst")
"""Suffixes of files read whole (byte offsets of a compressed file are not its text's)."""


def line_pieces(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``shards`` of a source of line records: one config per file, a file over
    ``RANGE_BYTES`` in byte ranges (a mapping of named splits stays whole)."""
    from framework.records import collect

    paths = params.get("paths")
    if isinstance(paths, Mapping) or not paths:
        return [dict(params)]
    out: list[dict[str, Any]] = []
    for path in collect([paths] if isinstance(paths, str) else list(paths)):
        size = path.stat().st_size
        if size <= RANGE_BYTES or path.suffix in COMPRESSED:
            out.append({**params, "paths": [str(path)]})
            continue
        for start in range(0, size, RANGE_BYTES):
            piece = [start, min(size, start + RANGE_BYTES)]
            out.append({**params, "paths": [str(path)], "byte_range": piece})
    return out


def row_group_pieces(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``shards`` of a Parquet source: one config per file, a file over ``RANGE_BYTES`` in
    runs of row groups of about that size."""
    import pyarrow.parquet as pq

    from framework.records import collect

    out: list[dict[str, Any]] = []
    for path in collect(list(params.get("paths") or [])):
        meta = pq.ParquetFile(path).metadata
        sizes = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
        if sum(sizes) <= RANGE_BYTES or len(sizes) < 2:
            out.append({**params, "paths": [str(path)]})
            continue
        start, held = 0, 0
        for i, size in enumerate(sizes):
            held += size
            if held >= RANGE_BYTES or i == len(sizes) - 1:
                out.append({**params, "paths": [str(path)], "row_groups": [start, i + 1]})
                start, held = i + 1, 0
    return out


def line_starts(path: str | Path, start: int, end: int) -> int:
    """How many lines start at a byte of ``[start, end)`` (a line starts at 0 and after each
    newline): summed over the pieces before one, the number of its first line."""
    if end <= start:
        return 0
    lo = max(start - 1, 0)
    count = 1 if start == 0 else 0
    with open(path, "rb") as fh:
        fh.seek(lo)
        left = end - 1 - lo
        while left > 0:
            block = fh.read(min(left, 1 << 22))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def read_lines(path: str | Path, byte_range: list[int] | tuple[int, int]) -> bytes:
    """The bytes of the lines of ``path`` that start inside ``[start, end)``, whole (the
    last one read past ``end`` to its newline)."""
    start, end = int(byte_range[0]), int(byte_range[1])
    with open(path, "rb") as fh:
        if start > 0:
            fh.seek(start - 1)
            if fh.read(1) != b"\n":
                fh.readline()  # the rest of a line that started in the piece before
        first = fh.tell()
        if first >= end:
            return b""
        body = fh.read(end - first)
        if not body.endswith(b"\n"):
            body += fh.readline()
    return body


def lines_of(data: bytes) -> Any:
    """The lines of ``data`` split at newlines alone, as a binary file iterates them."""
    return iter(io.BytesIO(data))
