"""The causal-LM token stream reads the split's Arrow chunks in place (memory-mapped data
cache and Ray shards) and cuts the same blocks as one concatenated tensor would."""

from __future__ import annotations

import datasets
import numpy as np
import torch

from framework.tasks.causal_lm import PackedBlocks, token_stream


def test_blocks_across_chunk_boundaries_equal_one_concatenated_tensor(tmp_path):
    rng = np.random.default_rng(0)
    parts = []
    for k in range(3):
        docs = [rng.integers(0, 500, rng.integers(1, 40)).tolist() for _ in range(50)]
        ds = datasets.Dataset.from_dict({"input_ids": docs})
        ds.save_to_disk(str(tmp_path / str(k)))
        parts.append(datasets.load_from_disk(str(tmp_path / str(k))))  # memory-mapped
    ds = datasets.concatenate_datasets(parts)
    flat = torch.tensor([t for ids in ds["input_ids"] for t in ids], dtype=torch.int32)
    stream = token_stream(ds)
    assert len(stream) == len(flat)
    assert torch.equal(stream[:], flat) and int(stream[-1]) == int(flat[-1])
    ours, ref = PackedBlocks(stream, 16), PackedBlocks(flat, 16)
    assert len(ours) == len(ref) > 10
    for i in range(len(ref)):
        assert all(torch.equal(a, b) for a, b in zip(ours[i], ref[i]))
    picked = ds.select([120, 3, 77])  # an indices mapping: read through it
    want = [t for i in (120, 3, 77) for t in ds[i]["input_ids"]]
    assert token_stream(picked)[:].tolist() == want
