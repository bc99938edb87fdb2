"""Sampling text from a trained causal language model."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def sample(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    block_size: int,
    max_new_tokens: int = 200,
    temperature: float = 0.8,
    top_k: int | None = 50,
    seed: int = 0,
    top_p: float = 1.0,
) -> list[str]:
    """Continue each prompt; an empty prompt starts from the end-of-text token. Sampling
    keeps the ``top_k`` likeliest tokens, then the fewest whose probabilities reach
    ``top_p`` (nucleus sampling); ``temperature`` 0 takes the likeliest token."""
    import torch

    device = next(model.parameters()).device
    g = torch.Generator(device="cpu").manual_seed(seed)
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for prompt in prompts:
            ids = tokenizer.encode_batch([prompt])[0] if prompt else []
            if not ids:
                ids = [tokenizer.eos_id if tokenizer.eos_id is not None else 0]
            idx = torch.tensor([ids], device=device)
            for _ in range(max_new_tokens):
                logits = model(idx[:, -block_size:])[:, -1, :].float().cpu()
                if temperature <= 0:
                    nxt = logits.argmax(dim=-1, keepdim=True)
                else:
                    logits = logits / temperature
                    if top_k:
                        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                        logits = logits.masked_fill(logits < kth, float("-inf"))
                    if top_p < 1:
                        logits = _nucleus(logits, top_p)
                    nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=g)
                idx = torch.cat([idx, nxt.to(device)], dim=1)
            new = idx[0, len(ids) :].tolist()
            out.append(prompt + tokenizer.decode(new))
    model.train(was_training)
    return out


def _nucleus(logits: Any, top_p: float) -> Any:
    """``logits`` with every token outside the smallest set whose probabilities reach
    ``top_p`` set to minus infinity (the likeliest token always stays)."""
    import torch

    ordered, order = torch.sort(logits, descending=True)
    before = torch.softmax(ordered, dim=-1).cumsum(dim=-1) - torch.softmax(ordered, dim=-1)
    drop = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, before >= top_p)
    return logits.masked_fill(drop, float("-inf"))


def load_checkpoint(path: str | Path) -> tuple[Any, Any, Any]:
    """Rebuild (model, tokenizer, DataInfo) from a Plait checkpoint, with no run dir needed."""
    from framework.models.restore import load_trained

    trained = load_trained(path, needs="plait generate continues text with a language model")
    return trained.model, trained.tokenizer, trained.info
