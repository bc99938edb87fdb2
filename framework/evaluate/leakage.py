"""Which evaluated records have a near duplicate in the training split (leakage that lifts a
score), found with the MinHash of data curation at the EDA's settings: each evaluated text's
LSH band keys are looked up among the training texts' sorted keys, and candidates confirmed
by the Jaccard similarity of their word 3-gram sets."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

NEAR_THRESHOLD = 0.8
"""Jaccard similarity of word 3-gram sets at which two texts are near duplicates."""


def near_in_train(train: list[str], texts: list[str]) -> np.ndarray:
    """(len(texts),) True where a text is an exact or near duplicate of a training text."""
    from framework.data.curate import text_hash
    from framework.data.minhash import MinHashDedupe
    from framework.records import TEXT

    held = {text_hash(t or "") for t in train}
    found = np.array([text_hash(t or "") in held for t in texts], dtype=bool)
    finder = MinHashDedupe(NEAR_THRESHOLD, 64, 3, "words", TEXT)
    keys = finder.band_keys(finder.signatures([t or "" for t in texts], 1))
    bands = [
        (order, np.searchsorted(ranked, key, "left"), np.searchsorted(ranked, key, "right"))
        for (order, ranked), key in zip(_sorted_train_keys(finder, train), keys, strict=True)
    ]  # per band: training ids in key order, and each text's range of equal keys there
    shares = np.logical_or.reduce([high > low for _, low, high in bands]) if bands else found
    for i in np.flatnonzero(shares & ~found):
        candidates = {int(c) for order, low, high in bands for c in order[low[i] : high[i]]}
        found[i] = any(finder.jaccard_at_least(texts[i], train[c]) for c in sorted(candidates))
    return found


_LAST_TRAIN: dict[bytes, list[tuple[np.ndarray, np.ndarray]]] = {}
"""The last training split's sorted band keys, by a digest of its texts: a run evaluates
validation and test against the same training split."""


def _sorted_train_keys(finder: Any, train: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per LSH band: the training ids in key order, and the keys in that order."""
    digest = hashlib.blake2b("\0".join(t or "" for t in train).encode(), digest_size=16)
    key = digest.digest() + len(train).to_bytes(8, "little")
    if key not in _LAST_TRAIN:
        procs = 2 if len(train) > 20_000 else 1  # the signatures are most of the time
        sorted_keys = []
        for band in finder.band_keys(finder.signatures([t or "" for t in train], procs)):
            order = np.argsort(band, kind="stable")
            sorted_keys.append((order, band[order]))
        _LAST_TRAIN.clear()
        _LAST_TRAIN[key] = sorted_keys
    return _LAST_TRAIN[key]
