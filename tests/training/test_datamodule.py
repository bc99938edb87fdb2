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


def test_length_buckets_keep_each_example_once_per_epoch_and_cut_padding():
    import random

    rng = random.Random(0)
    lengths = [rng.randint(1, 64) for _ in range(4000)]
    plain = StepBatchSampler(n=4000, batch_size=16, seed=3)
    bucketed = StepBatchSampler(n=4000, batch_size=16, seed=3, lengths=lengths)
    epoch = take(bucketed, 250)  # 4000 / 16 batches: one epoch
    assert sorted(i for batch in epoch for i in batch) == list(range(4000))

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b)
                   for b in batches)  # fmt: skip

    assert padding(epoch) < padding(take(plain, 250)) / 5
    # still shuffled: neither sorted overall nor the same order in the next epoch
    assert [lengths[b[0]] for b in epoch] != sorted(lengths[b[0]] for b in epoch)
    assert take(StepBatchSampler(n=4000, batch_size=16, seed=3, lengths=lengths, start=250),
                250) != epoch  # fmt: skip
    # resumable: the stream from batch 100 is the tail of the full stream
    resumed = take(StepBatchSampler(n=4000, batch_size=16, seed=3, lengths=lengths, start=100), 150)
    assert resumed == epoch[100:]


def test_evaluation_batches_are_length_buckets_and_any_prefix_is_a_fair_sample():
    import random
    import statistics

    from framework.training.datamodule import eval_batches

    rng = random.Random(1)
    lengths = [rng.randint(1, 64) for _ in range(3200)]
    batches = eval_batches(lengths, batch_size=32, seed=5)
    assert sorted(i for b in batches for i in b) == list(range(3200))
    assert all(max(lengths[i] for i in b) - min(lengths[i] for i in b) <= 2 for b in batches)
    first = [lengths[i] for b in batches[:20] for i in b]  # trainer.val_batches=20
    assert abs(statistics.mean(first) - statistics.mean(lengths)) < 6  # not the shortest 640
    assert eval_batches(lengths, 32, seed=5) == batches  # every validation, the same sample
