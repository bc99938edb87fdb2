"""Causal language modelling: next-token prediction over packed blocks of tokens."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo
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


class TokenStream:
    """The token ids of a split as one sequence over the Arrow chunks they are stored in
    (memory-mapped from the data cache or the Ray engine's shards: nothing is copied until a
    slice is read). Indexing gives a tensor (a slice) or a 0-d tensor (one position)."""

    def __init__(self, chunks: list[Any]) -> None:
        import numpy as np

        self.chunks = [c for c in chunks if len(c)]
        self.starts = np.cumsum([0, *(len(c) for c in self.chunks)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, key: int | slice) -> Any:
        import numpy as np
        import torch

        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
        else:
            start = key + len(self) if key < 0 else key
            stop = start + 1
        parts, pos = [], start
        i = int(np.searchsorted(self.starts, start, side="right")) - 1
        while pos < stop:
            chunk = self.chunks[i]
            offset = pos - int(self.starts[i])
            take = min(len(chunk) - offset, stop - pos)
            parts.append(chunk[offset : offset + take])
            pos, i = pos + take, i + 1
        out = torch.from_numpy(np.concatenate(parts) if len(parts) != 1 else parts[0].copy())
        return out if isinstance(key, slice) else out[0]


def token_stream(ds: Any) -> TokenStream:
    """The ``input_ids`` of every record (each ending in end-of-text) as one int32 sequence,
    read in place from the dataset's Arrow chunks."""
    import numpy as np
    import pyarrow as pa

    col = ds.with_format("arrow")["input_ids"]
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    return TokenStream([np.asarray(c.flatten().to_numpy(zero_copy_only=False), dtype=np.int32)
                        for c in chunks])  # fmt: skip


class CausalLM(Task):
    """Next-token prediction; the loss is cross-entropy over every position."""

    default_loss = "cross_entropy"
    default_metrics = ("perplexity",)
    unit = "tokens"
    generative = True
    packed = True
    target = "tokens"
    inputs = "tokens"

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Pack each split into blocks of ``info.max_length`` tokens."""
        if tokenizer is None:
            raise PlaitError("task causal_lm needs text and a tokenizer; select data/tokenizer=bpe")
        max_length = info.max_length
        out, sizes = {}, {}
        for name, ds in splits.items():
            stream = token_stream(ds)
            blocks = PackedBlocks(stream, max_length)
            if len(blocks) == 0:
                raise PlaitError(
                    f"data: the {name} split holds {len(stream)} tokens, fewer than one block of "
                    f"{max_length + 1}; lower data.max_length or give the source more text"
                )
            out[name], sizes[name] = blocks, len(blocks)
        info.sizes = sizes
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
