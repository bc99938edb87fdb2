"""Values (a number per record): MSE, MAE and R² with intervals, predicted against true,
the largest errors; the value in ``plait predict``; paired MSE in ``plait compare``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from framework.evaluate import charts, regress
from framework.evaluate.analysis import Analysis
from framework.evaluate.records import EvalSet, record_inputs
from framework.evaluate.report import metrics_table, rows_with_inputs
from framework.evaluate.scoring import score, score_texts, write_predictions


def evaluate(
    m: Any, evalset: EvalSet, registry: Any, opts: Any, out: Path, files: dict[str, str]
) -> dict[str, Any]:
    """Score ``evalset`` and analyse it as values (see :class:`Analysis`)."""
    outputs, _ = score(m, evalset.records, opts.batch_size, evalset.name)
    t0 = time.perf_counter()
    inputs = record_inputs(evalset.records)
    pred, true = outputs.predictions.reshape(-1), outputs.targets.astype(float)
    numbers = regress.analyse(pred, true, opts.seed, opts.replicates)
    files["Predicted vs true, residuals"] = charts.regression(pred, true, out)
    write_predictions(
        out, inputs, [{"true": t, "predicted": p, "error": p - t} for t, p in zip(true, pred)]
    )
    seconds = {"model": outputs.seconds, "analysis": time.perf_counter() - t0}
    return {"regression": numbers, "seconds": seconds}


def predict(m: Any, texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    """The predicted value per text."""
    outputs = score_texts(m, texts, batch_size, 0.0)
    return [{"predicted": float(v)} for v in outputs.predictions.reshape(-1)]


def paired(a: list[dict[str, str]], b: list[dict[str, str]], idx: np.ndarray) -> dict[str, Any]:
    """MSE of b minus a over the resamples ``idx``."""
    ea = np.array([float(r["error"]) ** 2 for r in a])
    eb = np.array([float(r["error"]) ** 2 for r in b])
    return {"mse": (float(eb.mean() - ea.mean()), eb[idx].mean(1) - ea[idx].mean(1))}


def report(r: dict[str, Any], inputs: list[Any]) -> list[str]:
    """The report's sections for values."""
    parts = ["<h2>Metrics</h2>", metrics_table(r["metrics"])]
    res = r["residuals"]
    parts.append(f"<p>residuals: mean {res['mean']:.4g}, standard deviation {res['std']:.4g}</p>")
    parts.append("<h2>Largest errors</h2>")
    parts.append(
        rows_with_inputs(
            ["true", "predicted", "error"],
            [[x["true"], x["predicted"], x["error"]] for x in r["largest"]],
            [inputs[x["index"]] for x in r["largest"]],
        )
    )
    return parts


ANALYSIS = Analysis("regression", evaluate, predict, report, paired)
"""Values' analysis."""
