"""Error analysis of a single-label classifier: every metric with its interval, per-class
figures, the confusion matrix and the most confused pairs, PR and ROC curves, calibration
(before and after temperature scaling), the worst records and metrics per slice."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from framework.evaluate import stats

WORST = 20
"""Records listed among the worst (highest loss)."""
PAIRS = 10
"""Most confused class pairs listed."""
EXAMPLES = 3
"""Example records per confused pair."""
TORCHMETRICS_REPLICATES = 200
"""Bootstrap replicates for metrics that are not a function of the confusion matrix (AUROC,
average precision, plugins' metrics): each replicate recomputes the torchmetrics object."""


@dataclass
class ClassRecords:
    """One evaluated set of records of a classifier."""

    logits: np.ndarray
    """(N, C) the model's logits."""
    true: np.ndarray
    """(N,) class ids."""
    labels: list[str]
    """Class names by id."""
    inputs: list[Any]
    """What each record shows in the report: its text, or its image as an (H, W[, C]) array."""
    lengths: np.ndarray | None = None
    """(N,) tokens per record (text), for the length slices."""
    columns: dict[str, list[Any]] = field(default_factory=dict)
    """Other source columns to slice by (``confidence``, a file name)."""
    near_train: np.ndarray | None = None
    """(N,) whether the record has a near duplicate in the training split."""

    @cached_property
    def probs(self) -> np.ndarray:
        """Softmax probabilities (computed once: every analysis reads them)."""
        return stats.softmax(self.logits)

    @cached_property
    def pred(self) -> np.ndarray:
        """Predicted class ids."""
        return self.logits.argmax(axis=1)


def losses(logits: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per-record cross-entropy in nats."""
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(z).sum(axis=1))
    return log_z - z[np.arange(len(true)), true]


def metric_intervals(
    recs: ClassRecords,
    scores: dict[str, Any],
    other: dict[str, Any],
    seed: int,
    replicates: int = stats.REPLICATES,
) -> dict[str, dict[str, float]]:
    """Each recipe metric with its 95% bootstrap interval: ``scores`` (name -> function of
    confusion matrices, what a metric declares as ``from_confusion``) over ``replicates``
    replicates; ``other`` (name -> torchmetrics object) over at most
    :data:`TORCHMETRICS_REPLICATES`; always accuracy, macro-F1 and the loss."""
    import torch

    c = len(recs.labels)
    headline = {n: stats.CONFUSION_SCORES[n] for n in ("accuracy", "f1_macro")}
    scored = dict(sorted({**headline, **scores}.items()))
    out = {
        k: v.to_dict()
        for k, v in stats.bootstrap_scores(
            recs.true, recs.pred, c, scored, replicates, seed
        ).items()
    }
    ce = losses(recs.logits, recs.true)
    out["cross_entropy"] = stats.mean_interval(ce, replicates, seed).to_dict()
    probs, true = torch.from_numpy(recs.probs).float(), torch.from_numpy(recs.true).long()

    for name, metric in other.items():

        def value(idx: np.ndarray, metric: Any = metric) -> float:
            metric.reset()
            i = torch.from_numpy(idx)
            return float(metric(probs[i], true[i]))

        out[name] = stats.bootstrap(
            value, len(true), min(replicates, TORCHMETRICS_REPLICATES), seed
        ).to_dict()
    return out


def per_class_table(recs: ClassRecords) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support of each class (scikit-learn's classification report)."""
    cm = stats.confusion(recs.true, recs.pred, len(recs.labels))
    pc = stats.per_class(cm)
    return [
        {
            "class": name,
            "precision": float(pc["precision"][i]),
            "recall": float(pc["recall"][i]),
            "f1": float(pc["f1"][i]),
            "support": int(pc["support"][i]),
        }
        for i, name in enumerate(recs.labels)
    ]


def confused_pairs(recs: ClassRecords, cm: np.ndarray) -> list[dict[str, Any]]:
    """The off-diagonal cells with the most records, each with example records."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:PAIRS]
    rows = cm.sum(axis=1)
    out = []
    probs = recs.probs
    for flat in order:
        t, p = divmod(int(flat), cm.shape[0])
        if off[t, p] == 0:
            break
        hits = np.flatnonzero((recs.true == t) & (recs.pred == p))
        hits = hits[np.argsort(-probs[hits, p])][:EXAMPLES]  # the most confident mistakes
        out.append(
            {
                "true": recs.labels[t],
                "predicted": recs.labels[p],
                "count": int(off[t, p]),
                "share_of_true": float(off[t, p] / max(rows[t], 1)),
                "examples": [int(i) for i in hits],
            }
        )
    return out


def curves(recs: ClassRecords) -> dict[str, Any]:
    """One-vs-rest ROC and precision-recall curves per class, with AUROC and average
    precision (None for a class without records)."""
    probs = recs.probs
    roc, pr = [], []
    for i, name in enumerate(recs.labels):
        c = stats.binary_curves(probs[:, i], recs.true == i)
        roc.append({"class": name, "fpr": thin(c["fpr"]), "tpr": thin(c["tpr"]),
                    "auroc": c["auroc"]})  # fmt: skip
        pr.append({"class": name, "precision": thin(c["precision"]), "recall": thin(c["recall"]),
                   "average_precision": c["average_precision"]})  # fmt: skip
    return {"roc": roc, "pr": pr}


CURVE_POINTS = 200
"""Points kept of each curve in ``eval.json`` (the areas are computed on every point)."""


def thin(values: Any) -> list[float]:
    """At most :data:`CURVE_POINTS` evenly spaced points of a curve, both ends kept."""
    values = np.asarray(values, dtype=float)
    if len(values) > CURVE_POINTS:
        values = values[np.linspace(0, len(values) - 1, CURVE_POINTS).round().astype(int)]
    return [round(float(v), 5) for v in values]


def calibration(recs: ClassRecords, val: ClassRecords | None) -> dict[str, Any]:
    """Reliability and expected calibration error of the top-class confidence; with
    validation records, the temperature fitted on them and the ECE after scaling."""
    probs = recs.probs
    conf, correct = probs.max(axis=1), recs.pred == recs.true
    out: dict[str, Any] = {"before": stats.reliability(conf, correct)}
    if val is not None and len(val.true):
        t = stats.fit_temperature(val.logits, val.true)
        scaled = stats.softmax(recs.logits, t)
        after = stats.reliability(scaled.max(axis=1), scaled.argmax(axis=1) == recs.true)
        out.update(
            temperature=t,
            after=after,
            nll_before=stats.nll(recs.logits, recs.true),
            nll_after=stats.nll(recs.logits, recs.true, t),
        )
    return out


def worst(recs: ClassRecords, k: int = WORST) -> list[dict[str, Any]]:
    """The k records with the highest loss: index, true and predicted class, confidence."""
    loss = losses(recs.logits, recs.true)
    probs = recs.probs
    out = []
    for i in np.argsort(-loss)[:k]:
        i = int(i)
        out.append(
            {
                "index": i,
                "true": recs.labels[recs.true[i]],
                "predicted": recs.labels[recs.pred[i]],
                "confidence": float(probs[i].max()),
                "p_true": float(probs[i, recs.true[i]]),
                "loss": float(loss[i]),
            }
        )
    return out


def _slice_rows(
    recs: ClassRecords, groups: dict[str, np.ndarray], f1: bool = True
) -> list[dict[str, Any]]:
    """Records, accuracy (with interval) and macro-F1 of each group of records (``f1``
    false: groups of one true class, where macro-F1 says nothing the per-class table does
    not)."""
    c = len(recs.labels)
    rows = []
    right = (recs.pred == recs.true).astype(float)
    for name, mask in groups.items():
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            continue
        acc = stats.mean_interval(right[idx], replicates=400)
        cm = stats.confusion(recs.true[idx], recs.pred[idx], c)
        score = float(stats.CONFUSION_SCORES["f1_macro"](cm)) if f1 else None
        rows.append(
            {"slice": name, "records": len(idx), "accuracy": acc.to_dict(), "f1_macro": score}
        )
    return rows


def buckets(values: np.ndarray, k: int = 4) -> dict[str, np.ndarray]:
    """Masks of up to ``k`` quantile buckets of a numeric column, named by their ranges."""
    values = np.asarray(values, dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, k + 1)))
    if len(edges) < 2:
        return {f"= {edges[0]:g}": np.ones(len(values), bool)} if len(edges) else {}
    out = {}
    for j in range(len(edges) - 1):
        lo, hi = edges[j], edges[j + 1]
        last = j == len(edges) - 2
        mask = (values >= lo) & ((values <= hi) if last else (values < hi))
        out[f"[{lo:.3g}, {hi:.3g}{']' if last else ')'}"] = mask
    return out


def categories(values: list[Any], top: int = 10) -> dict[str, np.ndarray]:
    """Masks of the ``top`` most common values of a column (the rest together)."""
    from collections import Counter

    arr = np.array([str(v) for v in values], dtype=object)
    common = [v for v, _ in Counter(arr.tolist()).most_common(top)]
    out = {v: arr == v for v in common}
    rest = ~np.isin(arr, common)
    if rest.any():
        out["(other values)"] = rest
    return out


def numeric(values: list[Any]) -> bool:
    """Whether a column holds numbers (sliced by quantiles) rather than categories."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values[:1000])


def slices(recs: ClassRecords) -> dict[str, list[dict[str, Any]]]:
    """Accuracy and macro-F1 by true label, by input-length bucket, by each extra column and
    by whether a near duplicate of the record is in the training split."""
    by_label = {n: recs.true == i for i, n in enumerate(recs.labels)}
    out = {"label": _slice_rows(recs, by_label, f1=False)}
    if recs.lengths is not None:
        out["length (tokens)"] = _slice_rows(recs, buckets(recs.lengths))
    for name, values in recs.columns.items():
        groups = buckets(np.array(values, float)) if numeric(values) else categories(values)
        out[name] = _slice_rows(recs, groups)
    if recs.near_train is not None:
        out["near duplicate in train"] = _slice_rows(
            recs, {"yes": recs.near_train, "no": ~recs.near_train}
        )
    return out


def analyse(
    recs: ClassRecords,
    val: ClassRecords | None,
    scores: dict[str, Any],
    other: dict[str, Any],
    seed: int = 0,
    replicates: int = stats.REPLICATES,
) -> dict[str, Any]:
    """Every number of the classification report (JSON-ready); intervals from ``replicates``
    bootstrap resamples."""
    cm = stats.confusion(recs.true, recs.pred, len(recs.labels))
    return {
        "records": len(recs.true),
        "labels": list(recs.labels),
        "metrics": metric_intervals(recs, scores, other, seed, replicates),
        "per_class": per_class_table(recs),
        "confusion": cm.tolist(),
        "confused_pairs": confused_pairs(recs, cm),
        "curves": curves(recs),
        "calibration": calibration(recs, val),
        "worst": worst(recs),
        "slices": slices(recs),
    }
