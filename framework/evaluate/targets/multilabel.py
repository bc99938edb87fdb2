"""Sets of labels (multi-label): each recipe metric with its interval and per-label
precision, recall, F1 and support; the labels above 0.5 with every probability per record
(``predictions.csv``, ``plait predict``); ``plait compare`` shows the metrics side by side
(no paired test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from framework.eda.html import table
from framework.evaluate import stats
from framework.evaluate.analysis import Analysis
from framework.evaluate.records import EvalSet, record_inputs
from framework.evaluate.report import metrics_table
from framework.evaluate.scoring import recipe_metrics, score, score_texts, write_predictions


def evaluate(
    m: Any, evalset: EvalSet, registry: Any, opts: Any, out: Path, files: dict[str, str]
) -> dict[str, Any]:
    """Score ``evalset`` and analyse it as label sets (see :class:`Analysis`)."""
    outputs, _ = score(m, evalset.records, opts.batch_size, evalset.name)
    numbers = _numbers(m, outputs, registry, opts)
    labels = list(m.info.labels or [])
    probs = 1 / (1 + np.exp(-outputs.predictions))
    write_predictions(
        out,
        record_inputs(evalset.records),
        [
            {
                "true": "|".join(n for n, t in zip(labels, truth) if t),
                "predicted": "|".join(n for n, p in zip(labels, row) if p > 0.5),
                **{f"p_{n}": float(p) for n, p in zip(labels, row)},
            }
            for truth, row in zip(outputs.targets.astype(int), probs)
        ],
    )
    return {"multilabel": numbers, "seconds": {"model": outputs.seconds}}


def _numbers(m: Any, outputs: Any, registry: Any, opts: Any) -> dict[str, Any]:
    """Each recipe metric with its interval, and per-label figures."""
    import torch

    probs = torch.sigmoid(torch.from_numpy(outputs.predictions)).float()
    true = torch.from_numpy(outputs.targets).long()
    metrics = {}
    for key, node in recipe_metrics(m, registry).items():
        metric = registry.build("metric", node, info=m.info)

        def value(idx: np.ndarray, metric: Any = metric) -> float:
            metric.reset()
            i = torch.from_numpy(idx)
            return float(metric(probs[i], true[i]))

        metrics[key] = stats.bootstrap(
            value, len(true), min(opts.replicates, 200), opts.seed
        ).to_dict()
    pred = (probs > 0.5).long().numpy()
    t = outputs.targets.astype(int)
    labels = list(m.info.labels or [])
    per_label = []
    for j, name in enumerate(labels):
        cm = stats.confusion(t[:, j], pred[:, j], 2)
        pc = stats.per_class(cm)
        per_label.append(
            {
                "class": name,
                "precision": float(pc["precision"][1]),
                "recall": float(pc["recall"][1]),
                "f1": float(pc["f1"][1]),
                "support": int(pc["support"][1]),
            }
        )
    return {"records": len(t), "metrics": metrics, "per_class": per_label}


def predict(m: Any, texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    """The labels above 0.5 (joined by ``|``) and each label's probability, per text."""
    outputs = score_texts(m, texts, batch_size, [])
    labels = list(m.info.labels or [])
    probs = 1 / (1 + np.exp(-outputs.predictions))
    return [
        {
            "predicted": "|".join(n for n, p in zip(labels, row) if p > 0.5),
            **{f"p_{n}": float(p) for n, p in zip(labels, row)},
        }
        for row in probs
    ]


def report(ml: dict[str, Any], inputs: list[Any]) -> list[str]:
    """The report's sections for label sets."""
    rows = [
        [r["class"], r["precision"], r["recall"], r["f1"], r["support"]] for r in ml["per_class"]
    ]
    return [
        "<h2>Metrics</h2>",
        metrics_table(ml["metrics"]),
        "<h2>Per label</h2>",
        table(["label", "precision", "recall", "F1", "support"], rows),
    ]


ANALYSIS = Analysis("multilabel", evaluate, predict, report)
"""Label sets' analysis."""
