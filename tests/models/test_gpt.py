"""The GPT builder and model at a tiny size."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.models.gpt import gpt

INFO = DataInfo(vocab_size=50, max_length=16)


def test_forward_backward_shapes_and_tied_embeddings():
    model = gpt(n_layer=2, n_head=2, d_model=16, info=INFO)
    idx = torch.randint(0, 50, (3, 16))
    logits = model(idx)
    assert logits.shape == (3, 16, 50)
    logits.sum().backward()
    assert model.head.weight is model.tok_emb.weight
    assert all(p.grad is not None for p in model.parameters())


def test_attention_is_causal():
    torch.manual_seed(0)
    model = gpt(n_layer=2, n_head=2, d_model=16, info=INFO).eval()
    idx = torch.randint(0, 50, (1, 16))
    changed = idx.clone()
    changed[0, 10:] = (changed[0, 10:] + 1) % 50
    a, b = model(idx), model(changed)
    assert torch.allclose(a[0, :10], b[0, :10], atol=1e-6)
    assert not torch.allclose(a[0, 10:], b[0, 10:])


def test_bad_sizes_are_config_errors():
    with pytest.raises(PlaitError, match="d_model=30 is not divisible by model.n_head=4"):
        gpt(n_head=4, d_model=30, info=INFO)


def test_presets_have_their_sizes_written_out(registry):
    from framework.config.compose import compose

    small = compose(registry, ["model=gpt_small"]).model
    tiny = compose(registry, ["model=gpt_tiny"]).model
    assert (small.n_layer, small.n_head, small.d_model) == (4, 4, 256)
    assert (tiny.n_layer, tiny.n_head, tiny.d_model) == (2, 2, 32)
