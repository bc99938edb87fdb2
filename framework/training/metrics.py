"""Built-in metrics, all torchmetrics; classification metrics take the multiclass or the
multi-label form from ``DataInfo.target``."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo

LABELLED = ("class", "multilabel")
"""Targets of metrics that compare predicted classes with labels."""


def perplexity(*, info: DataInfo) -> Any:
    """Perplexity of next-token predictions: exp of the mean token cross-entropy."""
    from torchmetrics.text import Perplexity

    return Perplexity()


def _width(info: DataInfo, name: str) -> int:
    from framework.errors import PlaitError

    width = info.num_outputs or info.num_classes
    if not width or info.target not in LABELLED:
        raise PlaitError(f"metric '{name}' needs class labels; the data has none")
    return width


def _classification(kind: str, info: DataInfo, name: str, **kw: Any) -> Any:
    """torchmetrics' ``Multiclass<kind>`` or ``Multilabel<kind>`` for the data's targets."""
    from torchmetrics import classification as C

    width = _width(info, name)
    if info.target == "multilabel":
        return getattr(C, f"Multilabel{kind}")(num_labels=width, **kw)
    return getattr(C, f"Multiclass{kind}")(num_classes=width, **kw)


def accuracy(*, info: DataInfo) -> Any:
    """Share of records whose top class is the label (multi-label: of labels right)."""
    return _classification("Accuracy", info, "accuracy", average="micro")


def exact_match(*, info: DataInfo) -> Any:
    """Multi-label: share of records whose whole label set is right."""
    from torchmetrics.classification import MultilabelExactMatch

    return MultilabelExactMatch(num_labels=_width(info, "exact_match"))


def _averaged(kind: str, average: str) -> Any:
    """A builder of a torchmetrics ``kind`` score with one averaging."""

    def build(*, info: DataInfo) -> Any:
        cls = {"precision": "Precision", "recall": "Recall", "f1": "F1Score"}[kind]
        mode = None if average == "per_class" else average
        return _classification(cls, info, f"{kind}_{average}", average=mode)

    what = {"macro": "each class counted equally", "micro": "over all records pooled",
            "weighted": "classes weighted by their support",
            "per_class": "one value per class"}[average]  # fmt: skip
    build.__doc__ = f"{kind.capitalize()} of class predictions, {what}."
    build.__name__ = f"{kind}_{average}"
    return build


AVERAGED = {
    f"{kind}_{average}": _averaged(kind, average)
    for kind in ("precision", "recall", "f1")
    for average in ("macro", "micro", "weighted", "per_class")
}
"""``precision_macro`` ... ``f1_per_class``: the twelve scores, by name; ``*_per_class`` are
logged as one value per class name (``test/f1_per_class/negative``)."""
LOGS = {
    f"{kind}_{average}": "per_class" if average == "per_class" else "number"
    for kind in ("precision", "recall", "f1")
    for average in ("macro", "micro", "weighted", "per_class")
}
"""What each of :data:`AVERAGED` logs (its ``logs`` capability)."""


def auroc(*, info: DataInfo) -> Any:
    """Area under the ROC curve, one-vs-rest per class, macro averaged."""
    return _classification("AUROC", info, "auroc", average="macro")


def map_macro(*, info: DataInfo) -> Any:
    """Mean average precision: area under each class's precision-recall curve, macro averaged."""
    return _classification("AveragePrecision", info, "map_macro", average="macro")


def confusion_matrix(*, info: DataInfo) -> Any:
    """Confusion matrix (rows: true class, columns: predicted; multi-label: a 2x2 per label),
    written to ``confusion_matrix_<split>.json`` and ``.png`` in the run dir."""
    return _classification("ConfusionMatrix", info, "confusion_matrix")


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
