"""The training order: endless, seeded, exactly resumable, disjoint across ranks."""

from __future__ import annotations

from itertools import islice

from framework.training.datamodule import StepBatchSampler


def take(sampler, n):
    return list(islice(iter(sampler), n))


def test_resuming_at_batch_k_continues_the_same_stream():
    full = take(StepBatchSampler(n=50, batch_size=4, seed=7), 40)
    resumed = take(StepBatchSampler(n=50, batch_size=4, seed=7, start=23), 17)
    assert resumed == full[23:]


def test_each_epoch_is_a_new_permutation_without_repeats():
    s = StepBatchSampler(n=40, batch_size=4, seed=1)
    batches = take(s, 20)
    first, second = sum(batches[:10], []), sum(batches[10:], [])
    assert sorted(first) == list(range(40)) == sorted(second)
    assert first != second
    assert take(StepBatchSampler(n=40, batch_size=4, seed=2), 10) != batches[:10]


def test_ranks_take_disjoint_slices_of_each_global_batch():
    r0 = take(StepBatchSampler(n=64, batch_size=4, seed=0, rank=0, world=2), 8)
    r1 = take(StepBatchSampler(n=64, batch_size=4, seed=0, rank=1, world=2), 8)
    seen = sum(r0, []) + sum(r1, [])
    assert len(seen) == len(set(seen)) == 64


def test_fewer_examples_than_a_batch_wraps_around():
    assert take(StepBatchSampler(n=3, batch_size=5, seed=0), 1)[0].__len__() == 5
