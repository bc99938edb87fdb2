"""int8 dynamic quantization of a frozen prefix (``trainer.quantize_frozen``): MiniLM's frozen
blocks run in int8 the linear layers that stay within the tolerance on a calibration batch,
in training mode only; the trainable blocks' gradients stay close to float32's, and the
model's own weights (checkpoints, export, evaluation) are untouched."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from framework.config.validate import check_quantize_frozen
from framework.errors import PlaitError
from framework.finetune.freeze import first_n
from framework.tasks.text_batches import PadCollate, TokenDataset, forward_text
from framework.training.quantized_prefix import TOLERANCE, quantize_frozen_prefix
from tests.training.test_prefix_cache import minilm  # noqa: F401 (the fixture)


@pytest.fixture
def quiet_minilm(request):
    """MiniLM without dropout: training-mode forwards compared without its noise."""
    model = request.getfixturevalue("minilm")
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def _batch(n: int = 8) -> tuple[torch.Tensor, ...]:
    rnd = np.random.default_rng(0)
    ids = [[101, *rnd.integers(1000, 20000, size=int(rnd.integers(3, 20))).tolist(), 102]
           for _ in range(n)]  # fmt: skip
    data = TokenDataset(ids, [i % 3 for i in range(n)])
    return PadCollate(0)([data[i] for i in range(n)])


def _step(model, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    logits, y = forward_text(model, batch)
    torch.nn.functional.cross_entropy(logits, y).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return logits.detach(), grads


def _linear_calls(model) -> list[bool]:
    """Whether each linear layer that ran was a float32 ``nn.Linear`` (hooks follow a layer
    into its int8 copy)."""
    calls: list[bool] = []
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, *a: calls.append(isinstance(m, torch.nn.Linear)))
    return calls


def test_frozen_blocks_train_in_int8_and_the_trainable_gradients_stay_close(quiet_minilm):
    first_n(n=2)(quiet_minilm)
    batch = _batch()
    quiet_minilm.train()
    calls = _linear_calls(quiet_minilm)
    logits, grads = _step(quiet_minilm, batch)
    assert all(calls)  # float32 only
    before = {k: v.clone() for k, v in quiet_minilm.state_dict().items()}
    linears = sum(isinstance(m, torch.nn.Linear) for m in quiet_minilm.modules())

    ran = len(calls)
    chosen, total = quantize_frozen_prefix(quiet_minilm, batch)
    assert total == 2 * 6 and 0 < chosen < total  # the outlier-fed layers stay float32
    calls.clear()
    q_logits, q_grads = _step(quiet_minilm, batch)
    assert len(calls) == ran
    assert calls.count(False) == chosen  # the chosen layers ran in int8
    assert not torch.equal(q_logits, logits)  # int8 products are not float32's
    assert set(q_grads) == set(grads)  # nothing frozen got a gradient
    flat = torch.cat([g.flatten() for g in grads.values()])
    q_flat = torch.cat([q_grads[n].flatten() for n in grads])
    cosine = torch.nn.functional.cosine_similarity(flat, q_flat, dim=0)
    assert cosine > 1 - 2 * TOLERANCE, float(cosine)
    # the model keeps its float32 weights: checkpoints and the export do not change
    after = quiet_minilm.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)
    assert sum(isinstance(m, torch.nn.Linear) for m in quiet_minilm.modules()) == linears


def test_evaluation_runs_the_float32_blocks(quiet_minilm):
    first_n(n=2)(quiet_minilm)
    batch = _batch()
    quiet_minilm.eval()
    with torch.no_grad():
        plain = forward_text(quiet_minilm, batch)[0]
        quantize_frozen_prefix(quiet_minilm, batch)
        assert torch.equal(forward_text(quiet_minilm, batch)[0], plain)


def test_a_model_whose_embeddings_train_is_left_alone(quiet_minilm):
    assert quantize_frozen_prefix(quiet_minilm, _batch()) == (0, 0)


def test_quantizing_is_refused_on_a_gpu_at_compose():
    with pytest.raises(PlaitError, match="trainer.quantize_frozen=false"):
        check_quantize_frozen({"quantize_frozen": True}, {"accelerator": "gpu"})
    check_quantize_frozen({"quantize_frozen": True}, {"accelerator": "cpu"})
    check_quantize_frozen({"quantize_frozen": False}, {"accelerator": "gpu"})


def test_a_run_trains_its_frozen_blocks_in_int8_and_keeps_float32_checkpoints(plait, tmp_path):
    from tests.export.test_export import _tweets_csv

    tweets = _tweets_csv(tmp_path, 300)
    proc = plait("train", "recipe=tweets_minilm_fast", "data/source=csv",
                 f"data.source.paths=[{tweets}]", "data.source.label_column=sentiment",
                 "data.max_length=32", "trainer.max_steps=3", "trainer.batch_size=8",
                 "trainer.val_every=3", "trainer.ckpt_every=3", "trainer.val_batches=1",
                 "trainer.precision=32-true", "trainer.quantize_frozen=true",
                 "trainer.cache_frozen=false", "hydra.run.dir=run")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (tmp_path / "run" / "train.log").read_text()
    said = next(line for line in log.splitlines() if "in int8" in line)
    chosen, total = map(int, re.search(r"with (\d+) of their (\d+) linear", said).groups())
    assert total == 12 and 0 < chosen < total
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    frozen = [k for k in state["state_dict"] if ".layer.0." in k]
    assert frozen and all(state["state_dict"][k].dtype == torch.float32 for k in frozen)
