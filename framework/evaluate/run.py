"""One evaluation: score the records with the trained model, analyse them as the task asks
(classes, values or tokens), and write ``eval/`` (``eval.json``, ``predictions.csv``, the
charts and ``report.html``)."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.records import TEXT, column
from framework.evaluate import charts
from framework.evaluate.records import (
    EvalSet,
    prepared,
    record_inputs,
    slice_columns,
    tokenized,
)
from framework.rundir import EVAL_JSON, PREDICTIONS


@dataclass
class EvalOptions:
    """What an evaluation does beyond scoring."""

    batch_size: int = 64
    """Records per forward pass."""
    slices: list[str] | None = None
    """Source columns to slice the metrics by; None: every numeric or categorical one."""
    seed: int = 0
    """Seed of the bootstrap resampling."""
    replicates: int = 1000
    """Bootstrap resamples behind each interval."""
    samples: list[str] = field(default_factory=list)
    """Language models: texts sampled from the recipe's prompts, shown in the report."""
    metrics_csv: Path | None = None
    """The run's ``metrics.csv``: its training curves go into the report."""


@dataclass
class Model:
    """A trained model and what it was trained with."""

    cfg: Any
    """The run's config."""
    model: Any
    """The network, with the weights to evaluate."""
    tokenizer: Any
    """The run's tokenizer (None for images)."""
    info: Any
    """The run's DataInfo."""
    task: Any
    """The run's task, built from its config."""
    precision: str | None = None
    """The precision the run trained in (``trainer.precision`` or what it resolved to); the
    forward passes follow it where this machine runs it natively (None: float32)."""


def scoring_precision(m: Model) -> str:
    """What the forward passes compute in: ``float32``, ``bfloat16`` or ``float16``."""
    from framework.evaluate.inference import autocast_dtype

    dtype = autocast_dtype(m.precision, next(m.model.parameters()).device)
    return str(dtype).removeprefix("torch.") if dtype is not None else "float32"


def kind_of(task: Any) -> str:
    """``classification``, ``multilabel``, ``regression`` or ``language``."""
    return {
        "class": "classification",
        "multilabel": "multilabel",
        "value": "regression",
        "tokens": "language",
    }.get(task.target, "classification")


def evaluate(
    m: Model, evalset: EvalSet, registry: Any, out: Path, opts: EvalOptions
) -> dict[str, Any]:
    """Evaluate ``m`` on ``evalset`` into the folder ``out``; returns every number."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    kind = kind_of(m.task)
    doc: dict[str, Any] = {
        "kind": kind,
        "records_from": evalset.name,
        "notes": evalset.notes,
        "checkpoint_config": m.cfg.get("name"),
        "precision": scoring_precision(m),
    }
    chart_files: dict[str, str] = {}
    if kind == "language":
        doc.update(_language(m, evalset, opts, out, chart_files))
    else:
        doc.update(_per_record(m, evalset, registry, opts, out, chart_files, kind))
    if opts.metrics_csv is not None and Path(opts.metrics_csv).is_file():
        from framework.training.curves import plot_curves

        if plot_curves(opts.metrics_csv, out / "curves.png"):
            chart_files["Training curves (train and validation)"] = "curves.png"
    doc["charts"] = chart_files
    from framework.evaluate.report import write_report

    write_report(doc, out, evalset)
    doc["seconds"] = {**doc.get("seconds", {}), "total": time.perf_counter() - started}
    (out / EVAL_JSON).write_text(json.dumps(doc, indent=1, ensure_ascii=False), "utf-8")
    return doc


def score(m: Model, ds: Any, batch_size: int) -> tuple[Any, Any]:
    """(outputs, the prepared torch dataset) of the model on the records ``ds``."""
    from framework.evaluate.inference import predict_records

    ds = tokenized(ds, m.tokenizer, False, m.info.max_length)
    data = prepared(m.task, ds, m.tokenizer, m.info)
    return predict_records(m.model, m.task, data, batch_size, m.precision), data


def _per_record(
    m: Model,
    evalset: EvalSet,
    registry: Any,
    opts: EvalOptions,
    out: Path,
    files: dict[str, str],
    kind: str,
) -> dict[str, Any]:
    from framework.evaluate import classify, regress

    ds = evalset.records
    outputs, data = score(m, ds, opts.batch_size)
    seconds = {"model": outputs.seconds}
    t0 = time.perf_counter()
    inputs = record_inputs(ds)
    if kind == "regression":
        pred, true = outputs.predictions.reshape(-1), outputs.targets.astype(float)
        numbers = regress.analyse(pred, true, opts.seed, opts.replicates)
        files["Predicted vs true, residuals"] = charts.regression(pred, true, out)
        _write_predictions(
            out, inputs, [{"true": t, "predicted": p, "error": p - t} for t, p in zip(true, pred)]
        )
        seconds["analysis"] = time.perf_counter() - t0
        return {"regression": numbers, "seconds": seconds}
    if kind == "multilabel":
        return {"multilabel": _multilabel(m, outputs, registry, opts), "seconds": seconds}
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
        val_out, _ = score(m, evalset.val, opts.batch_size)
        seconds["model"] += val_out.seconds
        val = classify.ClassRecords(val_out.predictions, val_out.targets.astype(int), labels, [])
    names, other = _metric_names(m, registry)
    numbers = classify.analyse(recs, val, names, other, opts.seed, opts.replicates)
    cm = np.array(numbers["confusion"])
    files["Confusion matrix (records)"] = charts.confusion(cm, labels, out, normalized=False)
    files["Confusion matrix (share of each true class)"] = charts.confusion(cm, labels, out, True)
    files["ROC and precision-recall per class"] = charts.class_curves(numbers["curves"], out)
    files["Reliability"] = charts.reliability(numbers["calibration"], out)
    probs = recs.probs
    loss = classify.losses(recs.logits, recs.true)
    _write_predictions(
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


def _recipe_metrics(m: Model, registry: Any) -> dict[str, Any]:
    """The recipe's metric nodes by key (the task's defaults when it names none) that log
    one number: the report's own tables show the per-class and matrix ones."""
    from framework.kinds import NAME_KEY

    nodes = m.cfg.get("metric") or {n: {NAME_KEY: n} for n in m.task.default_metrics}
    return {key: node for key, node in nodes.items()
            if registry.contract("metric", node).logs == "number"}  # fmt: skip


def _metric_names(m: Model, registry: Any) -> tuple[list[str], dict[str, Any]]:
    """The recipe's metrics: names scored from the confusion matrix, and the others built
    as torchmetrics objects."""
    from framework.evaluate.stats import CONFUSION_SCORES
    from framework.kinds import NAME_KEY

    names, other = [], {}
    for key, node in _recipe_metrics(m, registry).items():
        name = node.get(NAME_KEY, key) if hasattr(node, "get") else key
        if name in CONFUSION_SCORES:
            names.append(name)
        else:
            other[key] = registry.build("metric", node, info=m.info)
    return names, other


def _multilabel(m: Model, outputs: Any, registry: Any, opts: EvalOptions) -> dict[str, Any]:
    """Multi-label: each recipe metric with its interval, and per-label figures."""
    import torch

    from framework.evaluate import stats

    probs = torch.sigmoid(torch.from_numpy(outputs.predictions)).float()
    true = torch.from_numpy(outputs.targets).long()
    metrics = {}
    for key, node in _recipe_metrics(m, registry).items():
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


def _language(
    m: Model, evalset: EvalSet, opts: EvalOptions, out: Path, files: dict[str, str]
) -> dict[str, Any]:
    from framework.evaluate import language
    from framework.evaluate.inference import token_losses

    texts = [t for t in column(evalset.records, TEXT) if t]
    docs = m.tokenizer.encode_batch(texts)
    scored = token_losses(
        m.model, docs, m.info.max_length, opts.batch_size, m.tokenizer.eos_id, m.precision
    )
    t0 = time.perf_counter()
    numbers = language.analyse(scored, texts, m.tokenizer, opts.seed, opts.replicates)
    numbers["samples"] = list(opts.samples)
    files["Per-token loss"] = charts.token_loss(numbers["token_loss"], out)
    files["Per-document perplexity"] = charts.document_perplexity(numbers["per_document"], out)
    loss, count = language.per_document(scored, len(texts))
    _write_predictions(
        out,
        texts,
        [
            {"tokens": int(c), "loss_sum": float(lo), "perplexity": float(np.exp(lo / max(c, 1)))}
            for lo, c in zip(loss, count)
        ],
    )
    return {
        "language": numbers,
        "seconds": {"model": scored.seconds, "analysis": time.perf_counter() - t0},
    }


def _write_predictions(out: Path, inputs: list[Any], rows: list[dict[str, Any]]) -> None:
    """``predictions.csv``: one row per record, in order, its input (text) first."""
    if not rows:
        return
    text = bool(inputs) and isinstance(inputs[0], str)
    header = ["index", *(["text"] if text else []), *rows[0]]
    with open(out / PREDICTIONS, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, row in enumerate(rows):
            w.writerow(
                [
                    i,
                    *([inputs[i]] if text else []),
                    *[f"{v:.6g}" if isinstance(v, float) else v for v in row.values()],
                ]
            )
