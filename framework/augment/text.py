"""Text augmentation: the four EDA operations of Wei and Zou (2019), "EDA: Easy Data
Augmentation Techniques for Boosting Performance on Text Classification Tasks".

Each selected operation (kind ``text_augment``) rewrites a sentence's words; every variant is
made by one operation picked at random among those selected, as in EDA. ``data.augment``
says how many variants each training text gets (``n_aug``), whether they are drawn afresh
every time a text is read (``online``, in the DataLoader workers) or made once and stored in
the training split (``offline``, shown in the data report), and which stop words are never
replaced. Labels are kept; validation and test texts are never augmented.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framework.errors import PlaitError

MODES = ("online", "offline")
PUNCT = string.punctuation + "\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026"
"""Characters stripped from a word's ends before it is looked up (ASCII and typographic)."""


@dataclass
class AugmentContext:
    """What an operation may use besides the words."""

    rng: random.Random
    """The variant's own random stream (seeded, so variants repeat under the seed)."""
    synonyms: Callable[[str], list[str]]
    """Synonyms of a lower-case word ([] when none)."""
    stop_words: frozenset[str]
    """Lower-case words never replaced, nor used to pick an insertion."""


def split_word(word: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation) of a whitespace-separated word."""
    core = word.strip(PUNCT)
    if not core:
        return word, "", ""
    start = word.index(core)
    return word[:start], core, word[start + len(core) :]


def _dress(synonym: str, like: str) -> str:
    """The synonym in the case of the word it replaces (Good -> Fine, GOOD -> FINE)."""
    if like.isupper() and len(like) > 1:
        return synonym.upper()
    if like[:1].isupper():
        return synonym[:1].upper() + synonym[1:]
    return synonym


def _candidates(words: list[str], ctx: AugmentContext) -> list[str]:
    """Distinct lower-case cores that are not stop words and have synonyms, in order."""
    out: dict[str, None] = {}
    for w in words:
        core = split_word(w)[1].lower()
        usable = core and core not in ctx.stop_words and any(c.isalpha() for c in core)
        if usable and core not in out and ctx.synonyms(core):
            out[core] = None
    return list(out)


def changes(alpha: float, words: list[str]) -> int:
    """Words an operation changes in a sentence: ``max(1, int(alpha * len(words)))``."""
    return max(1, int(alpha * len(words)))


class TextOperation:
    """One EDA operation; :meth:`apply` returns the new list of words."""

    def __init__(self, name: str, alpha: float) -> None:
        if not 0 < alpha <= 1:
            raise PlaitError(f"data.text_augment.{name}.alpha={alpha} must be in (0, 1]")
        self.name, self.alpha = name, alpha

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """The words after the operation (a new list)."""
        raise NotImplementedError


class SynonymReplacement(TextOperation):
    """Replace n non-stop words that have synonyms (every occurrence) with a synonym."""

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """See the class."""
        chosen = _candidates(words, ctx)
        ctx.rng.shuffle(chosen)
        picks = {c: ctx.rng.choice(ctx.synonyms(c)) for c in chosen[: changes(self.alpha, words)]}
        out = []
        for w in words:
            lead, core, trail = split_word(w)
            pick = picks.get(core.lower())
            out.append(lead + _dress(pick, core) + trail if pick else w)
        return out


class RandomInsertion(TextOperation):
    """Insert a synonym of a random non-stop word of the sentence at a random place, n times."""

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """See the class."""
        pool = _candidates(words, ctx)
        out = list(words)
        if not pool:
            return out
        for _ in range(changes(self.alpha, words)):
            synonym = ctx.rng.choice(ctx.synonyms(ctx.rng.choice(pool)))
            out.insert(ctx.rng.randint(0, len(out)), synonym)
        return out


class RandomSwap(TextOperation):
    """Swap two random words, n times (the words stay the same multiset)."""

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """See the class."""
        out = list(words)
        if len(out) < 2:
            return out
        for _ in range(changes(self.alpha, words)):
            i, j = ctx.rng.sample(range(len(out)), 2)
            out[i], out[j] = out[j], out[i]
        return out


class RandomDeletion(TextOperation):
    """Delete each word with probability alpha; one word always stays."""

    def apply(self, words: list[str], ctx: AugmentContext) -> list[str]:
        """See the class."""
        if len(words) <= 1:
            return list(words)
        out = [w for w in words if ctx.rng.random() >= self.alpha]
        return out or [ctx.rng.choice(words)]


def synonym_replacement(alpha: float = 0.1) -> SynonymReplacement:
    """EDA synonym replacement: n = max(1, alpha x words) non-stop words are replaced by a
    synonym from ``data/synonyms`` (case and punctuation kept).

    Args:
        alpha: Share of the sentence's words replaced (Wei and Zou: 0.1 at 500 examples).
    """
    return SynonymReplacement("synonym_replacement", alpha)


def random_insertion(alpha: float = 0.1) -> RandomInsertion:
    """EDA random insertion: n times, a synonym of a random non-stop word of the sentence is
    inserted at a random position.

    Args:
        alpha: Insertions per word of the sentence (at least one).
    """
    return RandomInsertion("random_insertion", alpha)


def random_swap(alpha: float = 0.1) -> RandomSwap:
    """EDA random swap: n times, two random words trade places.

    Args:
        alpha: Swaps per word of the sentence (at least one).
    """
    return RandomSwap("random_swap", alpha)


def random_deletion(alpha: float = 0.1) -> RandomDeletion:
    """EDA random deletion: each word is removed with probability alpha; a sentence never
    ends up empty.

    Args:
        alpha: Probability that a word is deleted.
    """
    return RandomDeletion("random_deletion", alpha)


class TextAugmenter:
    """Variants of a text: each made by one of the selected operations, picked at random."""

    def __init__(
        self,
        operations: list[Any],
        synonyms: Any,
        stop_words: frozenset[str],
        n_aug: int,
        mode: str,
        needing_synonyms: tuple[str, ...] = (),
    ) -> None:
        if not operations:
            raise PlaitError("text augmentation needs at least one data/text_augment operation")
        if n_aug < 1:
            raise PlaitError(f"data.augment.n_aug={n_aug} must be at least 1")
        if mode not in MODES:
            raise PlaitError(f"data.augment.mode must be 'online' or 'offline', not '{mode}'")
        self.operations, self.synonyms = operations, synonyms
        self.stop_words, self.n_aug, self.mode = stop_words, n_aug, mode
        self.needing_synonyms = needing_synonyms
        """Names of the operations that look words up (their contracts say so)."""

    def load(self) -> None:
        """Read the synonym source when an operation needs it (a missing one stops with its
        install line); called by the data stage once it knows the variants are to be made."""
        if self.needing_synonyms:
            self.synonyms.load()

    @property
    def rate(self) -> float:
        """Online: the chance a read returns a variant rather than the original, so that
        originals and variants appear in the same proportion as offline (1 : n_aug)."""
        return self.n_aug / (self.n_aug + 1)

    def variant(self, text: str, rng: random.Random) -> tuple[str, str]:
        """(new text, name of the operation that made it)."""
        op = rng.choice(self.operations)
        ctx = AugmentContext(rng, self.synonyms.lookup, self.stop_words)
        words = text.split()
        if not words:
            return text, op.name
        return " ".join(op.apply(words, ctx)), op.name

    def variants(self, text: str, seed: int) -> list[tuple[str, str]]:
        """The ``n_aug`` variants of ``text`` for this seed (what offline mode stores)."""
        rng = random.Random(seed)
        return [self.variant(text, rng) for _ in range(self.n_aug)]


def item_seed(base: int, index: int) -> int:
    """One record's seed: the same for a (base seed, record) pair in any worker."""
    return (base % (2**61)) * 1_000_003 + index


class Encode:
    """Text to token ids with the run's tokenizer, cut to ``max_length``."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, text: str) -> list[int]:
        return self.tokenizer.encode_batch([text], self.max_length)[0]


class AugmentedTexts:
    """Online mode: the training split, with each read returning a fresh variant of the text
    (re-tokenized) with chance ``n_aug / (n_aug + 1)`` and the original otherwise.

    Each read has its own random stream: in DataLoader workers it comes from the loader's
    seed for this epoch and the record's index, so the variants do not depend on how many
    workers there are and change every epoch; in the main process it is drawn from a stream
    seeded by the run's seed.
    """

    def __init__(self, base: Any, texts: list[str], augmenter: TextAugmenter, encode: Any):
        self.base, self.texts, self.augmenter, self.encode = base, texts, augmenter, encode
        self._stream: random.Random | None = None

    def __len__(self) -> int:
        return len(self.base)

    def _rng(self, i: int) -> random.Random:
        import torch

        worker = torch.utils.data.get_worker_info()
        if worker is not None:  # worker.seed = the loader's base seed (per epoch) + worker id
            return random.Random(item_seed(worker.seed - worker.id, i))
        if self._stream is None:
            self._stream = random.Random(torch.initial_seed())
        return random.Random(self._stream.getrandbits(64))

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        ids, target = self.base[i]
        rng = self._rng(i)
        if rng.random() < self.augmenter.rate:
            text, _ = self.augmenter.variant(self.texts[i], rng)
            ids = self.encode(text)
        return ids, target
