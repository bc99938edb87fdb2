"""Text classification: one class per text (cross-entropy), or any subset of the classes
(multi-label: one sigmoid output per class, binary cross-entropy)."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.tasks.base import Task, check_head
from framework.tasks.text_batches import PadCollate, forward_text, token_splits


class TextClassification(Task):
    """The model returns (batch, classes) logits."""

    unit = "samples"
    inputs = "tokens"

    def __init__(
        self, multi_label: bool, label_separator: str | None, num_classes: int | None
    ) -> None:
        self.multi_label = multi_label
        self.target = "multilabel" if multi_label else "class"
        self.label_separator = label_separator
        self.num_classes = num_classes
        self.default_loss = "bce_with_logits" if multi_label else "cross_entropy"
        self.default_metrics = ("accuracy", "f1_macro")

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Token ids and class ids per split; batches are padded with the tokenizer's pad id."""
        out = token_splits("text_classification", splits, tokenizer, info)
        if not info.num_classes:
            raise PlaitError(
                "task text_classification needs class labels; set data.source.label_column to "
                "a column of classes"
            )
        width = check_head(info, self.num_classes)
        info.target, info.num_outputs = self.target, width
        pad = info.pad_id if info.pad_id is not None else 0
        self.collate = PadCollate(pad, multi_hot=width if self.multi_label else 0)
        return out, info

    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Class logits and the labels (multi-label: 0/1 rows)."""
        return forward_text(model, batch)

    def count(self, batch: Any) -> int:
        """Records in the batch."""
        return len(batch[1])  # one length per record, padded or bags


def text_classification(
    multi_label: bool = False, label_separator: str | None = None, num_classes: int | None = None
) -> TextClassification:
    """Text classification: one class per text (cross-entropy) or, with ``multi_label``, any
    subset of the classes (BCE with logits); accuracy and macro-F1 by default.

    Args:
        multi_label: Each text holds a list of labels (a list column, or one string cut at
            ``label_separator``); the head has one independent output per label.
        label_separator: Multi-label only: the character between labels in one string
            (``"|"`` for ``"news|sport"``); null: the column holds lists.
        num_classes: Classes the head is built for; null: as many as the data holds. Fixing it
            keeps the head's size when the data changes; data with more classes stops the run.
    """
    if label_separator is not None and not multi_label:
        raise PlaitError("task.label_separator is for multi-label data; set task.multi_label=true")
    return TextClassification(multi_label, label_separator, num_classes)
