"""Batches of token ids with one target per text, shared by the text classification and
regression tasks: ids cut to ``data.max_length`` and padded per batch to the longest
example (dynamic padding)."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import LABEL, column


class TokenDataset:
    """(token ids, target) pairs of one split."""

    def __init__(self, ids: list[list[int]], targets: list[Any]) -> None:
        self.ids, self.targets = ids, targets

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[list[int], Any]:
        return self.ids[i], self.targets[i]

    def lengths(self) -> list[int]:
        """Tokens per example: what length-bucketed batching sorts by."""
        return [len(ids) for ids in self.ids]


class PadCollate:
    """Pad a batch to its longest example; returns (ids, lengths, targets) tensors.

    ``multi_hot``: targets are lists of class ids, batched as (batch, multi_hot) 0/1 rows.
    """

    def __init__(self, pad_id: int, target_dtype: Any = None, multi_hot: int = 0) -> None:
        self.pad_id, self.target_dtype, self.multi_hot = pad_id, target_dtype, multi_hot

    def __call__(self, items: list[tuple[list[int], Any]]) -> tuple[Any, Any, Any]:
        import numpy as np
        import torch

        lengths = [max(1, len(ids)) for ids, _ in items]
        # filled through NumPy: a torch.tensor per row costs 10x more at batch 64
        filled = np.full((len(items), max(lengths)), self.pad_id, dtype=np.int64)
        for row, (ids, _) in enumerate(items):
            if len(ids):
                filled[row, : len(ids)] = ids
        x = torch.from_numpy(filled)
        return x, torch.tensor(lengths, dtype=torch.long), self.targets(items)

    def targets(self, items: list[tuple[Any, Any]]) -> Any:
        """The batch's targets: a tensor of class ids or values, or 0/1 rows (multi-hot)."""
        import torch

        if self.multi_hot:
            y = torch.zeros(len(items), self.multi_hot, dtype=torch.long)
            for row, (_, ids) in enumerate(items):
                y[row, ids] = 1
            return y
        return torch.tensor([t for _, t in items], dtype=self.target_dtype or torch.long)


class BagCollate(PadCollate):
    """Bags of ids one after the other, unpadded: returns (ids (N,), lengths, targets), the
    ``lengths`` saying where each record's bag ends (an ``EmbeddingBag``'s input)."""

    def __call__(self, items: list[tuple[Any, Any]]) -> tuple[Any, Any, Any]:
        import numpy as np
        import torch

        lengths = [len(ids) for ids, _ in items]
        flat = np.concatenate([np.asarray(ids, dtype=np.int64) for ids, _ in items])
        return torch.from_numpy(flat), torch.tensor(lengths, dtype=torch.long), self.targets(items)


def token_splits(
    task: str, splits: dict[str, Any], tokenizer: Any, info: DataInfo
) -> dict[str, TokenDataset]:
    """(ids, target) datasets per split; stops when there is no text or no target."""
    if tokenizer is None:
        raise PlaitError(f"task {task} needs text and a tokenizer (data/tokenizer)")
    if LABEL not in splits["train"].column_names:
        raise PlaitError(
            f"task {task} needs a target per text; set data.source.label_column to the column "
            "that holds it"
        )
    return {
        name: TokenDataset(column(ds, "input_ids"), column(ds, LABEL))
        for name, ds in splits.items()
    }


def forward_text(model: Any, batch: Any) -> tuple[Any, Any]:
    """Per-text outputs of ``model`` on a padded batch, and the targets; a batch that also
    carries the cached output of the model's frozen prefix hands it over
    (:mod:`framework.training.prefix_cache`)."""
    x, lengths, y, *states = batch
    if states:
        return model(x, lengths=lengths, prefix_states=states[0]), y
    return model(x, lengths=lengths), y
