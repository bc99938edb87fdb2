"""Optimizer parameter groups and learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch

from framework.datainfo import DataInfo
from framework.finetune.param_groups import param_groups
from framework.models.gpt import gpt
from framework.training.optim import adamw
from framework.training.schedulers import constant, cosine


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


def _trained(fused, steps=5):
    """A tiny GPT's weights after ``steps`` AdamW updates on fixed gradients."""
    torch.manual_seed(0)
    model = gpt(n_layer=1, n_head=2, d_model=8, info=DataInfo(vocab_size=20, max_length=8))
    opt = adamw(lr=1e-2, fused=fused, params=param_groups(model))
    for step in range(steps):
        for i, p in enumerate(model.parameters()):
            p.grad = torch.sin(torch.arange(p.numel(), dtype=p.dtype) + i + step).view_as(p)
        opt.step()
    return opt, [p.detach().clone() for p in model.parameters()]


def test_adamw_is_fused_where_torch_has_the_kernel_and_updates_as_the_loop_does():
    fused_opt, fused = _trained(None)
    loop_opt, loop = _trained(False)
    assert fused_opt.defaults["fused"] is True  # CPU floats: torch has the kernel
    assert not loop_opt.defaults["fused"]
    for a, b in zip(fused, loop, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(a, b) for a, b in zip(fused, _trained(None, steps=0)[1]))


def test_adamw_without_a_kernel_for_the_device_takes_torchs_default():
    def on_meta():
        p = torch.nn.Parameter(torch.zeros(4, 4, device="meta"))
        p.grad = torch.zeros(4, 4, device="meta")
        return [{"params": iter([p])}]  # a group whose parameters can be read once

    opt = adamw(params=on_meta())
    assert not opt.defaults["fused"]
    opt.step()  # where fused=true fails at its first step:
    with pytest.raises(RuntimeError, match="fused"):
        adamw(fused=True, params=on_meta()).step()


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


def _one_param_opt(lr=1.0):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_linear_warms_up_then_decays_linearly_to_the_floor():
    from framework.training.schedulers import linear

    opt = _one_param_opt()
    lrs = _lrs(linear(warmup_steps=2, min_lr_ratio=0.2, optimizer=opt, total_steps=10), opt, 11)
    expected = [0.5, 1.0] + [1.0 - 0.8 * (s - 2) / 8 for s in range(2, 11)]
    assert lrs == pytest.approx(expected)


def test_one_cycle_rises_to_the_peak_then_anneals_to_the_floor():
    from framework.training.schedulers import one_cycle

    opt = _one_param_opt(lr=0.4)
    sched = one_cycle(pct_start=0.3, div_factor=10, final_div_factor=100, anneal="linear",
                      optimizer=opt, total_steps=10)  # fmt: skip
    lrs = _lrs(sched, opt, 10)
    # up linearly over steps 0..2 (pct_start x total - 1), down linearly over 2..9
    start, end = 0.04, 0.04 / 100
    expected = [start + (0.4 - start) * s / 2 for s in range(3)]
    expected += [0.4 + (end - 0.4) * (s - 2) / 7 for s in range(3, 10)]
    assert lrs == pytest.approx(expected)


def test_plateau_halves_the_rate_after_patience_validations_without_progress():
    from framework.training.schedulers import plateau

    opt = _one_param_opt()
    sched = plateau(factor=0.5, patience=1, optimizer=opt, total_steps=10)
    seen = []
    for val_loss in (3.0, 2.0, 2.5, 2.4, 1.0, 1.5, 1.6):
        sched.step(val_loss)
        seen.append(opt.param_groups[0]["lr"])
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_sgd_with_nesterov_needs_momentum():
    from framework.errors import PlaitError
    from framework.training.optim import sgd

    params = [torch.nn.Parameter(torch.zeros(1))]
    assert sgd(momentum=0.9, nesterov=True, params=params).defaults["nesterov"] is True
    with pytest.raises(PlaitError, match="momentum above 0"):
        sgd(momentum=0.0, nesterov=True, params=params)


def test_learning_rate_logged_by_a_run_follows_the_schedule(plait, tmp_path):
    import csv

    from tests.conftest import TINY_LM

    proc = plait("train", *TINY_LM, "scheduler=linear", "scheduler.warmup_steps=4",
                 "scheduler.min_lr_ratio=0.0", "optimizer.lr=0.01", "trainer.log_every=1",
                 "trainer.max_steps=12", "trainer.val_every=6", "trainer.ckpt_every=6")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = next((tmp_path / "runs/stdlib_gpt").iterdir())
    with open(run / "metrics.csv", newline="") as fh:
        logged = {int(r["step"]): float(r["lr"]) for r in csv.DictReader(fh) if r["lr"]}
    # logged in step s (0-based): the rate that step uses
    for s, lr in logged.items():
        want = 0.01 * ((s + 1) / 4 if s < 4 else 1 - (s - 4) / 8)
        assert lr == pytest.approx(want, rel=1e-5), s
    assert len(logged) >= 10


def test_fused_null_steps_unfused_where_lightning_would_refuse_to_clip_a_fused_one():
    from framework.training.optim import fused_setting

    node = {"_name_": "adamw", "fused": None}
    assert fused_setting(node, "bf16-mixed", 1.0)["fused"] is False
    assert fused_setting(node, "bf16-mixed", None)["fused"] is None
    assert fused_setting(node, "32-true", 1.0)["fused"] is None
    assert fused_setting({"_name_": "adamw", "fused": True}, "bf16-mixed", 1.0)["fused"] is True
    assert "fused" not in fused_setting({"_name_": "sgd"}, "bf16-mixed", 1.0)


def test_a_bf16_mixed_run_with_gradient_clipping_trains(plait, tmp_path):
    from tests.conftest import TINY_LM

    args = [*TINY_LM, "trainer.precision=bf16-mixed", "trainer.grad_clip=1.0",
            "trainer.max_steps=4", "trainer.val_every=4", "trainer.ckpt_every=4"]  # fmt: skip
    proc = plait("train", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = plait("train", *args, "optimizer.fused=true")
    assert proc.returncode == 2
    assert "optimizer.fused=true" in proc.stderr and "grad_clip=null" in proc.stderr
    assert len(list((tmp_path / "runs/stdlib_gpt").iterdir())) == 1  # the refused one made none
