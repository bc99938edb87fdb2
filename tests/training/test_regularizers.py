"""Regularizers: penalties over exactly the selected parameters, L1's sparsity, dropout
settings that reach the named modules only, weight decay through parameter groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.finetune.param_groups import param_groups
from framework.models.gpt import gpt
from framework.training.regularizers import dropout, l1, l2, weight_decay

INFO = DataInfo(vocab_size=30, max_length=8)


def _model():
    torch.manual_seed(0)
    return gpt(n_layer=2, n_head=2, d_model=8, dropout=0.0, bias=True, info=INFO)


def test_l2_is_the_coefficient_times_the_sum_of_squares_of_the_selected_weights():
    model = _model()
    reg = l2(coefficient=0.3, params=[r"blocks\.1\.mlp"])
    expected = 0.3 * sum(
        p.pow(2).sum() for n, p in model.named_parameters()
        if n.startswith("blocks.1.mlp") and p.ndim >= 2
    )  # fmt: skip
    assert torch.allclose(reg.penalty(model), expected)
    chosen = {id(p) for p in reg.parameters(model)}
    names = {n for n, p in model.named_parameters() if id(p) in chosen}
    assert names == {"blocks.1.mlp.fc.weight", "blocks.1.mlp.proj.weight"}  # no biases
    with_1d = l2(coefficient=1.0, params=[r"blocks\.1\.mlp"], include_1d=True)
    assert len(with_1d.parameters(model)) == 4


def test_l1_is_the_coefficient_times_the_sum_of_absolute_values():
    model = _model()
    expected = 0.5 * sum(p.abs().sum() for p in model.parameters() if p.ndim >= 2)
    assert torch.allclose(l1(coefficient=0.5).penalty(model), expected)


def test_a_pattern_that_selects_nothing_names_the_parameters():
    with pytest.raises(PlaitError, match="selects no trainable parameter; names look like"):
        l2(params=["decoder"]).penalty(_model())


def test_dropout_reaches_the_named_modules_and_no_others():
    model = _model()
    reg = dropout(p=0.25, modules=[r"^blocks\.0\."])
    reg.apply(model)
    for name, m in model.named_modules():
        inside = name.startswith("blocks.0.")
        if isinstance(m, nn.Dropout):
            assert m.p == (0.25 if inside else 0.0), name
        if hasattr(m, "attn_dropout"):
            assert m.attn_dropout == (0.25 if inside else 0.0), name
    assert set(reg.changed) == {"blocks.0.attn", "blocks.0.attn.resid_dropout",
                                "blocks.0.mlp.dropout"}  # fmt: skip
    with pytest.raises(PlaitError, match="no dropout in the modules"):
        dropout(p=0.1, modules=["ln_f"]).apply(model)


def test_weight_decay_replaces_the_default_groups():
    model = _model()
    wd = weight_decay(coefficient=0.2, params=[r"^tok_emb"])
    groups = param_groups(model, wd.decay(model))
    assert groups[0]["weight_decay"] == 0.2 and groups[0]["params"] == [model.tok_emb.weight]
    assert groups[1]["weight_decay"] == 0.0
    n = sum(1 for _ in model.parameters())
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == n


def test_l1_training_leaves_more_near_zero_weights_than_none(plait, tmp_path):
    from tests.conftest import TINY_LM

    def near_zero(name: str, *extra: str) -> float:
        proc = plait("train", *TINY_LM, f"name={name}", "trainer.max_steps=60",
                     "trainer.val_every=30", "trainer.ckpt_every=30", "optimizer.lr=3e-3",
                     "optimizer.weight_decay=0.0", *extra)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        run = next((tmp_path / "runs" / name).iterdir())
        header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
        assert ("train/penalty/l1" in header) == bool(extra)  # logged beside the task loss
        state = torch.load(run / "checkpoints/last.ckpt", map_location="cpu", weights_only=True)
        weights = torch.cat([v.flatten() for k, v in state["state_dict"].items()
                             if k.startswith("model.blocks") and v.ndim >= 2])  # fmt: skip
        return float((weights.abs() < 1e-3).float().mean())

    plain = near_zero("plain")
    sparse = near_zero("sparse", "regularizer=[l1]", "regularizer.l1.coefficient=1e-3")
    assert sparse > 2 * plain, (plain, sparse)
