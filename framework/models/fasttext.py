"""A fastText-style classifier (Joulin et al., 2016; Bojanowski et al., 2017): the mean of
token, hashed token n-gram and hashed character n-gram embeddings, then a linear layer.

The character n-grams are those of each vocabulary entry (``<`` marks a piece that starts a
word), taken once from the tokenizer's vocabulary when the model is built and kept as a
buffer, so a checkpoint carries them."""

from __future__ import annotations

import zlib
from typing import Annotated, Any

from framework.checks import COUNT, SHARE, Check
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.models.text import _mask, _needs_text, _per_text

PRIMES = (1, 1_000_003, 998_244_353, 1_000_000_007, 2_147_483_629)
"""Multipliers of the n-gram hash (one per position in the n-gram)."""

MAX_CHAR_NGRAMS = 32
"""Character n-grams kept per vocabulary entry (the rest of a very long entry's are dropped)."""

WORD_START = ("Ġ", "▁")
"""Prefixes byte-level BPE and SentencePiece use for a piece that starts a word."""


def char_ngrams(piece: str, minn: int, maxn: int, wordpiece: bool) -> list[str]:
    """The character n-grams of ``minn``..``maxn`` characters of one vocabulary entry, with
    ``<`` before a piece that starts a word (WordPiece: no ``##``; BPE: a ``Ġ`` prefix)."""
    if piece.startswith("##"):
        text = piece[2:]
    elif piece.startswith(WORD_START):
        text = "<" + piece[1:]
    else:
        text = "<" + piece if wordpiece else piece
    return [text[i : i + n] for n in range(minn, maxn + 1) for i in range(len(text) - n + 1)]


def char_ngram_table(vocab: list[str], minn: int, maxn: int, buckets: int) -> list[list[int]]:
    """Per vocabulary id, the hash buckets of its character n-grams (at most
    :data:`MAX_CHAR_NGRAMS`); special tokens (``<unk>``, ``[PAD]``, ...) get none."""
    wordpiece = any(p.startswith("##") for p in vocab)
    table = []
    for piece in vocab:
        special = len(piece) > 2 and piece[0] in "<[" and piece[-1] in ">]"
        grams = [] if special else char_ngrams(piece, minn, maxn, wordpiece)
        table.append([zlib.crc32(g.encode()) % buckets for g in grams[:MAX_CHAR_NGRAMS]])
    return table


def fasttext(
    dim: Annotated[int, COUNT] = 100,
    ngrams: Annotated[int, Check(ge=1, le=len(PRIMES))] = 2,
    minn: Annotated[int, Check(ge=0)] = 3,
    maxn: Annotated[int, Check(ge=0)] = 5,
    buckets: Annotated[int, COUNT] = 200_000,
    dropout: Annotated[float, SHARE] = 0.0,
    *,
    info: DataInfo,
) -> Any:
    """fastText-style bag of n-grams: token embeddings, hashed n-grams of 2..``ngrams``
    tokens and hashed character n-grams of ``minn``..``maxn`` characters inside each token,
    averaged over the text, into a linear classifier.

    Args:
        dim: Width of the embeddings.
        ngrams: Longest token n-gram (1: a bag of tokens).
        minn: Shortest character n-gram inside a token.
        maxn: Longest character n-gram inside a token (0: no character n-grams).
        buckets: Hash buckets shared by the token n-grams and the character n-grams.
        dropout: Dropout on the averaged embedding.
    """
    _needs_text(info, "fasttext")
    n_out = _per_text(info, "fasttext")
    if maxn and minn > maxn:
        raise PlaitError(f"model.minn={minn} is above model.maxn={maxn}; make minn <= maxn")
    import torch
    from torch import nn

    use_chars = maxn > 0
    hashed = ngrams > 1 or use_chars

    class FastText(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size + (buckets if hashed else 0), dim)
            nn.init.uniform_(self.embed.weight, -1.0 / dim, 1.0 / dim)
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(dim, n_out)
            if use_chars:
                # -1: no n-gram in that slot
                grams = torch.full((info.vocab_size, MAX_CHAR_NGRAMS), -1, dtype=torch.long)
                if info.vocab:
                    table = char_ngram_table(info.vocab[: info.vocab_size], minn, maxn, buckets)
                    for i, row in enumerate(table):
                        grams[i, : len(row)] = torch.tensor(row, dtype=torch.long)
                self.register_buffer("char_ngrams", grams)

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
            if use_chars:
                grams = self.char_ngrams[x].flatten(1)  # (batch, tokens x MAX_CHAR_NGRAMS)
                ids.append(info.vocab_size + grams.clamp(min=0))
                keep.append((grams >= 0) & mask.repeat_interleave(MAX_CHAR_NGRAMS, 1))
            ids_all, keep_all = torch.cat(ids, 1), torch.cat(keep, 1).to(torch.float32)
            e = self.embed(ids_all) * keep_all[..., None]
            mean = e.sum(1) / keep_all.sum(1, keepdim=True).clamp(min=1)
            return self.classifier(self.dropout(mean))

    return FastText()
