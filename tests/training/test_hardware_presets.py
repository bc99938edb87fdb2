"""Hardware presets on a machine made to look like it has GPUs: each preset's precision
default, and FSDP's wrap policy by block type (on Plait's GPT and a Hugging Face encoder)."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.training import hardware

CLASSES = DataInfo(vocab_size=64, max_length=16, num_outputs=3, num_classes=3, target="class")


@pytest.fixture
def gpus(monkeypatch):
    """Two CUDA devices as torch reports them; ``bf16`` toggles their bfloat16 support."""
    state = {"bf16": True}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: state["bf16"])
    return state


GPU_PRESETS = [
    ("gpu", {}),
    ("ddp", {}),
    ("multi_gpu", {}),
    ("fsdp", {"wrap": "none"}),
    ("multi_node", {}),
    ("auto", {}),
]


@pytest.mark.parametrize(("name", "args"), GPU_PRESETS)
def test_gpu_presets_default_to_bf16_where_supported_else_fp16(registry, gpus, name, args):
    built = registry.build("hardware", {"_name_": name, **args})
    assert built["accelerator"] == "gpu"
    assert hardware.run_precision(None, built) == "bf16-mixed"
    gpus["bf16"] = False
    assert hardware.run_precision(None, built) == "16-mixed"
    assert hardware.run_precision("32-true", built) == "32-true"  # trainer.precision wins
    assert "precision" not in hardware.trainer_arguments(built)


@pytest.mark.parametrize(
    "node",
    [{"_name_": "cpu"}, {"_name_": "cpu", "processes": 2},
     {"_name_": "multi_node", "accelerator": "cpu"}],
)  # fmt: skip
def test_cpu_presets_default_to_float32_even_where_bf16_is_native(registry, monkeypatch, node):
    monkeypatch.setattr(hardware, "native_bf16", lambda accelerator: True)
    built = registry.build("hardware", node)
    assert hardware.run_precision(None, built) == "32-true"
    assert hardware.run_precision("auto", built) == "bf16-mixed"  # opted in


def test_a_plugin_preset_without_a_precision_gets_its_accelerators(monkeypatch):
    monkeypatch.setattr(hardware, "native_bf16", lambda accelerator: accelerator == "gpu")
    assert hardware.run_precision(None, {"accelerator": "gpu", "devices": 1}) == "bf16-mixed"
    assert hardware.run_precision(None, {"accelerator": "cpu"}) == "32-true"


def _wrapped(policy, model):
    return set(policy._run_policy(model, set(), {}))


def test_fsdp_wraps_each_block_of_plaits_gpt(registry, gpus):
    built = registry.build("hardware", {"_name_": "fsdp", "checkpoint_blocks": True})
    strategy = built["strategy"]
    model = registry.build("model", {"_name_": "gpt", "n_layer": 3, "n_head": 2, "d_model": 16},
                           info=CLASSES)  # fmt: skip
    assert _wrapped(strategy.kwargs["auto_wrap_policy"], model) == set(model.blocks)
    assert _wrapped(strategy._activation_checkpointing_kwargs["auto_wrap_policy"], model) == set(
        model.blocks
    )
    assert len(model.blocks) == 3


def test_fsdp_wraps_each_layer_of_a_hugging_face_encoder(gpus):
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32)  # fmt: skip
    model = BertForSequenceClassification(config)
    policy = hardware.block_wrap_policy()
    assert _wrapped(policy, model) == set(model.bert.encoder.layer)


def test_fsdp_of_a_model_without_blocks_names_the_way_out(registry):
    model = registry.build("model", {"_name_": "lstm"}, info=CLASSES)
    with pytest.raises(PlaitError, match="use hardware.wrap=none instead"):
        _wrapped(hardware.block_wrap_policy(), model)
