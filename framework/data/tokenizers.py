"""Tokenizers trained on the training split with Hugging Face ``tokenizers``.

Every built-in tokenizer is a ``tokenizers.Tokenizer`` underneath, so a trained one is a
single ``tokenizer.json`` saved in the run dir (and inside checkpoints) and reused as is by
``plait generate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

EOS = "<|endoftext|>"
UNK = "<unk>"


class TextTokenizer:
    """A ``tokenizers.Tokenizer`` plus how to train it; the object the engine uses."""

    def __init__(self, build: Callable[[], tuple[Any, Any]] | None, static_vocab_size: int) -> None:
        self._build = build
        self._tok: Any = None
        self.static_vocab_size = static_vocab_size
        """Vocabulary size known before training (an upper bound for ``plait show``)."""

    def train(self, texts: Iterable[str]) -> None:
        """Train on ``texts`` (the training split only)."""
        assert self._build is not None, "a loaded tokenizer is already trained"
        tok, trainer = self._build()
        tok.train_from_iterator(_batched(texts), trainer=trainer)
        self._tok = tok

    @property
    def vocab_size(self) -> int:
        """Ids in use: the size of the embedding the model needs."""
        return self._tok.get_vocab_size() if self._tok is not None else self.static_vocab_size

    @property
    def eos_id(self) -> int | None:
        """Id of the end-of-text token appended to every document."""
        return self._tok.token_to_id(EOS) if self._tok is not None else None

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, in parallel across the machine's cores."""
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        """Text of ``ids``."""
        return self._tok.decode(ids, skip_special_tokens=False)

    def save(self, path: str | Path) -> None:
        """Write ``tokenizer.json``."""
        self._tok.save(str(path))

    def to_str(self) -> str:
        """The tokenizer as a JSON string (stored in checkpoints)."""
        return self._tok.to_str()

    @classmethod
    def from_str(cls, data: str) -> TextTokenizer:
        """Load a trained tokenizer from :meth:`to_str` output."""
        from tokenizers import Tokenizer

        obj = cls(None, 0)
        obj._tok = Tokenizer.from_str(data)
        obj.static_vocab_size = obj._tok.get_vocab_size()
        return obj

    @classmethod
    def load(cls, path: str | Path) -> TextTokenizer:
        """Load ``tokenizer.json``."""
        return cls.from_str(Path(path).read_text(encoding="utf-8"))


def _batched(texts: Iterable[str], size: int = 256) -> Iterator[list[str]]:
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def char(max_vocab: int = 512) -> TextTokenizer:
    """Character-level tokenizer: one id per character seen in the training split.

    Args:
        max_vocab: Keep at most this many of the most frequent characters; the rest map to <unk>.
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"(?m)."), behavior="isolated")
        tok.decoder = decoders.Fuse()
        trainer = trainers.WordLevelTrainer(
            vocab_size=max_vocab, min_frequency=1, special_tokens=[EOS, UNK]
        )
        return tok, trainer

    return TextTokenizer(build, max_vocab)


def bpe(vocab_size: int = 4096, min_frequency: int = 2, byte_level: bool = True) -> TextTokenizer:
    """Byte-pair encoding trained on the training split (byte-level by default, like GPT-2).

    Args:
        vocab_size: Target vocabulary size, special tokens included.
        min_frequency: Minimum count for a merge to be learned.
        byte_level: Work on UTF-8 bytes (no unknown tokens, whitespace kept exactly);
            otherwise split on whitespace and punctuation first.
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if byte_level:
            tok = Tokenizer(models.BPE())
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
            tok.decoder = decoders.ByteLevel()
            alphabet = pre_tokenizers.ByteLevel.alphabet()
        else:
            tok = Tokenizer(models.BPE(unk_token=UNK))
            tok.pre_tokenizer = pre_tokenizers.Metaspace()
            tok.decoder = decoders.Metaspace()
            alphabet = []
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=[EOS, UNK],
            initial_alphabet=alphabet,
            show_progress=False,
        )
        return tok, trainer

    return TextTokenizer(build, vocab_size)
