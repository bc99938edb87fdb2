"""Error analysis of a regressor: MSE, MAE and R^2 with intervals, the residuals, predicted
against true, and the largest errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from framework.evaluate import stats

LARGEST = 20
"""Records listed among the largest errors."""


def r2(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """R^2 of each row (replicate) of ``pred`` against ``true``: 1 - SSE / SST."""
    sse = ((true - pred) ** 2).sum(axis=-1)
    sst = ((true - true.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    return 1 - sse / np.maximum(sst, 1e-12)


def analyse(
    pred: np.ndarray, true: np.ndarray, seed: int = 0, replicates: int = stats.REPLICATES
) -> dict[str, Any]:
    """Every number of the regression report (JSON-ready)."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    err = pred - true
    idx = stats.resamples(len(true), replicates, seed)
    metrics = {
        "mse": stats.interval(float((err**2).mean()), (err[idx] ** 2).mean(1)),
        "mae": stats.interval(float(np.abs(err).mean()), np.abs(err[idx]).mean(1)),
        "r2": stats.interval(float(r2(pred, true)), r2(pred[idx], true[idx])),
    }
    largest = np.argsort(-np.abs(err))[:LARGEST]
    return {
        "records": len(true),
        "metrics": {k: v.to_dict() for k, v in metrics.items()},
        "residuals": {"mean": float(err.mean()), "std": float(err.std())},
        "largest": [
            {
                "index": int(i),
                "true": float(true[i]),
                "predicted": float(pred[i]),
                "error": float(err[i]),
            }
            for i in largest
        ],
    }
