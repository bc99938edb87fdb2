"""The model's outputs on a set of records, batched, in the records' order: logits (classes),
values (regression) or per-token losses (language models). Nothing else runs here, so the
cost of an evaluation beyond the model is measurable (``bench/evaluate.py``)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Outputs:
    """What the model said about each record, in record order."""

    predictions: np.ndarray
    """(N, C) logits of a classifier, (N,) values of a regressor."""
    targets: np.ndarray
    """(N,) class ids or values; (N, C) 0/1 rows for multi-label."""
    seconds: float
    """Wall time of the batched forward passes (collation included)."""


def autocast_dtype(precision: str | None, device: Any) -> Any:
    """The dtype a run trained with ``precision`` (``trainer.precision`` or what it resolved
    to; None: float32) is scored in on ``device``: bfloat16 for ``bf16-*`` and ``auto`` where
    the device runs it natively, float16 for ``16-*`` (and ``auto`` without bfloat16) on a
    GPU, else None (float32): emulated bfloat16 is slower than float32, so a CPU without it
    scores in float32."""
    import torch

    from framework.training.hardware import native_bf16, resolve_precision

    accelerator = "gpu" if device.type == "cuda" else "cpu"
    resolved = resolve_precision(precision or "32-true", accelerator)
    if resolved.startswith("bf16") and native_bf16(accelerator):
        return torch.bfloat16
    if resolved.startswith("16") and accelerator == "gpu":
        return torch.float16
    return None


def autocast(precision: str | None, device: Any) -> Any:
    """The autocast context of :func:`autocast_dtype` (a no-op for float32)."""
    import torch

    dtype = autocast_dtype(precision, device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def predict_records(
    model: Any, task: Any, dataset: Any, batch_size: int, precision: str | None = None
) -> Outputs:
    """Run ``model`` over every record of a prepared ``dataset`` (what ``task.prepare`` made)
    in batches of similar length (dynamic padding pads less), without gradients, under the
    run's ``precision`` (:func:`autocast`); outputs come back in the dataset's order."""
    import torch

    from framework.models.features import feature_collate, feature_dataset
    from framework.training.batch_order import eval_batches

    dataset = feature_dataset(model, dataset)
    lengths = dataset.lengths() if hasattr(dataset, "lengths") else [0] * len(dataset)
    batches = eval_batches(lengths, batch_size, seed=0)
    collate = feature_collate(model, task.collate or torch.utils.data.default_collate)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device  # a model trained on a GPU is still there
    outs, ys = [], []
    start = time.perf_counter()
    with torch.inference_mode(), autocast(precision, device):
        for idx in batches:
            batch = collate([dataset[i] for i in idx])
            batch = type(batch)(t.to(device) if hasattr(t, "to") else t for t in batch)
            out, y = task.forward(model, batch)
            outs.append(out.float().cpu().numpy())
            ys.append(y.cpu().numpy())
    model.train(was_training)
    if not outs:
        return Outputs(np.zeros((0,)), np.zeros((0,)), time.perf_counter() - start)
    order = np.concatenate([np.asarray(idx) for idx in batches])
    preds, targets = np.concatenate(outs), np.concatenate(ys)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))  # record i sits at row back[i]
    return Outputs(preds[back], targets[back], time.perf_counter() - start)


@dataclass
class TokenLosses:
    """Next-token losses over documents read one after the other (as training packs them)."""

    losses: np.ndarray
    """(T,) cross-entropy in nats of each predicted token."""
    tokens: np.ndarray
    """(T,) the predicted token ids."""
    document: np.ndarray
    """(T,) which document each predicted token belongs to."""
    stream: np.ndarray
    """The whole token stream (documents, each followed by end-of-text)."""
    position: np.ndarray
    """(T,) index in ``stream`` of each predicted token."""
    seconds: float
    """Wall time of the forward passes."""


def token_losses(
    model: Any,
    documents: list[list[int]],
    block: int,
    batch_size: int,
    eos: int | None,
    precision: str | None = None,
) -> TokenLosses:
    """Per-token losses of a causal LM over ``documents`` (token ids), packed into blocks of
    ``block`` tokens as training reads them (the last, shorter block is scored too), under the
    run's ``precision`` (:func:`autocast`)."""
    import torch
    import torch.nn.functional as F

    ends = [[*d, eos] if eos is not None else list(d) for d in documents]
    stream = np.fromiter((t for d in ends for t in d), dtype=np.int64)
    owner = np.repeat(np.arange(len(ends)), [len(d) for d in ends])
    starts = list(range(0, max(len(stream) - 1, 0), block))
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    losses = np.zeros(max(len(stream) - 1, 0), dtype=np.float32)
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(precision, device):
        for b in range(0, len(starts), batch_size):
            group = starts[b : b + batch_size]
            full = [s for s in group if s + block + 1 <= len(stream)]
            rest = [s for s in group if s + block + 1 > len(stream)]
            for chunk in ([full] if full else []) + [[s] for s in rest]:
                width = min(block, len(stream) - 1 - chunk[0])
                x = torch.from_numpy(np.stack([stream[s : s + width] for s in chunk]))
                y = torch.from_numpy(np.stack([stream[s + 1 : s + width + 1] for s in chunk]))
                x, y = x.to(device), y.to(device)
                logits = model(x).float()
                loss = F.cross_entropy(
                    logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none"
                ).view(len(chunk), width)
                for row, s in enumerate(chunk):
                    losses[s : s + width] = loss[row].cpu().numpy()
    seconds = time.perf_counter() - t0
    model.train(was_training)
    position = np.arange(1, len(stream))
    return TokenLosses(losses, stream[1:], owner[1:], stream, position, seconds)
