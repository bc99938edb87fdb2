"""Built-in losses: callables (predictions, targets) -> scalar tensor."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo


class CrossEntropy:
    """Cross-entropy over the last dimension; extra leading dimensions are flattened."""

    def __init__(self, label_smoothing: float, ignore_index: int, weight: Any = None) -> None:
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index
        self.weight = weight
        """Per-class weights (a float tensor), or None."""

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        return F.cross_entropy(
            preds.reshape(-1, preds.size(-1)),
            target.reshape(-1),
            weight=self.weight.to(preds.device) if self.weight is not None else None,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )


def cross_entropy(
    label_smoothing: float = 0.0,
    ignore_index: int = -100,
    class_weights: str = "auto",
    *,
    info: DataInfo,
) -> CrossEntropy:
    """Cross-entropy on logits (next-token prediction or class logits).

    Args:
        label_smoothing: Share of probability mass spread over all classes.
        ignore_index: Target value that contributes no loss (padding).
        class_weights: ``auto``: weight classes by ``DataInfo.class_weights`` when the data
            stage computed them (``data/balance=class_weights``); ``none``: never.
    """
    if class_weights not in ("auto", "none"):
        from framework.errors import PlaitError

        raise PlaitError(f"loss.class_weights must be 'auto' or 'none', not '{class_weights}'")
    weight = None
    if class_weights == "auto" and info.class_weights:
        import torch

        weight = torch.tensor(info.class_weights, dtype=torch.float32)
    return CrossEntropy(label_smoothing, ignore_index, weight)
