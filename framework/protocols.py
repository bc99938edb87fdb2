"""What each kind's builder must return, checked right after building.

Each :class:`Protocol` names the object a kind's builder returns and a predicate that
imports its library only when called, so that the catalogue of kinds stays import-light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Protocol:
    """The object a kind's builder returns."""

    what: str
    """Said in the error when a builder returns something else."""
    check: Callable[[Any], bool]
    """True when an object satisfies the protocol."""


def _has(*names: str) -> Callable[[Any], bool]:
    return lambda o: all(hasattr(o, n) for n in names)


def _any_of(*names: str) -> Callable[[Any], bool]:
    return lambda o: any(hasattr(o, n) for n in names)


def _dataset(o: Any) -> bool:
    import datasets

    return isinstance(o, (datasets.Dataset, datasets.IterableDataset))


def _splitter(o: Any) -> bool:
    return callable(o) and hasattr(o, "overlap") and o.overlap in ("remove", "report")


def _task(o: Any) -> bool:
    from framework.tasks.base import Task

    return isinstance(o, Task)


def _module(o: Any) -> bool:
    import torch

    return isinstance(o, torch.nn.Module)


def _metric(o: Any) -> bool:
    import torchmetrics

    return isinstance(o, torchmetrics.Metric)


def _optimizer(o: Any) -> bool:
    import torch

    return isinstance(o, torch.optim.Optimizer)


def _scheduler(o: Any) -> bool:
    from torch.optim import lr_scheduler

    return isinstance(o, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau))


def _callback(o: Any) -> bool:
    from lightning.pytorch.callbacks import Callback

    return isinstance(o, Callback)


def _logger(o: Any) -> bool:
    from lightning.pytorch.loggers import Logger

    return isinstance(o, Logger)


CALLABLE = Protocol("a callable", callable)
SOURCE = Protocol("a datasets.Dataset (or IterableDataset when streaming)", _dataset)
TOKENIZER = Protocol(
    "a tokenizer with train/encode_batch/decode/vocab_size",
    _has("train", "encode_batch", "decode", "vocab_size"),
)
SPLIT = Protocol(
    "a callable (dataset, seed) -> {split: dataset} with overlap 'remove' or 'report'", _splitter
)
TASK = Protocol("a framework.tasks.Task", _task)
MODEL = Protocol("a torch.nn.Module", _module)
METRIC = Protocol("a torchmetrics.Metric", _metric)
OPTIMIZER = Protocol("a torch.optim.Optimizer", _optimizer)
SCHEDULER = Protocol("a torch LR scheduler", _scheduler)
CALLBACK = Protocol("a lightning Callback", _callback)
LOGGER = Protocol("a lightning Logger", _logger)
HARDWARE = Protocol("a mapping of Trainer arguments", lambda o: isinstance(o, Mapping))
TEXT_AUGMENT = Protocol("an object with name and apply(words, ctx) -> words", _has("apply", "name"))
SYNONYMS = Protocol(
    "an object with name, available, load() and lookup(word)",
    _has("name", "available", "load", "lookup"),
)
IMAGE_AUGMENT = Protocol("an object with transforms(channels, height, width)", _has("transforms"))
REGULARIZER = Protocol(
    "an object with apply(model), penalty(model) or decay(model)",
    _any_of("apply", "penalty", "decay"),
)
