"""The order of evaluation batches, shared by validation and ``plait eval`` (no Lightning
import: evaluation starts fast)."""

from __future__ import annotations


def eval_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Evaluation batches of records of similar length (sorted, then cut), in a fixed
    seeded random order: metrics ignore the order, and a run that evaluates only the first
    ``trainer.val_batches`` batches gets a fair sample of the split, not its shortest
    records."""
    import random

    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches = [order[b : b + batch_size] for b in range(0, len(order), batch_size)]
    random.Random(seed).shuffle(batches)
    return batches
