"""Built-in losses: callables (predictions, targets) -> scalar tensor."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo


class CrossEntropy:
    """Cross-entropy over the last dimension; extra leading dimensions are flattened."""

    def __init__(self, label_smoothing: float, ignore_index: int) -> None:
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        return F.cross_entropy(
            preds.reshape(-1, preds.size(-1)),
            target.reshape(-1),
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )


def cross_entropy(
    label_smoothing: float = 0.0, ignore_index: int = -100, *, info: DataInfo
) -> CrossEntropy:
    """Cross-entropy on logits (next-token prediction or class logits).

    Args:
        label_smoothing: Share of probability mass spread over all classes.
        ignore_index: Target value that contributes no loss (padding).
    """
    return CrossEntropy(label_smoothing, ignore_index)
