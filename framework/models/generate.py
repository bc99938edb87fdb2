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
) -> list[str]:
    """Continue each prompt; an empty prompt starts from the end-of-text token."""
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
                    nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=g)
                idx = torch.cat([idx, nxt.to(device)], dim=1)
            new = idx[0, len(ids) :].tolist()
            out.append(prompt + tokenizer.decode(new))
    model.train(was_training)
    return out


def load_checkpoint(path: str | Path) -> tuple[Any, Any, Any]:
    """Rebuild (model, tokenizer, DataInfo) from a Plait checkpoint, with no run dir needed."""
    from omegaconf import OmegaConf

    from framework.config.validate import refuse_targets
    from framework.data.info import DataInfo
    from framework.data.tokenizers import TextTokenizer
    from framework.errors import PlaitError
    from framework.registry import default_registry
    from framework.rundir import read_checkpoint

    path = Path(path)
    if not path.is_file():
        raise PlaitError(
            f"checkpoint not found: {path}; give ckpt=runs/NAME/TIME/checkpoints/last.ckpt"
        )
    ckpt = read_checkpoint(path)
    payload = ckpt["plait"]
    cfg = OmegaConf.create(payload["config"])
    refuse_targets(cfg)  # a stored config is a stranger's recipe too: never trusted
    info = DataInfo.from_dict(payload["data_info"])
    tokenizer = TextTokenizer.from_str(payload["tokenizer"])
    from framework.models.assemble import build_trained_model
    from framework.models.init import MODULE_PREFIX
    from framework.training.frozen_base import stored_base

    # as training built it (sizes, LoRA adapters), then the checkpoint's weights; a
    # checkpoint without its frozen base gets it from where the run started
    base = stored_base(ckpt)
    model = build_trained_model(cfg, default_registry(), info, start=base is not None).model
    state = {
        k.removeprefix(MODULE_PREFIX): v
        for k, v in ckpt["state_dict"].items()
        if k.startswith(MODULE_PREFIX)
    }
    if base is not None:
        base.restore(state, model, str(path))
    model.load_state_dict(state)
    return model, tokenizer, info
