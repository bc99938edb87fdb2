"""Plait's ``gpt`` language model as ``GPT2LMHeadModel``: the same pre-norm blocks, exact
GELU, learned positions and tied embeddings; a Linear's (out, in) weight is GPT-2's Conv1D
(in, out), and layers Plait trains without biases get zero biases."""

from __future__ import annotations

from typing import Any


def gpt2_config(model: Any, special: dict[str, int] | None = None) -> Any:
    """The ``GPT2Config`` of a Plait GPT language model; ``special``: the tokenizer's
    ``eos_token_id`` and ``pad_token_id`` when it has them."""
    special = special or {}
    from transformers import GPT2Config

    first = model.blocks[0]
    return GPT2Config(
        vocab_size=model.tok_emb.num_embeddings,
        n_positions=model.block_size,
        n_embd=model.tok_emb.embedding_dim,
        n_layer=len(model.blocks),
        n_head=first.attn.n_head,
        n_inner=first.mlp.fc.out_features,
        activation_function="gelu",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=model.ln_f.eps,
        tie_word_embeddings=model.head.weight is model.tok_emb.weight,
        bos_token_id=None,
        eos_token_id=special.get("eos_token_id"),
        pad_token_id=special.get("pad_token_id"),
    )


def gpt2_state(model: Any) -> dict[str, Any]:
    """GPT-2's tensors (names as ``GPT2LMHeadModel`` has them) from a Plait GPT."""
    import torch

    def linear(layer: Any) -> tuple[Any, Any]:
        w = layer.weight.detach().t().contiguous()
        b = layer.bias if layer.bias is not None else torch.zeros(layer.out_features)
        return w, b.detach().clone()

    def norm(layer: Any) -> tuple[Any, Any]:
        b = layer.bias if layer.bias is not None else torch.zeros_like(layer.weight)
        return layer.weight.detach().clone(), b.detach().clone()

    out: dict[str, Any] = {
        "transformer.wte.weight": model.tok_emb.weight.detach().clone(),
        "transformer.wpe.weight": model.pos_emb.weight.detach().clone(),
    }
    for i, block in enumerate(model.blocks):
        h = f"transformer.h.{i}."
        pairs = {
            "ln_1": norm(block.ln1),
            "attn.c_attn": linear(block.attn.qkv),
            "attn.c_proj": linear(block.attn.proj),
            "ln_2": norm(block.ln2),
            "mlp.c_fc": linear(block.mlp.fc),
            "mlp.c_proj": linear(block.mlp.proj),
        }
        for name, (w, b) in pairs.items():
            out[f"{h}{name}.weight"], out[f"{h}{name}.bias"] = w, b
    out["transformer.ln_f.weight"], out["transformer.ln_f.bias"] = norm(model.ln_f)
    if model.head.weight is not model.tok_emb.weight:
        out["lm_head.weight"] = model.head.weight.detach().clone()
    return out


def save_gpt2(model: Any, out: Any, special: dict[str, int] | None = None) -> Any:
    """Write ``config.json``, ``generation_config.json`` and ``model.safetensors`` of the
    GPT-2 form into ``out``; return the ``GPT2LMHeadModel``."""
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel(gpt2_config(model, special))
    missing, unexpected = hf.load_state_dict(gpt2_state(model), strict=False)
    left = [k for k in missing if not k.endswith("attn.bias") and k != "lm_head.weight"]
    if left or unexpected:
        from framework.errors import PlaitError

        raise PlaitError(f"export: GPT-2 mapping left {left or unexpected} unset; report it")
    hf.eval()
    hf.save_pretrained(str(out), safe_serialization=True)
    return hf
