"""The task protocol: the engine talks to every task through these methods."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from framework.data.info import DataInfo


class Task(ABC):
    """Owns a task's batch format, its default loss and metrics, and its prediction step."""

    default_loss: str = "cross_entropy"
    """Registered loss used when the recipe selects none."""
    default_metrics: tuple[str, ...] = ()
    """Registered metrics used when the recipe selects none."""
    unit: str = "samples"
    """What :meth:`count` counts, for the throughput metric ``train/<unit>_per_s``."""
    generative: bool = False
    """Whether the model continues text, so that the run writes ``samples.txt``."""
    collate: Any = None
    """Function that batches examples (dynamic padding); None: torch's default collate."""
    monitor: str = "val/loss"
    """Metric that picks the best checkpoint."""
    monitor_mode: str = "min"
    """``min`` or ``max`` for :attr:`monitor`."""
    packed: bool = False
    """Whether texts are tokenized whole and concatenated (causal LM) rather than each cut
    to ``data.max_length`` (classification)."""

    @abstractmethod
    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Turn tokenized splits (``input_ids`` column) into torch datasets; complete ``info``."""

    @abstractmethod
    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Run the model on a batch; return (predictions, targets) for loss and metrics."""

    def count(self, batch: Any) -> int:
        """Units of throughput in a batch (tokens for LM, samples otherwise)."""
        return len(batch)
