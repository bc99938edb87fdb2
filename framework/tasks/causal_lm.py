"""Causal language modelling: next-token prediction over packed blocks of tokens."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo
from framework.errors import PlaitError
from framework.tasks.base import Task


class PackedBlocks:
    """Fixed-length blocks cut from one token stream; item i is (input, target) shifted by one."""

    def __init__(self, stream: Any, block: int) -> None:
        self.stream = stream
        self.block = block

    def __len__(self) -> int:
        return (len(self.stream) - 1) // self.block

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        start = i * self.block
        chunk = self.stream[start : start + self.block + 1].long()
        return chunk[:-1], chunk[1:]


def pack(texts: list[str], tokenizer: Any, chunk: int = 512) -> Any:
    """Tokenize ``texts`` and concatenate them, each followed by end-of-text, into one tensor."""
    import numpy as np
    import torch

    eos = tokenizer.eos_id
    parts = []
    for i in range(0, len(texts), chunk):
        for ids in tokenizer.encode_batch(texts[i : i + chunk]):
            parts.append(np.asarray(ids, dtype=np.int32))
            if eos is not None:
                parts.append(np.asarray([eos], dtype=np.int32))
    if not parts:
        return torch.zeros(0, dtype=torch.int32)
    return torch.from_numpy(np.concatenate(parts))


class CausalLM(Task):
    """Next-token prediction; the loss is cross-entropy over every position."""

    default_loss = "cross_entropy"
    default_metrics = ("perplexity",)
    unit = "tokens"
    generative = True

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, max_length: int
    ) -> tuple[dict[str, Any], DataInfo]:
        """Pack each split into blocks of ``max_length`` tokens."""
        out, sizes = {}, {}
        for name, ds in splits.items():
            stream = pack(list(ds["text"]), tokenizer)
            blocks = PackedBlocks(stream, max_length)
            if len(blocks) == 0:
                raise PlaitError(
                    f"data: the {name} split holds {len(stream)} tokens, fewer than one block of "
                    f"{max_length + 1}; lower data.max_length or give the source more text"
                )
            out[name], sizes[name] = blocks, len(blocks)
        info = DataInfo(
            vocab_size=tokenizer.vocab_size,
            max_length=max_length,
            eos_id=tokenizer.eos_id,
            sizes=sizes,
        )
        return out, info

    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Logits of shape (batch, time, vocab) and the shifted targets."""
        x, y = batch
        return model(x), y

    def count(self, batch: Any) -> int:
        """Tokens in the batch."""
        return batch[0].numel()


def causal_lm() -> CausalLM:
    """Causal (next-token) language modelling on packed blocks of ``data.max_length`` tokens."""
    return CausalLM()
