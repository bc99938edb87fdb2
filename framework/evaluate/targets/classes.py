"""Classes (one label per record, from text or pixels): every recipe metric with its
interval, per-class figures, the confusion matrix, ROC and precision-recall curves,
calibration, the worst records and metrics per slice; probabilities per class in
``plait predict``; paired accuracy and macro-F1 in ``plait compare``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from framework.eda.html import esc, table
from framework.evaluate import charts, classify, stats
from framework.evaluate.analysis import Analysis
from framework.evaluate.records import EvalSet, record_inputs, slice_columns
from framework.evaluate.report import metrics_table, rows_with_inputs
from framework.evaluate.scoring import recipe_metrics, score, score_texts, write_predictions
from framework.records import TEXT


def evaluate(
    m: Any, evalset: EvalSet, registry: Any, opts: Any, out: Path, files: dict[str, str]
) -> dict[str, Any]:
    """Score ``evalset`` and analyse it as classes (see :class:`Analysis`)."""
    ds = evalset.records
    outputs, data = score(m, ds, opts.batch_size, evalset.name)
    seconds = {"model": outputs.seconds}
    t0 = time.perf_counter()
    inputs = record_inputs(ds)
    labels = list(m.info.labels or [str(i) for i in range(outputs.predictions.shape[1])])
    recs = classify.ClassRecords(
        outputs.predictions,
        outputs.targets.astype(int),
        labels,
        inputs,
        np.array(data.lengths()) if hasattr(data, "lengths") else None,
        slice_columns(ds, opts.slices),
    )
    if evalset.train_texts is not None and TEXT in ds.column_names:
        from framework.evaluate.leakage import near_in_train

        recs.near_train = near_in_train(evalset.train_texts, inputs)
    val = None
    if evalset.val is not None:
        val_out, _ = score(m, evalset.val, opts.batch_size, "val")
        seconds["model"] += val_out.seconds
        val = classify.ClassRecords(val_out.predictions, val_out.targets.astype(int), labels, [])
    scores, other = _recipe_scores(m, registry)
    numbers = classify.analyse(recs, val, scores, other, opts.seed, opts.replicates)
    if opts.report:
        cm = np.array(numbers["confusion"])
        files["Confusion matrix (records)"] = charts.confusion(cm, labels, out, normalized=False)
        files["Confusion matrix (share of each true class)"] = charts.confusion(cm, labels, out,
                                                                               True)  # fmt: skip
        files["ROC and precision-recall per class"] = charts.class_curves(numbers["curves"], out)
        files["Reliability"] = charts.reliability(numbers["calibration"], out)
    probs = recs.probs
    loss = classify.losses(recs.logits, recs.true)
    write_predictions(
        out,
        inputs,
        [
            {
                "true": labels[t],
                "predicted": labels[p],
                "confidence": float(pr.max()),
                "loss": float(lo),
                **{f"p_{n}": float(v) for n, v in zip(labels, pr)},
            }
            for t, p, pr, lo in zip(recs.true, recs.pred, probs, loss)
        ],
    )
    seconds["analysis"] = time.perf_counter() - t0
    return {"classification": numbers, "seconds": seconds}


def _recipe_scores(m: Any, registry: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The recipe's metrics by key: those that declare a score of the confusion matrix
    (``from_confusion``, bootstrapped in one pass), and the others built as torchmetrics
    objects."""
    scores, other = {}, {}
    for key, node in recipe_metrics(m, registry).items():
        score = registry.contract("metric", node).from_confusion
        if score is not None:
            scores[key] = score
        else:
            other[key] = registry.build("metric", node, info=m.info)
    return scores, other


def predict(m: Any, texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    """The label, its probability and each class's probability, per text."""
    outputs = score_texts(m, texts, batch_size, 0)
    labels = list(m.info.labels or [])
    probs = stats.softmax(outputs.predictions)
    return [
        {
            "predicted": labels[int(row.argmax())],
            "confidence": float(row.max()),
            **{f"p_{n}": float(p) for n, p in zip(labels, row)},
        }
        for row in probs
    ]


def paired(a: list[dict[str, str]], b: list[dict[str, str]], idx: np.ndarray) -> dict[str, Any]:
    """Accuracy and macro-F1 of b minus a over the resamples ``idx``."""
    names = sorted({r["true"] for r in a} | {r["predicted"] for r in a + b})
    code = {n: i for i, n in enumerate(names)}
    true = np.array([code[r["true"]] for r in a])
    pa = np.array([code[r["predicted"]] for r in a])
    pb = np.array([code[r["predicted"]] for r in b])
    c = len(names)
    out = {}
    for metric in ("accuracy", "f1_macro"):
        fn = stats.CONFUSION_SCORES[metric]
        full = float(fn(stats.confusion(true, pb, c)) - fn(stats.confusion(true, pa, c)))
        boot = fn(stats.confusions(true, pb, c, idx)) - fn(stats.confusions(true, pa, c, idx))
        out[metric] = (full, boot)
    return out


def report(c: dict[str, Any], inputs: list[Any]) -> list[str]:
    """The report's sections for classes."""
    parts = ["<h2>Metrics</h2>", metrics_table(c["metrics"])]
    rows = [
        [r["class"], r["precision"], r["recall"], r["f1"], r["support"]] for r in c["per_class"]
    ]
    parts += ["<h2>Per class</h2>", table(["class", "precision", "recall", "F1", "support"], rows)]
    parts.append("<h2>Most confused classes</h2>")
    if c["confused_pairs"]:
        pair_rows = []
        for p in c["confused_pairs"]:
            examples = "\n".join(
                "• " + str(inputs[i])[:200] for i in p["examples"] if isinstance(inputs[i], str)
            )
            pair_rows.append(
                [p["true"], p["predicted"], p["count"], f"{p['share_of_true']:.1%}", examples]
            )
        header = ["true", "predicted as", "records", "share of true class", "examples"]
        parts.append(table(header, pair_rows, text_cols=(4,)))
    else:
        parts.append("<p>no mistakes</p>")
    cal = c["calibration"]
    line = f"expected calibration error {cal['before']['ece']:.4f}"
    if "after" in cal:
        line += (
            f"; temperature {cal['temperature']:.3f} fitted on the validation split: ECE "
            f"{cal['after']['ece']:.4f}, NLL {cal['nll_before']:.4f} → {cal['nll_after']:.4f}"
        )
    parts += ["<h2>Calibration</h2>", f"<p>{esc(line)}</p>"]
    worst = c["worst"]
    parts.append("<h2>Worst records (highest loss)</h2>")
    parts.append(
        rows_with_inputs(
            ["true", "predicted", "confidence", "p(true)", "loss"],
            [[w["true"], w["predicted"], w["confidence"], w["p_true"], w["loss"]] for w in worst],
            [inputs[w["index"]] for w in worst],
        )
    )
    parts.append("<h2>Metrics per slice</h2>")
    for name, rows in c["slices"].items():
        shown = [
            [
                r["slice"],
                r["records"],
                r["accuracy"]["value"],
                f"[{r['accuracy']['low']:.3f}, {r['accuracy']['high']:.3f}]",
                "" if r["f1_macro"] is None else r["f1_macro"],
            ]
            for r in rows
        ]
        parts.append(f"<h3>by {esc(name)}</h3>")
        parts.append(table(["slice", "records", "accuracy", "95% interval", "macro-F1"], shown))
    return parts


ANALYSIS = Analysis("classification", evaluate, predict, report, paired)
"""Classes' analysis."""
