"""Which evaluated records have a near duplicate in the training split (leakage that lifts a
score), found with the MinHash of data curation at the EDA's settings."""

from __future__ import annotations

import numpy as np

NEAR_THRESHOLD = 0.8
"""Jaccard similarity of word 3-gram sets at which two texts are near duplicates."""


def near_in_train(train: list[str], texts: list[str]) -> np.ndarray:
    """(len(texts),) True where a text is an exact or near duplicate of a training text."""
    from framework.data.curate import text_hash
    from framework.data.minhash import MinHashDedupe
    from framework.data.records import TEXT

    held = {text_hash(t or "") for t in train}
    exact = np.array([text_hash(t or "") in held for t in texts], dtype=bool)
    finder = MinHashDedupe(NEAR_THRESHOLD, 64, 3, "words", TEXT)
    pool = [t or "" for t in train] + [t or "" for t in texts]
    near = np.zeros(len(texts), dtype=bool)
    n = len(train)
    procs = 2 if len(pool) > 20_000 else 1  # the signatures are most of the time
    for i, match in finder.duplicates(finder.signatures(pool, procs), pool):
        if i >= n and match < n:
            near[i - n] = True
    return exact | near
