"""Statistics of text splits: missing values, duplicates, lengths, truncation, vocabulary,
out-of-vocabulary rates, top words and tokens, labels, numeric columns and length outliers.

Every function takes plain lists, so each number can be checked against an independent
computation (pandas, plain Python) on the same data."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
"""Percentiles reported for every length distribution (linear interpolation, as NumPy and
pandas compute them)."""
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
"""A word for vocabulary, out-of-vocabulary and top-word counts: letters (with one inner
apostrophe), lower-cased; numbers and punctuation are not words."""
TOP = 20
"""Entries in the top-words and top-tokens lists."""
EXAMPLES = 3
"""Examples kept per finding."""
SHOWN = 160
"""Characters of each example kept."""


def short(text: Any) -> str:
    """``text`` cut for the report."""
    s = str(text)
    return s if len(s) <= SHOWN else s[: SHOWN - 1] + "…"


def is_missing(value: Any) -> bool:
    """None, NaN, or a string of only whitespace."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def missing_counts(columns: dict[str, Sequence[Any]]) -> dict[str, int]:
    """Missing values per column."""
    return {name: sum(is_missing(v) for v in values) for name, values in columns.items()}


def distribution(values: Sequence[float]) -> dict[str, float]:
    """Count, mean, min, the :data:`PERCENTILES` and max of ``values`` ({} when empty)."""
    if not len(values):
        return {}
    arr = np.asarray(values, dtype=np.float64)
    out = {"count": int(arr.size), "mean": float(arr.mean()), "min": float(arr.min())}
    for p, v in zip(PERCENTILES, np.percentile(arr, PERCENTILES)):
        out[f"p{p}"] = float(v)
    out["max"] = float(arr.max())
    return out


def numeric_summary(values: Sequence[Any]) -> dict[str, float]:
    """Count, mean, sample variance (ddof 1, as pandas), min and max of the non-missing
    numbers."""
    nums = np.asarray([v for v in values if not is_missing(v)], dtype=np.float64)
    if not nums.size:
        return {"count": 0}
    var = float(nums.var(ddof=1)) if nums.size > 1 else 0.0
    return {
        "count": int(nums.size),
        "mean": float(nums.mean()),
        "var": var,
        "min": float(nums.min()),
        "max": float(nums.max()),
    }


def words_of(text: str) -> list[str]:
    """The lower-case words of ``text`` (see :data:`WORD`)."""
    return WORD.findall(text.lower())


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """How often each word occurs."""
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(words_of(t or ""))
    return counts


def oov_rates(counts: Counter[str], train_vocabulary: set[str]) -> dict[str, float]:
    """Out-of-vocabulary rates against the training words: ``types`` (distinct words not in
    training) and ``tokens`` (occurrences of such words), each a share."""
    types = len(counts)
    total = sum(counts.values())
    unseen = [w for w in counts if w not in train_vocabulary]
    return {
        "types": len(unseen) / types if types else 0.0,
        "tokens": sum(counts[w] for w in unseen) / total if total else 0.0,
    }


def outliers(lengths: Sequence[int], texts: Sequence[str]) -> dict[str, Any]:
    """Texts whose length in characters lies outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] (Tukey's
    rule): the bounds, the count and the most extreme examples on each side."""
    if not len(lengths):
        return {"rule": "IQR", "count": 0}
    arr = np.asarray(lengths, dtype=np.float64)
    q1, q3 = np.percentile(arr, [25, 75])
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    below = [i for i in np.argsort(arr, kind="stable") if arr[i] < low]
    above = [i for i in np.argsort(-arr, kind="stable") if arr[i] > high]
    return {
        "rule": "IQR",
        "low": float(low),
        "high": float(high),
        "count": len(below) + len(above),
        "short": len(below),
        "long": len(above),
        "examples": [f"{int(arr[i])} chars: {short(texts[i])}" for i in (above + below)[:EXAMPLES]],
    }


def imbalance(counts: dict[str, int]) -> dict[str, Any]:
    """Largest over smallest class count and normalized entropy (1: balanced, 0: one class)
    of the classes that occur."""
    present = {k: v for k, v in counts.items() if v > 0}
    if len(present) < 2:
        return {"classes": len(present), "ratio": 1.0, "entropy": 0.0}
    n = sum(present.values())
    probs = [v / n for v in present.values()]
    entropy = -sum(p * math.log(p) for p in probs) / math.log(len(probs))
    largest = max(present, key=present.__getitem__)
    smallest = min(present, key=present.__getitem__)
    return {
        "classes": len(present),
        "ratio": present[largest] / present[smallest],
        "entropy": entropy,
        "largest": [largest, present[largest]],
        "smallest": [smallest, present[smallest]],
    }


def top(counter: Counter[Any], k: int = TOP) -> list[list[Any]]:
    """The ``k`` most common entries as [entry, count] pairs."""
    return [[w, int(n)] for w, n in counter.most_common(k)]
