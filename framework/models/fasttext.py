"""A fastText-style classifier (Joulin et al., 2016): the mean of token and hashed token
n-gram embeddings, then a linear layer. With a subword tokenizer (``wordpiece``) the pieces
carry the character information fastText gets from its character n-grams."""

from __future__ import annotations

from typing import Annotated, Any

from framework.config.checks import COUNT, SHARE, Check
from framework.data.info import DataInfo
from framework.models.text import _mask, _needs_text, _per_text

PRIMES = (1, 1_000_003, 998_244_353, 1_000_000_007, 2_147_483_629)
"""Multipliers of the n-gram hash (one per position in the n-gram)."""


def fasttext(
    dim: Annotated[int, COUNT] = 100,
    ngrams: Annotated[int, Check(ge=1, le=len(PRIMES))] = 2,
    buckets: Annotated[int, COUNT] = 200_000,
    dropout: Annotated[float, SHARE] = 0.0,
    *,
    info: DataInfo,
) -> Any:
    """fastText-style bag of n-grams: token embeddings and hashed n-grams of 2..``ngrams``
    tokens, averaged over the text, into a linear classifier.

    Args:
        dim: Width of the embeddings.
        ngrams: Longest token n-gram (1: a bag of tokens).
        buckets: Hash buckets shared by the n-grams of 2 tokens and more.
        dropout: Dropout on the averaged embedding.
    """
    _needs_text(info, "fasttext")
    n_out = _per_text(info, "fasttext")
    import torch
    from torch import nn

    class FastText(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size + (buckets if ngrams > 1 else 0), dim)
            nn.init.uniform_(self.embed.weight, -1.0 / dim, 1.0 / dim)
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(dim, n_out)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            mask = _mask(x, lengths)
            ids, keep = [x], [mask]
            for n in range(2, ngrams + 1):
                if x.shape[1] < n:
                    break
                h = torch.zeros_like(x[:, n - 1 :])
                for j in range(n):
                    h = h + x[:, j : x.shape[1] - n + 1 + j] * PRIMES[j]
                ids.append(info.vocab_size + h % buckets)
                keep.append(mask[:, n - 1 :])
            ids_all, keep_all = torch.cat(ids, 1), torch.cat(keep, 1).to(torch.float32)
            e = self.embed(ids_all) * keep_all[..., None]
            mean = e.sum(1) / keep_all.sum(1, keepdim=True).clamp(min=1)
            return self.classifier(self.dropout(mean))

    return FastText()
