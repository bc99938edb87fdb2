"""Training from token shards as a stream (``data.train_stream``): every DDP rank and every
DataLoader worker reads its own shards of the training split, one at a time and memory-mapped,
packs their tokens into blocks and shuffles them in a bounded buffer. Nothing holds the split:
a corpus the Ray engine wrote to shared storage trains without fitting one machine's memory.

A shard is ``data.engine.shard_rows`` records of the split in order: on the Ray engine each is
one of its token-shard files; on the local engine a slice of the cached table of the same
size, so both engines give the same stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.utils.data

from framework.errors import PlaitError
from framework.records import arrow_rows

SHUFFLE_BLOCKS = 2048
"""Blocks held in a worker's shuffle buffer."""


class SlotStream(torch.utils.data.IterableDataset):
    """An endless stream split into slots, one per (DDP rank, DataLoader worker); the data
    module sets ``rank``, ``world``, ``batch_size`` and ``start_batch`` (resuming).

    The DataLoader takes batches from its workers in turn, so worker ``w`` serves batches
    ``w, w + W, ...`` of the loader. Resuming at batch ``S``, worker ``w`` plays the part of
    worker ``(w + S) mod W`` of the interrupted run and skips the batches that one served:
    the stream continues exactly where it stopped."""

    rank = 0
    world = 1
    batch_size = 1
    start_batch = 0

    def slot(self) -> tuple[int, int, int]:
        """(this worker's slot, how many slots, blocks to skip)."""
        info = torch.utils.data.get_worker_info()
        workers, wid = (info.num_workers, info.id) if info else (1, 0)
        role = (wid + self.start_batch) % workers
        served = max(0, -(-(self.start_batch - role) // workers))
        return self.rank * workers + role, self.world * workers, served * self.batch_size

    def check_readers(self, readers: int) -> None:
        """Stop, before any worker starts, when ``readers`` slots cannot all be given data."""

    def _blocks(self, slot: int, slots: int) -> Iterator[Any]:
        """The endless blocks (``block + 1`` token ids each) of slot ``slot``."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        slot, slots, skip = self.slot()
        for i, b in enumerate(self._blocks(slot, slots)):
            if i < skip:
                continue
            t = torch.as_tensor(b, dtype=torch.long)
            yield t[:-1], t[1:]


def shuffled(blocks: Iterable[Any], rng: random.Random) -> Iterator[Any]:
    """``blocks`` through a shuffle buffer of ``SHUFFLE_BLOCKS``: each new block takes the
    place of a random held one, which is yielded; the rest, shuffled, at the end."""
    held: list[Any] = []
    for b in blocks:
        if len(held) < SHUFFLE_BLOCKS:
            held.append(b)
            continue
        j = rng.randrange(SHUFFLE_BLOCKS)
        yield held[j]
        held[j] = b
    rng.shuffle(held)
    yield from held


def shard_ranges(rows: int, shard_rows: int) -> list[tuple[int, int]]:
    """The record ranges of a split's shards, in order."""
    return [(a, min(a + shard_rows, rows)) for a in range(0, rows, shard_rows)]


class TokenShards(SlotStream):
    """(input, target) blocks of ``block`` tokens from the training split's shards.

    Epoch ``e`` deals the shards to the slots in an order seeded by ``seed + e``; a slot
    reads its shards' token ids in turn (each record ending in end-of-text, as the data stage
    wrote them), cuts blocks of ``block + 1`` tokens overlapping by one (as an indexed split
    does) and yields them through a seeded shuffle buffer."""

    def __init__(self, table: Any, shard_rows: int, block: int, seed: int) -> None:
        super().__init__()
        self.table, self.block, self.seed, self.shard_rows = table, block, seed, shard_rows
        self.shards = shard_ranges(len(table), shard_rows)

    def tokens(self, shard: int) -> np.ndarray:
        """The token ids of shard ``shard``, read from its Arrow data in place."""
        a, b = self.shards[shard]
        col = arrow_rows(self.table, a, b, ["input_ids"]).column("input_ids")
        parts = [c.flatten().to_numpy(zero_copy_only=False) for c in col.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def check_readers(self, readers: int) -> None:
        """Every reader (rank x DataLoader worker) needs a shard of its own."""
        if len(self.shards) < readers:
            raise PlaitError(
                f"data.train_stream: the training split has {len(self.shards)} shards of "
                f"<= {self.shard_rows:,} records for {readers} readers (ranks x DataLoader "
                "workers); lower data.engine.shard_rows or trainer.num_workers"
            )

    def _blocks(self, slot: int, slots: int) -> Iterator[np.ndarray]:
        epoch = 0
        while True:
            order = list(range(len(self.shards)))
            random.Random(self.seed + epoch).shuffle(order)
            mine = order[slot::slots]
            rng = random.Random((self.seed * 1000 + epoch) * 7919 + slot)
            yield from shuffled(self._cut(mine), rng)
            epoch += 1

    def _cut(self, shards: list[int]) -> Iterator[np.ndarray]:
        """Blocks of ``block + 1`` tokens overlapping by one, across the shards in turn."""
        rest = np.zeros(0, np.int32)
        for shard in shards:
            ids = np.concatenate([rest, self.tokens(shard).astype(np.int32, copy=False)])
            n = (len(ids) - 1) // self.block
            for k in range(n):
                yield ids[k * self.block : (k + 1) * self.block + 1]
            rest = ids[n * self.block :]
