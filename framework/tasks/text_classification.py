"""Single-label text classification: token ids cut to ``data.max_length``, padded per batch
to the longest example (dynamic padding), one class per record."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo
from framework.data.records import LABEL, column
from framework.errors import PlaitError
from framework.tasks.base import Task


class TokenDataset:
    """(token ids, label) pairs of one split."""

    def __init__(self, ids: list[list[int]], labels: list[int]) -> None:
        self.ids, self.labels = ids, labels

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[list[int], int]:
        return self.ids[i], self.labels[i]


class PadCollate:
    """Pad a batch to its longest example; returns (ids, lengths, labels) tensors."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, items: list[tuple[list[int], int]]) -> tuple[Any, Any, Any]:
        import torch

        lengths = [max(1, len(ids)) for ids, _ in items]
        x = torch.full((len(items), max(lengths)), self.pad_id, dtype=torch.long)
        for row, (ids, _) in enumerate(items):
            if ids:
                x[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        y = torch.tensor([label for _, label in items], dtype=torch.long)
        return x, torch.tensor(lengths, dtype=torch.long), y


class TextClassification(Task):
    """One class per text; the model returns (batch, classes) logits."""

    default_loss = "cross_entropy"
    default_metrics = ("accuracy", "f1_macro")
    unit = "samples"

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Token ids and class ids per split; batches are padded with the tokenizer's pad id."""
        if tokenizer is None:
            raise PlaitError("task text_classification needs text and a tokenizer (data/tokenizer)")
        if not info.num_classes:
            raise PlaitError(
                "task text_classification needs class labels; set data.source.label_column to "
                "a column of classes"
            )
        pad = info.pad_id if info.pad_id is not None else 0
        self.collate = PadCollate(pad)
        out = {
            name: TokenDataset(column(ds, "input_ids"), column(ds, LABEL))
            for name, ds in splits.items()
        }
        return out, info

    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Class logits and the labels."""
        x, lengths, y = batch
        return model(x, lengths=lengths), y

    def count(self, batch: Any) -> int:
        """Records in the batch."""
        return batch[0].shape[0]


def text_classification() -> TextClassification:
    """Single-label text classification (cross-entropy; accuracy and macro-F1 by default)."""
    return TextClassification()
