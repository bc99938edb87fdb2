"""Inputs a model computes once per record instead of every step.

A model with a ``features(ids)`` method (the fastText-style classifier: a text's bag of
token, n-gram and character n-gram ids) is fed those features: each split's token ids go
through it once, before training or scoring, and a batch is the bags one after the other
with their lengths (no padding). Training, evaluation and prediction all feed a model
through here, so the same record always reaches it the same way."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


def computes_features(model: Any) -> bool:
    """Whether ``model`` takes per-record features rather than token ids."""
    return callable(getattr(model, "features", None))


def feature_dataset(model: Any, dataset: Any) -> Any:
    """``dataset`` (token ids, target) with each record's ids replaced by
    ``model.features(ids)``; any other dataset, or any other model, as it is."""
    from framework.tasks.text_batches import TokenDataset

    if not computes_features(model) or not isinstance(dataset, TokenDataset):
        return dataset
    return TokenDataset([model.features(ids) for ids in dataset.ids], dataset.targets)


def feature_collate(model: Any, collate: Any) -> Any:
    """The task's padding collate, or, when the model takes features, one that puts the bags
    one after the other (:class:`~framework.tasks.text_batches.BagCollate`)."""
    from framework.tasks.text_batches import BagCollate, PadCollate

    if not computes_features(model) or not isinstance(collate, PadCollate):
        return collate
    return BagCollate(collate.pad_id, collate.target_dtype, collate.multi_hot)


def with_features(model: Any, datasets: dict[str, Any], collate: Any) -> tuple[dict, Any]:
    """Every split of ``datasets`` through :func:`feature_dataset` (timed, in the log) and
    the collate that batches them."""
    if not computes_features(model):
        return datasets, collate
    started = time.perf_counter()
    out = {name: feature_dataset(model, ds) for name, ds in datasets.items()}
    ids = sum(sum(len(f) for f in ds.ids) for ds in out.values() if hasattr(ds, "ids"))
    log.info(
        "model inputs: %s ids over %s records computed once in %.1f s",
        f"{ids:,}",
        f"{sum(len(ds) for ds in out.values()):,}",
        time.perf_counter() - started,
    )
    return out, feature_collate(model, collate)
