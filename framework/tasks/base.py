"""The task protocol: the engine talks to every task through these methods."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from framework.datainfo import DataInfo
from framework.errors import PlaitError


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
    target: str | None = None
    """What the model predicts: ``tokens``, ``class``, ``multilabel`` or ``value``; losses and
    metrics declare the targets they fit (``fits``), checked when the config is composed.
    None: undeclared, nothing is checked."""
    inputs: str | None = None
    """What the model reads: ``tokens`` or ``images``; models declare theirs (``reads``).
    None: undeclared, nothing is checked."""
    label_separator: str | None = None
    """Multi-label targets held in one string are cut at this separator."""
    image_size: int | None = None
    """Side images are resized to (image tasks); None: as the source gives them."""

    def cache_key(self) -> str:
        """What of the task shapes the cached data stage (tokenization mode, label encoding)."""
        return f"{type(self).__name__}/{self.target}/{self.packed}/{self.label_separator}"

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

    def restore(self, info: DataInfo) -> None:
        """Take what :meth:`prepare` derives from the training split (a target scale, image
        statistics) from a trained run's ``info`` instead, so that records prepared next for
        evaluation are read exactly as training read its own. Tasks that derive nothing
        from the training split keep this default."""
        return None


def check_head(info: DataInfo, num_classes: int | None) -> int:
    """The head's width: ``num_classes`` when the task fixes it, else the data's classes."""
    found = info.num_classes or 0
    if num_classes is not None and found > num_classes:
        raise PlaitError(
            f"data: the label column holds {found} classes but task.num_classes={num_classes} "
            f"builds the head for {num_classes}; raise task.num_classes or drop the extra "
            "classes (data/curate=[min_class_count])"
        )
    return num_classes or found
