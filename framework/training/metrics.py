"""Built-in metrics, all torchmetrics."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo


def perplexity(*, info: DataInfo) -> Any:
    """Perplexity of next-token predictions: exp of the mean token cross-entropy."""
    from torchmetrics.text import Perplexity

    return Perplexity()


def _classes(info: DataInfo, name: str) -> int:
    from framework.errors import PlaitError

    if not info.num_classes:
        raise PlaitError(f"metric '{name}' needs class labels; the data has none")
    return info.num_classes


def accuracy(*, info: DataInfo) -> Any:
    """Share of records whose top class is the label (micro accuracy)."""
    from torchmetrics.classification import MulticlassAccuracy

    return MulticlassAccuracy(num_classes=_classes(info, "accuracy"), average="micro")


def f1_macro(*, info: DataInfo) -> Any:
    """F1 score per class, averaged with equal weight per class."""
    from torchmetrics.classification import MulticlassF1Score

    return MulticlassF1Score(num_classes=_classes(info, "f1_macro"), average="macro")
