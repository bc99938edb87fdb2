"""Data components: a source of real text, a curation step, a cleaning step, a tokenizer,
a text augmenter and an image augmenter."""

from __future__ import annotations

import ast
import re
import sysconfig
from pathlib import Path
from typing import Any

from framework.augment.images import ImageAugment
from framework.augment.text import AugmentContext, TextOperation
from framework.data.steps import RowFilter, TextMap
from framework.data.tokenizers import SPECIALS, UNK, TextTokenizer

PACKAGES = ["asyncio", "email", "http", "unittest", "xml"]


def stdlib_folder(package: str) -> Path:
    """Where a standard-library package's source lives on this machine."""
    return Path(sysconfig.get_paths()["stdlib"]) / package


def docstring_files(params: dict[str, Any]) -> list[str]:
    """The folders :func:`docstrings` reads (the data cache's fingerprint)."""
    return [str(stdlib_folder(p)) for p in params.get("packages", PACKAGES)]


def docstrings(packages: list[str] = PACKAGES) -> Any:
    """Docstrings of the functions and classes of standard-library packages, labelled with
    their package: real English text about code, with no download.

    Args:
        packages: Standard-library packages; each is a class.
    """
    import datasets

    texts, labels = [], []
    for package in packages:
        folder = stdlib_folder(package)
        for path in sorted(folder.rglob("*.py")):
            if "test" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    doc = ast.get_docstring(node)
                    if doc:
                        texts.append(doc)
                        labels.append(package)
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


class MinWords(RowFilter):
    """Keep texts of at least ``n`` words."""

    def __init__(self, n: int) -> None:
        self.n = n

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """One flag per record."""
        return [len((t or "").split()) >= self.n for t in batch["text"]]


def min_words(n: int = 4) -> MinWords:
    """Drop texts shorter than ``n`` words (one-word docstrings say nothing).

    Args:
        n: Fewest words a kept text has.
    """
    return MinWords(n)


_DOCTEST = re.compile(r"^\s*(>>>|\.\.\.) .*$", re.M)


def strip_doctests(keep_prompt: bool = False) -> TextMap:
    """Remove doctest lines (``>>> ...`` and ``... ...``) from each text.

    Args:
        keep_prompt: Keep a bare ``>>>`` where a doctest line was.
    """
    return TextMap(lambda t: _DOCTEST.sub(">>>" if keep_prompt else "", t))


def lower_words(max_vocab: int = 2000) -> TextTokenizer:
    """Lower-cased words (and punctuation), the ``max_vocab`` most frequent kept.

    Args:
        max_vocab: Vocabulary size, special tokens included.
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.WordLevelTrainer(vocab_size=max_vocab, special_tokens=SPECIALS)
        return tok, trainer

    return TextTokenizer(build, max_vocab)


class RandomRepeat(TextOperation):
    """Repeat n random words in place (a stutter: "the the")."""

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """The words with some repeated."""
        out = list(words)
        for _ in range(max(1, int(self.alpha * len(words)))):
            if not out:
                break
            i = ctx.rng.randrange(len(out))
            out.insert(i, out[i])
        return out


def random_repeat(alpha: float = 0.1) -> RandomRepeat:
    """Repeat random words in place, n = alpha x words times (at least once).

    Args:
        alpha: Repetitions per word of the text.
    """
    return RandomRepeat("random_repeat", alpha)


def invert(p: float = 0.2) -> ImageAugment:
    """Invert the image's intensities (a negative), with probability ``p``.

    Args:
        p: Probability of inverting an image.
    """
    return ImageAugment([{"name": "InvertImg", "p": p}])
