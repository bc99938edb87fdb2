"""Training from token shards as a stream: each DDP rank and DataLoader worker reads its own
shards, and a resumed run continues the stream exactly."""

from __future__ import annotations

import itertools
import random

import datasets
import numpy as np
import pytest
import torch

from framework.data.shard_stream import TokenShards
from framework.training.datamodule import PlaitDataModule


@pytest.fixture(scope="module")
def split():
    """Token ids of 900 GCIDE entries (a real split's shape: documents of varied length)."""
    from framework.data.sources.corpora import gcide_entries
    from framework.data.tokenizers import bpe

    texts = [t for _name, t in itertools.islice(gcide_entries(), 900)]
    tok = bpe(vocab_size=300)
    tok.train(texts)
    ids = [[*x, tok.eos_id] for x in tok.encode_batch(texts)]
    return datasets.Dataset.from_dict({"input_ids": ids})


def _batches(stream, n, workers=0, rank=0, world=1, start=0, batch=4):
    """The first ``n`` batches the data module's loader gives, as one tensor of inputs."""
    dm = PlaitDataModule({"train": stream}, batch_size=batch, seed=0, num_workers=workers)
    dm.start_batch = start
    loader = dm.train_dataloader()
    stream.rank, stream.world = rank, world  # what a trainer of ``world`` ranks would set
    out = []
    for x, y in itertools.islice(loader, n):
        assert torch.equal(x[:, 1:], y[:, :-1])  # the target is the input shifted by one
        out.append(x)
    return torch.cat(out)


def _dealt(stream, slot, slots, epoch=0):
    order = list(range(len(stream.shards)))
    random.Random(stream.seed + epoch).shuffle(order)
    return order[slot::slots]


def test_ranks_and_workers_read_disjoint_shards_covering_the_split(split):
    stream = TokenShards(split, shard_rows=50, block=32, seed=1)
    assert len(stream.shards) == 18
    dealt = [_dealt(stream, slot, 4) for slot in range(4)]  # 2 ranks x 2 workers
    assert sorted(k for d in dealt for k in d) == list(range(18))  # each shard once
    # slot 3 streams exactly the blocks of its own shards' tokens, nothing else
    ids = np.concatenate([stream.tokens(k) for k in dealt[3]])
    want = {tuple(ids[k * 32 : (k + 1) * 32 + 1]) for k in range((len(ids) - 1) // 32)}
    got = {tuple(b) for b in itertools.islice(stream._blocks(3, 4), len(want))}
    assert got == want


@pytest.mark.parametrize("workers", [0, 2])
def test_a_resumed_stream_continues_exactly_where_it_stopped(split, workers):
    whole = _batches(TokenShards(split, 60, 16, 4), 30, workers)
    for start in (7, 12):
        again = _batches(TokenShards(split, 60, 16, 4), 10, workers, start=start)
        assert torch.equal(again, whole[start * 4 : (start + 10) * 4])


def test_two_ranks_stream_different_blocks(split):
    a = _batches(TokenShards(split, 50, 16, 2), 10, rank=0, world=2)
    b = _batches(TokenShards(split, 50, 16, 2), 10, rank=1, world=2)
    assert not {tuple(r.tolist()) for r in a} & {tuple(r.tolist()) for r in b}


def test_more_readers_than_shards_is_one_line_before_any_worker_starts(split):
    from framework.errors import PlaitError

    stream = TokenShards(split, shard_rows=450, block=16, seed=0)  # 2 shards
    dm = PlaitDataModule({"train": stream}, batch_size=4, seed=0, num_workers=4)
    with pytest.raises(PlaitError, match="2 shards of <= 450 records for 4 readers"):
        dm.train_dataloader()
