"""Text models trained from scratch: TextCNN (Kim 2014), LSTM/GRU and a transformer encoder.

Each predicts per text (``DataInfo.num_outputs`` set: class logits or values of shape (batch,
outputs)) and the recurrent ones are also language models (no per-text head: logits (batch,
time, vocab)). Padding positions are masked by ``lengths``.
"""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, POSITIVE, SHARE, Check
from framework.datainfo import DataInfo
from framework.errors import PlaitError

POOLING = ("last", "mean", "max")


def _needs_text(info: DataInfo, name: str) -> None:
    if info.vocab_size <= 0:
        raise PlaitError(f"model '{name}' reads token ids; the data has no tokenizer (images?)")


def _mask(x: Any, lengths: Any) -> Any:
    """(batch, time) True at real tokens."""
    import torch

    if lengths is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]


def pool(h: Any, mask: Any, how: str) -> Any:
    """(batch, time, dim) states to (batch, dim): last real state, masked mean or max."""
    import torch

    if how == "last":
        last = mask.sum(1).clamp(min=1) - 1
        return h[torch.arange(h.shape[0], device=h.device), last]
    m = mask[..., None].to(h.dtype)
    if how == "mean":
        return (h * m).sum(1) / m.sum(1).clamp(min=1)
    return h.masked_fill(~mask[..., None], float("-inf")).amax(1)


def _per_text(info: DataInfo, name: str) -> int:
    """Width of the per-text head; stops for a language-modelling task."""
    if not info.num_outputs:
        raise PlaitError(
            f"model '{name}' predicts one output per text; this task predicts tokens: "
            "use gpt, lstm or gru"
        )
    return info.num_outputs


def _check_pooling(pooling: str) -> None:
    if pooling not in POOLING:
        raise PlaitError(f"model.pooling must be one of {', '.join(POOLING)}, not '{pooling}'")


def textcnn(
    embed_dim: Annotated[int, COUNT] = 128,
    filters: Annotated[int, COUNT] = 100,
    kernel_sizes: Annotated[list[int], Check(each=COUNT)] = [3, 4, 5],  # noqa: B006
    dropout: Annotated[float, SHARE] = 0.5,
    *,
    info: DataInfo,
) -> Any:
    """TextCNN (Kim, 2014): embeddings, parallel 1-D convolutions, max over time, a classifier.

    Args:
        embed_dim: Width of the token embeddings.
        filters: Feature maps per kernel size.
        kernel_sizes: Widths (in tokens) of the convolutions.
        dropout: Dropout before the classifier.
    """
    _needs_text(info, "textcnn")
    n_out = _per_text(info, "textcnn")
    import torch
    from torch import nn

    class TextCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size, embed_dim, padding_idx=info.pad_id)
            self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, k) for k in kernel_sizes)
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(filters * len(kernel_sizes), n_out)
            self.min_len = max(kernel_sizes)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            if x.shape[1] < self.min_len:  # shorter than the widest kernel: pad
                pad = info.pad_id if info.pad_id is not None else 0
                x = nn.functional.pad(x, (0, self.min_len - x.shape[1]), value=pad)
            mask = _mask(x, lengths)
            e = self.embed(x).transpose(1, 2)  # (B, D, T)
            feats = []
            for conv in self.convs:
                c = torch.relu(conv(e))  # (B, F, T - k + 1)
                k = conv.kernel_size[0]
                valid = mask[:, k - 1 :].clone()  # windows that lie on real tokens only
                valid[:, 0] = True  # a text shorter than the kernel keeps its one window
                feats.append(c.masked_fill(~valid[:, None, :], float("-inf")).amax(2))
            return self.classifier(self.dropout(torch.cat(feats, 1)))

    return TextCNN()


def _rnn(cell: str, embed_dim: int, hidden: int, layers: int, bidirectional: bool,
         dropout: float, pooling: str, info: DataInfo) -> Any:  # fmt: skip
    _needs_text(info, cell)
    _check_pooling(pooling)
    if bidirectional and not info.num_outputs:
        raise PlaitError(f"a bidirectional {cell} cannot be a language model (it sees the future)")
    import torch
    from torch import nn

    rnn_cls = nn.LSTM if cell == "lstm" else nn.GRU

    class RNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size, embed_dim, padding_idx=info.pad_id)
            self.rnn = rnn_cls(
                embed_dim, hidden, layers, batch_first=True, bidirectional=bidirectional,
                dropout=dropout if layers > 1 else 0.0,
            )  # fmt: skip
            self.dropout = nn.Dropout(dropout)
            out = hidden * (2 if bidirectional else 1)
            n_out = info.num_outputs or info.vocab_size
            self.head = nn.Linear(out, n_out)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            e = self.dropout(self.embed(x))
            if lengths is None:
                h, _ = self.rnn(e)
            else:  # packed: the backward direction starts at each text's last real token
                packed = nn.utils.rnn.pack_padded_sequence(
                    e, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False
                )
                h, _ = nn.utils.rnn.pad_packed_sequence(
                    self.rnn(packed)[0], batch_first=True, total_length=x.shape[1]
                )
            if not info.num_outputs:
                return self.head(self.dropout(h))
            mask = _mask(x, lengths)
            if bidirectional and pooling == "last":  # forward's last real state, backward's first
                half = h.shape[-1] // 2
                fwd = pool(h[..., :half], mask, "last")
                return self.head(self.dropout(torch.cat([fwd, h[:, 0, half:]], -1)))
            return self.head(self.dropout(pool(h, mask, pooling)))

    return RNN()


def _recurrent(cell: str) -> Any:
    """The builder of one recurrent cell type (``lstm`` or ``gru``)."""

    def build(
        embed_dim: Annotated[int, COUNT] = 128,
        hidden: Annotated[int, COUNT] = 256,
        layers: Annotated[int, COUNT] = 1,
        bidirectional: bool = True,
        dropout: Annotated[float, SHARE] = 0.3,
        pooling: str = "max",
        *,
        info: DataInfo,
    ) -> Any:
        return _rnn(cell, embed_dim, hidden, layers, bidirectional, dropout, pooling, info)

    build.__name__ = build.__qualname__ = cell
    build.__doc__ = f"""{cell.upper()}: a classifier (pooled states) or, without classes, an LM.

    Args:
        embed_dim: Width of the token embeddings.
        hidden: Hidden units per direction.
        layers: Stacked layers.
        bidirectional: Read both ways (classifiers only).
        dropout: Dropout on embeddings, between layers and before the head.
        pooling: ``last`` (last real token), ``mean`` or ``max`` over real tokens.
    """
    return build


lstm = _recurrent("lstm")
gru = _recurrent("gru")


def transformer_encoder(
    n_layer: Annotated[int, COUNT] = 2,
    n_head: Annotated[int, COUNT] = 4,
    d_model: Annotated[int, COUNT] = 128,
    mlp_ratio: Annotated[float, POSITIVE] = 4.0,
    dropout: Annotated[float, SHARE] = 0.1,
    pooling: str = "cls",
    *,
    info: DataInfo,
) -> Any:
    """Bidirectional transformer encoder (pre-norm, learned positions) with a classifier on
    a prepended CLS vector or on the mean of the real tokens.

    Args:
        n_layer: Encoder layers.
        n_head: Attention heads; must divide d_model.
        d_model: Width of the residual stream.
        mlp_ratio: Feed-forward width as a multiple of d_model.
        dropout: Dropout in attention, feed-forward and before the classifier.
        pooling: ``cls`` or ``mean``.
    """
    _needs_text(info, "transformer_encoder")
    n_out = _per_text(info, "transformer_encoder")
    if pooling not in ("cls", "mean"):
        raise PlaitError(f"model.pooling must be 'cls' or 'mean', not '{pooling}'")
    if d_model % n_head:
        raise PlaitError(f"model.d_model={d_model} is not divisible by model.n_head={n_head}")
    import torch
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size, d_model, padding_idx=info.pad_id)
            self.pos = nn.Embedding(info.max_length + 1, d_model)
            self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
            layer = nn.TransformerEncoderLayer(
                d_model, n_head, int(mlp_ratio * d_model), dropout, batch_first=True,
                norm_first=True, activation="gelu",
            )  # fmt: skip
            self.encoder = nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(d_model, n_out)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            mask = _mask(x, lengths)
            h = self.embed(x)
            h = torch.cat([self.cls.expand(x.shape[0], -1, -1), h], 1)
            h = h + self.pos(torch.arange(h.shape[1], device=x.device))
            keep = torch.cat([torch.ones_like(mask[:, :1]), mask], 1)
            h = self.norm(self.encoder(h, src_key_padding_mask=~keep))
            pooled = h[:, 0] if pooling == "cls" else pool(h[:, 1:], mask, "mean")
            return self.classifier(self.dropout(pooled))

    return Encoder()
