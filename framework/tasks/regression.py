"""Regression on text: one number per text (the tweets' ``confidence`` column), MSE."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo
from framework.records import LABEL, column
from framework.tasks.base import Task
from framework.tasks.text_batches import PadCollate, forward_text, token_splits


class Regression(Task):
    """The model returns (batch, 1); the task rescales it to the targets' mean and spread."""

    target = "value"
    default_loss = "mse"
    default_metrics = ("mse", "mae", "r2")
    unit = "samples"
    inputs = "tokens"

    def __init__(self, standardize: bool) -> None:
        self.standardize = standardize
        self.mean, self.std = 0.0, 1.0
        self.restored: DataInfo | None = None

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Token ids and float targets per split; target statistics from the training split."""
        import torch

        out = token_splits("regression", splits, tokenizer, info)
        train = torch.tensor(column(splits["train"], LABEL), dtype=torch.float64)
        info.target, info.num_outputs = self.target, 1
        if self.restored is not None:
            info.target_mean, info.target_std = self.restored.target_mean, self.restored.target_std
        else:
            info.target_mean = float(train.mean())
            info.target_std = float(train.std()) if len(train) > 1 else 1.0
        if self.standardize:
            self.mean, self.std = info.target_mean, max(info.target_std, 1e-8)
        pad = info.pad_id if info.pad_id is not None else 0
        self.collate = PadCollate(pad, target_dtype=torch.float32)
        return out, info

    def restore(self, info: DataInfo) -> None:
        """The training split's mean and spread, from the trained run."""
        self.restored = info

    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Predicted numbers (batch,) on the targets' scale, and the targets."""
        preds, y = forward_text(model, batch)
        return preds.squeeze(-1) * self.std + self.mean, y

    def count(self, batch: Any) -> int:
        """Records in the batch."""
        return len(batch[1])  # one length per record, padded or bags


def regression(standardize: bool = True) -> Regression:
    """Regression: one number per text (data.source.label_column names a numeric column);
    MSE loss; MSE, MAE and R^2 by default.

    Args:
        standardize: The model predicts the standardized target (training mean 0, spread 1)
            and the task rescales, so that targets of any scale train alike.
    """
    return Regression(standardize)
