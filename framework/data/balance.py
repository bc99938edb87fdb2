"""Built-in balancing of the training split: over- and undersampling, a weighted sampler,
and class weights handed to the loss through ``DataInfo``. Validation and test are never
touched, so their metrics stay honest."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from framework.data.labels import class_counts, require_classes
from framework.errors import PlaitError
from framework.records import LABEL, column


@dataclass
class Balanced:
    """A balanced training split and what the rest of the run needs to know about it."""

    dataset: Any
    """The training split (resampled, or as it was)."""
    class_weights: list[float] | None = None
    """Per-class loss weights (``DataInfo.class_weights``, used by ``class_weights: auto``)."""
    sample_weights: list[float] | None = None
    """Per-record sampling weights for the training batch sampler (with replacement)."""


def _labels(ds: Any, name: str) -> tuple[list[int], int]:
    if LABEL not in ds.column_names:
        raise PlaitError(
            f"data/balance={name} needs labels; set data.source.label_column or use "
            "data/balance=none"
        )
    require_classes(ds, f"data/balance={name}", "use data/balance=none")
    return column(ds, LABEL), len(ds.features[LABEL].names)


def balanced_weights(counts: list[int]) -> list[float]:
    """``n / (classes * count)`` per class (scikit-learn's 'balanced'); 0 for an absent class."""
    present = [c for c in counts if c > 0]
    n, k = sum(present), len(present)
    return [n / (k * c) if c > 0 else 0.0 for c in counts]


def none() -> Any:
    """Leave the training split as it is."""
    return lambda dataset, seed: dataset


class Resample:
    """Random over- or undersampling of each class to a common count."""

    def __init__(self, mode: str, ratio: float) -> None:
        if not 0 < ratio <= 1:
            raise PlaitError(f"data.balance.ratio must be in (0, 1], not {ratio}")
        self.mode, self.ratio = mode, ratio

    def __call__(self, ds: Any, seed: int) -> Balanced:
        from framework.data.splits import indices_by

        _labels(ds, self.mode)  # fails clearly without class labels
        by_class = indices_by(ds, LABEL)
        rng = random.Random(seed)
        sizes = [len(v) for v in by_class.values()]
        keep: list[int] = []
        if self.mode == "oversample":
            target = max(1, round(max(sizes) * self.ratio))
            for idx in by_class.values():
                keep += idx + [rng.choice(idx) for _ in range(max(0, target - len(idx)))]
        else:
            target = max(1, round(min(sizes) / self.ratio))
            for idx in by_class.values():
                keep += rng.sample(idx, min(len(idx), target))
        rng.shuffle(keep)
        return Balanced(ds.select(keep))


def oversample(ratio: float = 1.0) -> Resample:
    """Repeat random records of smaller classes until each has ``ratio`` x the largest count.

    Args:
        ratio: Target size of every class relative to the largest (1: all equal).
    """
    return Resample("oversample", ratio)


def undersample(ratio: float = 1.0) -> Resample:
    """Drop random records of larger classes down to the smallest count / ``ratio``.

    Args:
        ratio: The smallest class's share of the target size (1: all equal to the smallest).
    """
    return Resample("undersample", ratio)


def weighted_sampler() -> Any:
    """Draw training batches with replacement, each record weighted 1 / its class count, so
    classes appear equally often; the split itself is unchanged."""

    def apply(ds: Any, seed: int) -> Balanced:
        labels, k = _labels(ds, "weighted_sampler")
        counts = class_counts(ds, k)
        return Balanced(ds, sample_weights=[1.0 / counts[y] for y in labels])

    return apply


def class_weights() -> Any:
    """Weight each class's loss by ``n / (classes x count)`` from the training split; the
    weights reach the loss through ``DataInfo`` (losses with ``class_weights: auto``)."""

    def apply(ds: Any, seed: int) -> Balanced:
        _, k = _labels(ds, "class_weights")
        return Balanced(ds, class_weights=balanced_weights(class_counts(ds, k)))

    return apply
