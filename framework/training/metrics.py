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


def _averaged(kind: str, average: str) -> Any:
    """A builder of a torchmetrics multiclass ``kind`` score with one averaging."""

    def build(*, info: DataInfo) -> Any:
        from torchmetrics import classification as C

        cls = {"precision": C.MulticlassPrecision, "recall": C.MulticlassRecall,
               "f1": C.MulticlassF1Score}[kind]  # fmt: skip
        mode = None if average == "per_class" else average
        return cls(num_classes=_classes(info, f"{kind}_{average}"), average=mode)

    what = {"macro": "each class counted equally", "micro": "over all records pooled",
            "weighted": "classes weighted by their support",
            "per_class": "one value per class"}[average]  # fmt: skip
    build.__doc__ = f"{kind.capitalize()} of multiclass predictions, {what}."
    build.__name__ = f"{kind}_{average}"
    return build


AVERAGED = {
    f"{kind}_{average}": _averaged(kind, average)
    for kind in ("precision", "recall", "f1")
    for average in ("macro", "micro", "weighted", "per_class")
}
"""``precision_macro`` ... ``f1_per_class``: the twelve scores, by name; ``*_per_class`` are
logged as one value per class name (``test/f1_per_class/negative``)."""


def auroc(*, info: DataInfo) -> Any:
    """Area under the ROC curve, one-vs-rest per class, macro averaged."""
    from torchmetrics.classification import MulticlassAUROC

    return MulticlassAUROC(num_classes=_classes(info, "auroc"), average="macro")


def map_macro(*, info: DataInfo) -> Any:
    """Mean average precision: area under each class's precision-recall curve, macro averaged."""
    from torchmetrics.classification import MulticlassAveragePrecision

    return MulticlassAveragePrecision(num_classes=_classes(info, "map_macro"), average="macro")


def mse(*, info: DataInfo) -> Any:
    """Mean squared error of numeric predictions."""
    from torchmetrics.regression import MeanSquaredError

    return MeanSquaredError()


def mae(*, info: DataInfo) -> Any:
    """Mean absolute error of numeric predictions."""
    from torchmetrics.regression import MeanAbsoluteError

    return MeanAbsoluteError()


def r2(*, info: DataInfo) -> Any:
    """Coefficient of determination (R^2) of numeric predictions."""
    from torchmetrics.regression import R2Score

    return R2Score()
