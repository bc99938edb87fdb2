"""Random access into dictzip files (``.dict.dz``: gzip whose deflate stream is flushed every
``chunk`` bytes, with the chunks' compressed sizes in the gzip header's ``RA`` field), so
that a task reads one byte range of a dictionary without unpacking what comes before it."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from framework.errors import PlaitError


class DictZip:
    """The chunk table of one dictzip file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            head = fh.read(12)
            if head[:3] != b"\x1f\x8b\x08" or not head[3] & 4:
                raise PlaitError(f"{path}: not a dictzip file (no gzip extra field)")
            (xlen,) = struct.unpack("<H", head[10:12])
            extra = fh.read(xlen)
            flags = head[3]
            pos = 12 + xlen
            for flag in (8, 16):  # a file name, a comment: zero-terminated
                if flags & flag:
                    fh.seek(pos)
                    while fh.read(1) not in (b"\0", b""):
                        pos += 1
                    pos += 1
            pos += 2 if flags & 2 else 0
        at = 0
        while at + 4 <= len(extra):
            sub, size = extra[at : at + 2], struct.unpack("<H", extra[at + 2 : at + 4])[0]
            if sub == b"RA":
                _version, chunk, count = struct.unpack("<HHH", extra[at + 4 : at + 10])
                sizes = struct.unpack(f"<{count}H", extra[at + 10 : at + 10 + 2 * count])
                break
            at += 4 + size
        else:
            raise PlaitError(f"{path}: not a dictzip file (no RA chunk table)")
        self.chunk = chunk
        """Uncompressed bytes per chunk (the last may be shorter)."""
        self.offsets = [pos]
        for size in sizes:
            self.offsets.append(self.offsets[-1] + size)

    @property
    def chunks(self) -> int:
        """How many chunks the file holds."""
        return len(self.offsets) - 1

    def read(self, first: int) -> Iterator[bytes]:
        """The uncompressed chunks from chunk ``first`` to the end, one at a time."""
        with open(self.path, "rb") as fh:
            for k in range(first, self.chunks):
                fh.seek(self.offsets[k])
                data = fh.read(self.offsets[k + 1] - self.offsets[k])
                yield zlib.decompressobj(-zlib.MAX_WBITS).decompress(data)
