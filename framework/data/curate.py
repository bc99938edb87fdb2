"""Built-in curation steps: normalize, dedupe (exact and MinHash), missing values, length,
relevance and language filters, and rare classes."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from array import array
from collections import Counter
from typing import Annotated, Any

import numpy as np

from framework.checks import Check
from framework.data.steps import FnFilter, RowFilter, StepContext, TextMap, require_column
from framework.errors import PlaitError, install_hint
from framework.records import LABEL, TEXT, column

FORMS = ("NFC", "NFKC", "NFD", "NFKD")


def normalize(form: str = "NFKC") -> TextMap:
    """Unicode normalization of the text (NFKC folds compatibility characters such as ligatures).

    Args:
        form: ``NFC``, ``NFKC``, ``NFD`` or ``NFKD``.
    """
    if form not in FORMS:
        raise PlaitError(
            f"data.curate.normalize.form must be one of {', '.join(FORMS)}, not '{form}'"
        )
    return TextMap(lambda t: unicodedata.normalize(form, t))


_SPACE = re.compile(r"\s+")


def dedupe_key(text: str, ignore_case: bool = False) -> str:
    """What two texts must share to be exact duplicates: NFKC form, whitespace collapsed
    (and case folded with ``ignore_case``)."""
    t = unicodedata.normalize("NFKC", text)
    return _SPACE.sub(" ", t.casefold() if ignore_case else t).strip()


def text_hash(text: str, normalized: bool = True, ignore_case: bool = False) -> bytes:
    """128-bit hash of a text (of its :func:`dedupe_key` when ``normalized``)."""
    key = dedupe_key(text, ignore_case) if normalized else text
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _hash_batch(
    batch: dict[str, list[Any]], column: str, fold: bool, ignore_case: bool
) -> dict[str, list[bytes]]:
    return {"_hash": [text_hash(t or "", fold, ignore_case) for t in batch[column]]}


class ExactDedupe:
    """Keep the first record of every group with the same (normalized) text."""

    duplicate_pairs: tuple[Any, Any] | None = None
    """Positions of the records the last call removed and of the records each duplicated."""

    def __init__(self, column: str, normalized: bool, ignore_case: bool) -> None:
        self.column, self.normalized, self.ignore_case = column, normalized, ignore_case

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        hashes = ds.select_columns([self.column]).map(
            _hash_batch,
            batched=True,
            fn_kwargs={
                "column": self.column,
                "fold": self.normalized,
                "ignore_case": self.ignore_case,
            },
            remove_columns=[self.column],
            num_proc=ctx.num_proc if ctx.num_proc > 1 and len(ds) > 2000 else None,
            desc=ctx.name,
        )
        hashes = column(hashes, "_hash")
        first: dict[bytes, int] = {}
        keep, removed, kept_for = [], array("q"), array("q")
        for i, h in enumerate(hashes):
            at = first.setdefault(h, i)
            if at == i:
                keep.append(i)
            else:
                removed.append(i)
                kept_for.append(at)
        self.duplicate_pairs = (np.frombuffer(removed, np.int64), np.frombuffer(kept_for, np.int64))
        return ds if len(keep) == len(ds) else ds.select(keep)


def dedupe_exact(
    column: str = "text", normalized: bool = True, ignore_case: bool = False
) -> ExactDedupe:
    """Drop exact duplicates, keeping the first occurrence (a 128-bit hash of each text).

    Args:
        column: Column compared.
        normalized: Compare after NFKC normalization and whitespace collapsing
            (``"Hello  World"`` equals ``"Hello World"``); false: byte-identical texts only.
        ignore_case: Also compare case-folded (``"Hello"`` equals ``"hello"``).
    """
    return ExactDedupe(column, normalized, ignore_case)


def dedupe_minhash(
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle_size: int = 3,
    unit: str = "words",
    column: str = "text",
    backend: str = "rensa",
    clusters: Annotated[str, Check(choices=("kept", "components"))] = "kept",
) -> Any:
    """Drop near duplicates with MinHash LSH, keeping the first record of each cluster.

    Args:
        threshold: Jaccard similarity of two texts' shingle sets at or above which they are
            near duplicates (LSH finds candidates, the exact similarity confirms them).
        num_perm: MinHash permutations (signature length).
        shingle_size: Words (or characters) per shingle.
        unit: ``words`` or ``chars`` shingles.
        column: Column compared.
        backend: Who turns shingle hashes into signatures: ``rensa`` (Rust, several times
            faster) or ``numpy``; every removal is confirmed by exact Jaccard either way.
        clusters: ``kept``: a record goes only for an earlier record that stays, so every
            removed record has a kept one at the threshold; ``components``: the connected
            components of the confirmed pairs (A≈B, B≈C removes B and C even when A≉C), each
            keeping its first record, as datatrove and text-dedup cluster.
    """
    from framework.data.minhash import MinHashDedupe

    return MinHashDedupe(threshold, num_perm, shingle_size, unit, column, backend, clusters)


MISSING_ACTIONS = ("drop", "fill", "flag")


def _is_missing(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


class Missing:
    """Records with a missing (null, NaN or blank) value in the named columns."""

    def __init__(self, columns: list[str], action: str, fill_value: Any) -> None:
        if action not in MISSING_ACTIONS:
            raise PlaitError(
                f"data.curate.missing.action must be one of {', '.join(MISSING_ACTIONS)}, "
                f"not '{action}'"
            )
        self.columns, self.action, self.fill_value = columns, action, fill_value

    def _columns(self, ds: Any, name: str) -> list[str]:
        if self.columns:
            for c in self.columns:
                require_column(ds, c, name)
            return list(self.columns)
        return [c for c in (TEXT, LABEL) if c in ds.column_names]

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        cols = self._columns(ds, ctx.name)
        if self.action == "drop":
            return ds.filter(
                lambda b: [
                    not any(_is_missing(b[c][i]) for c in cols) for i in range(len(b[cols[0]]))
                ],
                batched=True,
                desc=ctx.name,
            )
        if self.action == "fill":
            if self.fill_value is None:
                raise PlaitError(
                    "data.curate.missing.fill_value is null; give the value to fill in"
                )
            return ds.map(
                lambda b: {
                    c: [self.fill_value if _is_missing(v) else v for v in b[c]] for c in cols
                },
                batched=True,
                desc=ctx.name,
            )
        return ds.map(
            lambda b: {f"{c}_missing": [_is_missing(v) for v in b[c]] for c in cols},
            batched=True,
            desc=ctx.name,
        )


def missing(
    columns: list[str] = [],  # noqa: B006
    action: str = "drop",
    fill_value: Any = None,
) -> Missing:
    """Missing values (null, NaN, blank text) per column: drop the record, fill, or flag it.

    Args:
        columns: Columns checked (empty: ``text`` and ``label`` where present).
        action: ``drop`` the record, ``fill`` with ``fill_value``, or ``flag`` it in a new
            boolean column ``<column>_missing``.
        fill_value: Value written by ``fill``.
    """
    return Missing(columns, action, fill_value)


UNITS = ("chars", "words", "tokens")


def _gpt2_counter() -> Any:
    from framework.data.tokenizers import gpt2

    tok = gpt2()
    return lambda texts: [len(ids) for ids in tok.encode_batch(texts)]


class LengthFilter(RowFilter):
    """Keep texts whose length lies in [min, max]."""

    def __init__(self, min_length: int, max_length: int | None, unit: str) -> None:
        if unit not in UNITS:
            raise PlaitError(
                f"data.curate.length.unit must be one of {', '.join(UNITS)}, not '{unit}'"
            )
        self.min, self.max, self.unit = min_length, max_length, unit
        self._count: Any = None

    def _lengths(self, texts: list[str]) -> list[int]:
        if self.unit == "chars":
            return [len(t) for t in texts]
        if self.unit == "words":
            return [len(t.split()) for t in texts]
        if self._count is None:
            self._count = _gpt2_counter()
        return self._count(texts)

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """Whether each text's length is in range."""
        lengths = self._lengths([t or "" for t in batch[TEXT]])
        hi = self.max if self.max is not None else math.inf
        return [self.min <= n <= hi for n in lengths]


def length(min_length: int = 1, max_length: int | None = None, unit: str = "chars") -> LengthFilter:
    """Keep texts whose length is within bounds.

    Args:
        min_length: Shortest length kept.
        max_length: Longest length kept (null: no upper bound).
        unit: ``chars``, ``words`` (whitespace-separated) or ``tokens`` (GPT-2 BPE tokens).
    """
    return LengthFilter(min_length, max_length, unit)


def relevance(
    keywords: list[str] = [],  # noqa: B006
    patterns: list[str] = [],  # noqa: B006
    action: str = "keep",
    ignore_case: bool = True,
) -> FnFilter:
    """Keep (or drop) records mentioning any keyword (whole word) or matching any regex.

    Args:
        keywords: Words or phrases, matched as whole words.
        patterns: Regular expressions (Python syntax).
        action: ``keep`` matching records (drop the rest) or ``drop`` matching records.
        ignore_case: Match regardless of case.
    """
    if action not in ("keep", "drop"):
        raise PlaitError(f"data.curate.relevance.action must be 'keep' or 'drop', not '{action}'")
    if not keywords and not patterns:
        raise PlaitError("data.curate.relevance needs keywords or patterns")
    parts = [r"\b" + re.escape(k) + r"\b" for k in keywords]
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise PlaitError(f"data.curate.relevance.patterns: bad regex {p!r} ({exc})") from None
        parts.append(f"(?:{p})")
    rx = re.compile("|".join(parts), re.IGNORECASE if ignore_case else 0)
    want = action == "keep"
    return FnFilter(lambda t: bool(rx.search(t)) == want)


class LanguageFilter(RowFilter):
    """Keep texts that langid identifies as one of the wanted languages."""

    def __init__(self, keep: list[str], min_probability: float) -> None:
        self.languages, self.min_probability = set(keep), min_probability
        self._ident: Any = None

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """langid's verdict for each text."""
        if self._ident is None:
            from langid.langid import LanguageIdentifier, model

            self._ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        out = []
        for t in batch[TEXT]:
            lang, prob = self._ident.classify(t or "")
            out.append(lang in self.languages and prob >= self.min_probability)
        return out


def language(keep: list[str] = ["en"], min_probability: float = 0.5) -> LanguageFilter:  # noqa: B006
    """Keep texts in the given languages, identified by langid (its model ships in the package).

    Args:
        keep: ISO 639-1 codes of the languages kept (``en``, ``de``, ...).
        min_probability: Lowest langid probability accepted for the language.
    """
    try:
        import langid  # noqa: F401
    except ImportError:
        raise install_hint("curate step 'language' (langid)", "pip install langid") from None
    return LanguageFilter(list(keep), min_probability)


class RareClasses:
    """Drop every record whose class has fewer than ``min_count`` records."""

    def __init__(self, min_count: int) -> None:
        self.min_count = min_count

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, LABEL, ctx.name)
        labels = column(ds, LABEL)
        counts = Counter(labels)
        rare = {k for k, n in counts.items() if n < self.min_count}
        if not rare:
            return ds
        return ds.select([i for i, y in enumerate(labels) if y not in rare])


def min_class_count(min_count: int = 2) -> RareClasses:
    """Drop classes with fewer than ``min_count`` records (too rare to learn or to stratify).

    Args:
        min_count: Fewest records a class needs to stay.
    """
    return RareClasses(min_count)
