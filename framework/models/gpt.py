"""Builder of the decoder-only transformer; presets live in ``conf/model/gpt_*.yaml``."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, POSITIVE, SHARE
from framework.datainfo import DataInfo
from framework.errors import PlaitError


def gpt(
    n_layer: Annotated[int, COUNT] = 4,
    n_head: Annotated[int, COUNT] = 4,
    d_model: Annotated[int, COUNT] = 256,
    mlp_ratio: Annotated[float, POSITIVE] = 4.0,
    dropout: Annotated[float, SHARE] = 0.0,
    bias: bool = False,
    *,
    info: DataInfo,
) -> Any:
    """Decoder-only transformer (GPT): pre-norm blocks, SDPA causal attention, tied embeddings;
    with a per-text head (last-token pooling) for classification and regression.

    Args:
        n_layer: Number of transformer blocks.
        n_head: Attention heads per block; must divide d_model.
        d_model: Width of the residual stream.
        mlp_ratio: Hidden width of the feed-forward layer as a multiple of d_model.
        dropout: Dropout on embeddings, attention and residual branches.
        bias: Whether linear layers and norms carry biases.
    """
    if d_model % n_head:
        raise PlaitError(f"model.d_model={d_model} is not divisible by model.n_head={n_head}")
    if info.vocab_size <= 0 or info.max_length <= 0:
        raise PlaitError("model 'gpt' needs a vocabulary and data.max_length from the data stage")
    from framework.models._gpt import GPT

    return GPT(
        vocab_size=info.vocab_size,
        block_size=info.max_length,
        n_layer=n_layer,
        n_head=n_head,
        d_model=d_model,
        mlp_hidden=int(mlp_ratio * d_model),
        dropout=dropout,
        bias=bias,
        num_outputs=info.num_outputs,
    )
