"""Built-in losses: callables (predictions, targets) -> scalar tensor."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import NON_NEGATIVE, UNIT
from framework.datainfo import DataInfo


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
    label_smoothing: Annotated[float, UNIT] = 0.0,
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
    return CrossEntropy(label_smoothing, ignore_index, _class_weights(class_weights, info))


def _class_weights(setting: str, info: DataInfo) -> Any:
    """DataInfo's class weights as a tensor under ``auto``; None under ``none``."""
    if setting not in ("auto", "none"):
        from framework.errors import PlaitError

        raise PlaitError(f"loss.class_weights must be 'auto' or 'none', not '{setting}'")
    if setting == "none" or not info.class_weights:
        return None
    import torch

    return torch.tensor(info.class_weights, dtype=torch.float32)


class FocalLoss:
    """Focal loss (Lin et al., 2017): cross-entropy scaled by ``(1 - p_true) ** gamma``."""

    def __init__(self, gamma: float, weight: Any = None) -> None:
        self.gamma, self.weight = gamma, weight

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        logits = preds.reshape(-1, preds.size(-1))
        target = target.reshape(-1)
        logp = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)
        loss = -((1 - logp.exp()) ** self.gamma) * logp
        if self.weight is None:
            return loss.mean()
        w = self.weight.to(loss.device)[target]
        return (loss * w).sum() / w.sum()


def focal(
    gamma: Annotated[float, NON_NEGATIVE] = 2.0, class_weights: str = "auto", *, info: DataInfo
) -> FocalLoss:
    """Focal loss for imbalanced classes: easy, confident examples count less.

    Args:
        gamma: Focusing strength (0: cross-entropy).
        class_weights: ``auto``: weight classes by ``DataInfo.class_weights`` when the data
            stage computed them; ``none``: never.
    """
    return FocalLoss(gamma, _class_weights(class_weights, info))


class BCEWithLogits:
    """Binary cross-entropy on logits, one independent output per class (multi-label)."""

    def __init__(self, pos_weight: Any = None) -> None:
        self.pos_weight = pos_weight

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        pw = self.pos_weight.to(preds.device) if self.pos_weight is not None else None
        return F.binary_cross_entropy_with_logits(preds, target.to(preds.dtype), pos_weight=pw)


def bce_with_logits(pos_weight: list[float] | None = None, *, info: DataInfo) -> BCEWithLogits:
    """Binary cross-entropy with logits, for multi-label targets (one 0/1 column per class).

    Args:
        pos_weight: Weight of the positive examples of each class (negatives / positives
            balances them); null: 1 for every class.
    """
    import torch

    weight = torch.tensor(pos_weight, dtype=torch.float32) if pos_weight is not None else None
    return BCEWithLogits(weight)


class MSE:
    """Mean squared error between predictions and numeric targets of the same shape."""

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        return F.mse_loss(preds.reshape(target.shape).float(), target.float())


def mse(*, info: DataInfo) -> MSE:
    """Mean squared error, for regression."""
    return MSE()
