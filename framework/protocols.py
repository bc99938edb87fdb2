"""What each kind's builder must return; checked right after building."""

from __future__ import annotations

from typing import Any

from framework.errors import PlaitError


def _expected(kind: str) -> tuple[str, Any]:
    """Return (description, predicate) for a kind; imports are lazy."""
    if kind == "source":
        import datasets

        return "a datasets.Dataset (or IterableDataset when streaming)", lambda o: isinstance(
            o, (datasets.Dataset, datasets.IterableDataset)
        )
    if kind == "tokenizer":
        return "a tokenizer with train/encode_batch/decode", lambda o: all(
            hasattr(o, a) for a in ("train", "encode_batch", "decode", "vocab_size")
        )
    if kind == "split":
        return "a callable (dataset, seed) -> {split: dataset}", callable
    if kind == "task":
        from framework.tasks.base import Task

        return "a framework.tasks.Task", lambda o: isinstance(o, Task)
    if kind == "model":
        import torch

        return "a torch.nn.Module", lambda o: isinstance(o, torch.nn.Module)
    if kind == "metric":
        import torchmetrics

        return "a torchmetrics.Metric", lambda o: isinstance(o, torchmetrics.Metric)
    if kind == "optimizer":
        import torch

        return "a torch.optim.Optimizer", lambda o: isinstance(o, torch.optim.Optimizer)
    if kind == "scheduler":
        import torch

        return "a torch LR scheduler", lambda o: isinstance(
            o, (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        )
    if kind == "callback":
        from lightning.pytorch.callbacks import Callback

        return "a lightning Callback", lambda o: isinstance(o, Callback)
    if kind == "logger":
        from lightning.pytorch.loggers import Logger

        return "a lightning Logger", lambda o: isinstance(o, Logger)
    if kind == "hardware":
        from collections.abc import Mapping

        return "a mapping of Trainer arguments", lambda o: isinstance(o, Mapping)
    if kind == "text_augment":
        return (
            "an object with name and apply(words, ctx) -> words",
            lambda o: hasattr(o, "apply") and hasattr(o, "name"),
        )
    if kind == "synonyms":
        return "an object with name, available, load() and lookup(word)", lambda o: all(
            hasattr(o, a) for a in ("name", "available", "load", "lookup")
        )
    if kind == "image_augment":
        return "an object with transforms(channels, height, width)", lambda o: hasattr(
            o, "transforms"
        )
    if kind == "regularizer":
        return "an object with apply(model), penalty(model) or decay(model)", lambda o: any(
            hasattr(o, a) for a in ("apply", "penalty", "decay")
        )
    # curate, clean, balance, augment, loss, freeze: callables
    return "a callable", callable


def check_protocol(kind: str, name: str, obj: Any) -> None:
    """Fail with a clear message when a builder returned the wrong kind of object."""
    what, ok = _expected(kind)
    if not ok(obj):
        raise PlaitError(
            f"{kind} '{name}' built {type(obj).__name__}, but a {kind} must be {what}; "
            "fix the plugin's builder"
        )
