"""A fastText-style classifier (Joulin et al., 2016; Bojanowski et al., 2017): the mean of
token, hashed token n-gram and hashed character n-gram embeddings, then a linear layer.

The character n-grams are those of each vocabulary entry (``<`` marks a piece that starts a
word), taken once from the tokenizer's vocabulary when the model is built and kept as a
buffer, so a checkpoint carries them.

It trains the way the fastText library does: each text's bag of ids (tokens, hashed token
n-grams, hashed character n-grams) is computed once, before training
(:func:`framework.models.features.with_features`), and an ``EmbeddingBag`` with sparse
gradients updates only the rows a batch touches (plain SGD, like fastText)."""

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
    sparse: bool = True,
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
        sparse: Sparse embedding gradients: an update touches only the rows of the ids in
            the batch (fastText's way; needs ``optimizer=sgd`` with ``momentum=0``,
            ``weight_decay=0`` and ``trainer.grad_clip=null``); false: dense gradients, any
            optimizer.
    """
    _needs_text(info, "fasttext")
    n_out = _per_text(info, "fasttext")
    if maxn and minn > maxn:
        raise PlaitError(f"model.minn={minn} is above model.maxn={maxn}; make minn <= maxn")
    import numpy as np
    import torch
    from torch import nn

    use_chars = maxn > 0
    hashed = ngrams > 1 or use_chars
    rows = info.vocab_size + (buckets if hashed else 0)

    class FastText(nn.Module):
        """Mean of a text's bag of embeddings (ids from :meth:`features`), then a linear
        layer."""

        def __init__(self) -> None:
            super().__init__()
            # no padding_idx: bags come unpadded (flat ids, a count each), and EmbeddingBag
            # with padding_idx runs ~10x slower on CPU
            self.embed = nn.EmbeddingBag(rows, dim, mode="mean", sparse=sparse)
            nn.init.uniform_(self.embed.weight, -1.0 / dim, 1.0 / dim)
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(dim, n_out)
            self._table: np.ndarray | None = None
            if use_chars:
                # -1: no n-gram in that slot
                grams = torch.full((info.vocab_size, MAX_CHAR_NGRAMS), -1, dtype=torch.long)
                if info.vocab:
                    table = char_ngram_table(info.vocab[: info.vocab_size], minn, maxn, buckets)
                    for i, row in enumerate(table):
                        grams[i, : len(row)] = torch.tensor(row, dtype=torch.long)
                self.register_buffer("char_ngrams", grams)

        def features(self, ids: Any) -> np.ndarray:
            """The bag of one text's token ids: the tokens, then the hashed n-grams of 2 to
            ``ngrams`` tokens, then the hashed character n-grams inside each token."""
            t = np.asarray(ids, dtype=np.int64)
            if info.pad_id is not None:
                t = t[t != info.pad_id]
            parts = [t]
            for n in range(2, ngrams + 1):
                if len(t) < n:
                    break
                h = np.zeros(len(t) - n + 1, dtype=np.int64)
                for j in range(n):
                    h += t[j : len(t) - n + 1 + j] * PRIMES[j]
                parts.append(info.vocab_size + h % buckets)
            if use_chars and len(t):
                if self._table is None:  # built on first use: the buffer may be loaded later
                    self._table = self.char_ngrams.cpu().numpy()
                grams = self._table[np.clip(t, 0, len(self._table) - 1)].ravel()
                parts.append(info.vocab_size + grams[grams >= 0])
            return np.concatenate(parts)

        def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
            self._table = None  # the n-gram table may change with the buffer
            super()._load_from_state_dict(*args, **kwargs)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            """Logits of a batch of bags: ``x`` the bags one after the other (1-D) and
            ``lengths`` the ids in each, or (batch, ids) padded rows, ``lengths`` the real
            ids of each row (None: all)."""
            if x.dim() == 2:
                keep = _mask(x, lengths)
                x, lengths = x[keep], keep.sum(1)
            if lengths is None:
                raise ValueError("a 1-D batch of bags needs the lengths of the bags")
            offsets = torch.cumsum(lengths, 0) - lengths
            return self.classifier(self.dropout(self.embed(x, offsets)))

    return FastText()
