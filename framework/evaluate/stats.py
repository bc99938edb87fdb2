"""The numbers of an evaluation: classification scores from a confusion matrix, bootstrap
confidence intervals (one resampling of the records shared by every metric), the paired
bootstrap between two models on the same records, expected calibration error and temperature
scaling. NumPy only, vectorized over the bootstrap replicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from framework.scores import (  # noqa: F401  (stats' own vocabulary too)
    CONFUSION_SCORES,
    accuracy,
    confusion,
    confusions,
    per_class,
    safe_divide,
)

REPLICATES = 1000
"""Bootstrap replicates behind every interval."""
LEVEL = 0.95
"""Coverage of every interval."""


@dataclass(frozen=True)
class Interval:
    """A figure with its bootstrap percentile interval."""

    value: float
    """The figure on the records as they are."""
    low: float
    """Lower end of the interval."""
    high: float
    """Upper end of the interval."""

    def to_dict(self) -> dict[str, float]:
        """``{"value", "low", "high"}`` for ``eval.json``."""
        return {"value": self.value, "low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


def resamples(n: int, replicates: int = REPLICATES, seed: int = 0) -> np.ndarray:
    """(replicates, n) record indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(replicates, n))


def bootstrap_scores(
    true: np.ndarray,
    pred: np.ndarray,
    classes: int,
    scores: dict[str, Callable[[np.ndarray], np.ndarray]],
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Interval]:
    """Each score of ``scores`` (name -> function of confusion matrices (..., C, C)) with its
    bootstrap interval, every replicate's matrix built in one pass."""
    idx = resamples(len(true), replicates, seed)
    full, boot = confusion(true, pred, classes), confusions(true, pred, classes, idx)
    return {name: interval(float(fn(full)), fn(boot)) for name, fn in scores.items()}


def interval(value: float, replicates: np.ndarray, level: float = LEVEL) -> Interval:
    """The percentile interval of bootstrap ``replicates`` around ``value``."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(replicates, dtype=float), [tail, 100 - tail])
    return Interval(float(value), float(low), float(high))


def bootstrap(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> Interval:
    """The interval of ``statistic(indices)`` (a float) over bootstrap resamples of n records;
    ``statistic(np.arange(n))`` is the value."""
    idx = resamples(n, replicates, seed)
    return interval(float(statistic(np.arange(n))), np.array([statistic(i) for i in idx]))


def mean_interval(values: np.ndarray, replicates: int = REPLICATES, seed: int = 0) -> Interval:
    """The mean of per-record ``values`` with its bootstrap interval (vectorized)."""
    values = np.asarray(values, dtype=float)
    idx = resamples(len(values), replicates, seed)
    return interval(float(values.mean()), values[idx].mean(axis=1))


def ratio_interval(
    num: np.ndarray,
    den: np.ndarray,
    transform: Callable[[np.ndarray], Any] = lambda x: x,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> Interval:
    """``transform(sum(num) / sum(den))`` over records (documents: loss and token counts),
    with its bootstrap interval."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    idx = resamples(len(num), replicates, seed)
    boot = transform(num[idx].sum(1) / np.maximum(den[idx].sum(1), 1e-12))
    return interval(float(transform(num.sum() / max(den.sum(), 1e-12))), boot)


def paired_bootstrap(
    a: np.ndarray, b: np.ndarray, replicates: int = REPLICATES, seed: int = 0
) -> dict[str, float]:
    """Paired bootstrap of per-record scores (1 right, 0 wrong; or any per-record score) of
    two models on the same records: the mean difference a - b, its interval, and the
    two-sided p-value of 'no difference' (the share of replicates on the other side of 0,
    doubled)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    idx = resamples(len(diff), replicates, seed)
    boot = diff[idx].mean(axis=1)
    iv = interval(float(diff.mean()), boot)
    below, above = float((boot <= 0).mean()), float((boot >= 0).mean())
    return {**iv.to_dict(), "p_value": min(1.0, 2 * min(below, above))}


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (the analytic reference)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


BINS = 15
"""Equal-width confidence bins of the calibration figures."""


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """Per equal-width confidence bin: records, mean confidence, accuracy; and the expected
    calibration error (the bins' |accuracy - confidence| weighted by their share)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    conf = safe_divide(np.bincount(which, confidence, bins), counts)
    acc = safe_divide(np.bincount(which, correct, bins), counts)
    ece = float((counts * np.abs(acc - conf)).sum() / max(len(confidence), 1))
    return {
        "counts": counts.tolist(),
        "confidence": conf.tolist(),
        "accuracy": acc.tolist(),
        "ece": ece,
    }


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, true: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the true classes at ``temperature``."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(z).sum(axis=1))
    return float((log_z - z[np.arange(len(true)), true]).mean())


def fit_temperature(logits: np.ndarray, true: np.ndarray) -> float:
    """The temperature minimizing the validation negative log-likelihood (Guo et al. 2017),
    by golden-section search on log T in [1/20, 20] (the NLL is unimodal in T)."""
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(logits, true, np.exp(a)), nll(logits, true, np.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, true, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, true, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def binary_curves(score: np.ndarray, positive: np.ndarray) -> dict[str, Any]:
    """ROC and precision-recall curves of one class's scores, one point per distinct score,
    with the area under the ROC curve (trapezoids) and the average precision (the
    step-wise sum of precision times the gain in recall), as scikit-learn defines them. (Here
    rather than torchmetrics' functional forms: importing those takes 4.7 s, three times the
    forward pass over the tweets' test split.)"""
    score = np.asarray(score, dtype=float)
    y = np.asarray(positive, dtype=bool)
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last record of each threshold
    tps = np.cumsum(y)[last].astype(float)
    fps = (last + 1) - tps
    pos, neg = (tps[-1], fps[-1]) if len(tps) else (0.0, 0.0)
    tpr = np.r_[0.0, tps / pos] if pos else np.zeros(len(tps) + 1)
    fpr = np.r_[0.0, fps / neg] if neg else np.zeros(len(fps) + 1)
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / pos if pos else np.zeros(len(tps))
    return {
        "fpr": fpr, "tpr": tpr, "precision": np.r_[1.0, precision], "recall": np.r_[0.0, recall],
        "auroc": float(np.trapezoid(tpr, fpr)) if pos and neg else None,
        "average_precision": float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
        if pos else None,
    }  # fmt: skip
