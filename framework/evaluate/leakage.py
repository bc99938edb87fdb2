"""Which evaluated records have a near duplicate in the training split (leakage that lifts a
score), found with the MinHash of data curation at the EDA's settings: the training texts'
LSH band keys are looked up for each evaluated text, and candidates confirmed by the Jaccard
similarity of their word 3-gram sets."""

from __future__ import annotations

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
    procs = 2 if len(train) > 20_000 else 1  # the signatures are most of the time
    train_keys = [k.tolist() for k in finder.band_keys(finder.signatures(
        [t or "" for t in train], procs))]  # fmt: skip
    keys = [k.tolist() for k in finder.band_keys(finder.signatures([t or "" for t in texts], 1))]
    tables: list[dict[int, list[int]]] = []
    for band in train_keys:
        table: dict[int, list[int]] = {}
        for i, key in enumerate(band):
            table.setdefault(key, []).append(i)
        tables.append(table)
    for i, text in enumerate(texts):
        if found[i]:
            continue
        candidates = {c for j, table in enumerate(tables) for c in table.get(keys[j][i], ())}
        found[i] = any(finder.jaccard_at_least(text, train[c]) for c in sorted(candidates))
    return found
