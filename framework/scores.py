"""Single-label scores from confusion matrices (NumPy only): one matrix (C, C) or a stack
of bootstrap replicates (R, C, C), rows true, columns predicted. The built-in metrics declare
theirs (``from_confusion``); training and evaluation both read them here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def confusion(true: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts, rows the true class, columns the predicted one."""
    flat = np.asarray(true, dtype=np.int64) * classes + np.asarray(pred, dtype=np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def confusions(true: np.ndarray, pred: np.ndarray, classes: int, idx: np.ndarray) -> np.ndarray:
    """One confusion matrix per row of ``idx`` (bootstrap replicates): (R, C, C)."""
    flat = np.asarray(true, dtype=np.int64) * classes + np.asarray(pred, dtype=np.int64)
    r = idx.shape[0]
    offset = (np.arange(r, dtype=np.int64) * classes * classes)[:, None]
    counts = np.bincount((flat[idx] + offset).ravel(), minlength=r * classes * classes)
    return counts.reshape(r, classes, classes)


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class from confusion matrices (..., C, C);
    0 where undefined, as scikit-learn's ``zero_division=0``."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1).astype(float)
    predicted, support = cm.sum(axis=-2).astype(float), cm.sum(axis=-1).astype(float)
    precision, recall = safe_divide(tp, predicted), safe_divide(tp, support)
    f1 = safe_divide(2 * tp, predicted + support)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def _averaged(kind: str, average: str) -> Callable[[np.ndarray], np.ndarray]:
    def score(cm: np.ndarray) -> np.ndarray:
        pc = per_class(cm)
        if average == "macro":
            return pc[kind].mean(axis=-1)
        if average == "weighted":
            return safe_divide((pc[kind] * pc["support"]).sum(-1), pc["support"].sum(-1))
        return accuracy(cm)  # micro averages of single-label predictions equal accuracy

    return score


def accuracy(cm: np.ndarray) -> np.ndarray:
    """Share of records on the diagonal."""
    return safe_divide(np.trace(cm, axis1=-2, axis2=-1).astype(float), cm.sum(axis=(-2, -1)))


CONFUSION_SCORES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "accuracy": accuracy,
    **{
        f"{kind}_{average}": _averaged(kind, average)
        for kind in ("precision", "recall", "f1")
        for average in ("macro", "micro", "weighted")
    },
}
"""Single-label scores computed from confusion matrices: the built-in metrics declare theirs
(``from_confusion``); the evaluation's headline accuracy and macro-F1 are two of them."""
