"""Optimizer parameter groups and learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch

from framework.data.info import DataInfo
from framework.models.gpt import gpt
from framework.training.optim import adamw, constant, cosine
from framework.training.param_groups import param_groups


def test_biases_and_norms_get_no_weight_decay():
    model = gpt(
        n_layer=1, n_head=2, d_model=8, bias=True, info=DataInfo(vocab_size=20, max_length=8)
    )
    opt = adamw(weight_decay=0.1, params=param_groups(model))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"])
    n_total = sum(1 for _ in model.parameters())
    assert len(decay["params"]) + len(no_decay["params"]) == n_total


def _lrs(scheduler, opt, steps):
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


def test_cosine_warms_up_linearly_then_decays_to_the_floor():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    lrs = _lrs(cosine(warmup_steps=4, min_lr_ratio=0.1, optimizer=opt, total_steps=14), opt, 15)
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4] == pytest.approx(1.0)
    assert lrs[9] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lrs[14] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_constant_after_warmup():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    assert _lrs(constant(warmup_steps=2, optimizer=opt, total_steps=5), opt, 4) == pytest.approx(
        [0.25, 0.5, 0.5, 0.5]
    )
