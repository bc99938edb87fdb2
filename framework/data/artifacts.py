"""What the data stage produces: the cacheable tables and the prepared torch datasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from framework.data.audit import DataReport
from framework.datainfo import DataInfo

IDS = "input_ids"
"""Column of token ids written by the tokenize step."""
WEIGHT = "_weight"
"""Column of per-record sampling weights (``data/balance=weighted_sampler``)."""


@dataclass
class Tables:
    """The cacheable part of the data stage: tokenized splits and what describes them."""

    splits: dict[str, Any]
    """``datasets.Dataset`` per split (``train``, ``val``, optional ``test``)."""
    tokenizer: Any
    """The tokenizer trained on the training split (None for image data)."""
    report: DataReport
    """The audit of every step."""
    labels: list[str] | None = None
    """Class (or label) names, in id order; None for unlabelled or numeric targets."""
    class_weights: list[float] | None = None
    """Per-class loss weights a balancer set (``data/balance=class_weights``)."""
    lineage: Any = None
    """The ``lineage.parquet`` of these tables (a Path), or None: not recorded."""


@dataclass
class PreparedData:
    """What the data stage hands to the rest of the run."""

    datasets: dict[str, Any]
    """Torch datasets per split (``train``, ``val``, optional ``test``)."""
    info: DataInfo
    """Facts the builders need."""
    tokenizer: Any
    """The trained tokenizer (None for image data)."""
    report: DataReport = field(default_factory=DataReport)
    """The audit of every step."""
    sample_weights: list[float] | None = None
    """Per-record sampling weights of the training split, if a balancer set them."""
    tables: Tables | None = None
    """The data stage's splits as ``datasets`` tables (None when streaming)."""
