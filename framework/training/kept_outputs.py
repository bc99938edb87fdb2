"""The model's outputs of a run's last validation and test passes, kept per record, so that
the evaluation at the end of ``plait train`` (``eval: true``) reads them instead of running
the model over the same records again. Only per-record outputs are kept (a classifier's
logits, a regressor's values, multi-label scores): a language model's per-token outputs are
not, and its evaluation computes its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class _Pass:
    """One evaluation pass being collected."""

    step: int
    """The optimizer step of the weights that ran it."""
    outputs: list[Any] = field(default_factory=list)
    """Each batch's outputs (tensors where the model ran: no copy to the host per batch), in
    the order the loader read them."""
    targets: list[Any] = field(default_factory=list)
    """Each batch's targets, alike."""
    per_record: bool = True
    """False once a batch's outputs were not one row per record."""


class OutputKeeper:
    """Collects each split's outputs batch by batch; hands back those of a complete pass in
    record order."""

    def __init__(self) -> None:
        self._passes: dict[str, _Pass] = {}

    def start(self, split: str, step: int) -> None:
        """A pass over ``split`` begins, with the weights of optimizer step ``step``."""
        self._passes[split] = _Pass(step)

    def add(self, split: str, outputs: Any, targets: Any) -> None:
        """One batch's outputs and targets (tensors), in the loader's order."""
        kept = self._passes.get(split)
        if kept is None or not kept.per_record:
            return
        if outputs.dim() > 2 or outputs.shape[0] != targets.shape[0]:
            kept.per_record = False  # per-token outputs: too large, and scored otherwise
            kept.outputs, kept.targets = [], []
            return
        kept.outputs.append(outputs.detach().float())
        kept.targets.append(targets.detach())

    def outputs(
        self, split: str, order: list[int], size: int, step: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The split's (outputs, targets) in record order when its last pass ran the weights
        of ``step`` over all ``size`` records in the batch ``order`` given (record indices,
        as the loader read them); else None."""
        kept = self._passes.get(split)
        if kept is None or not kept.per_record or kept.step != step or not kept.outputs:
            return None
        if len(order) != size or sum(len(t) for t in kept.targets) != size:
            return None  # trainer.val_batches read part of the split
        back = np.empty(size, dtype=np.int64)
        back[np.asarray(order)] = np.arange(size)  # record i sits at row back[i]
        import torch

        preds = torch.cat(kept.outputs).cpu().numpy()  # one copy to the host, at the end
        targets = torch.cat(kept.targets).cpu().numpy()
        return preds[back], targets[back]


def loader_order(loader: Any) -> list[int]:
    """Record indices in the order an evaluation DataLoader reads them (its batch sampler is
    deterministic: a fixed list of batches or a sequential sampler)."""
    return [i for batch in loader.batch_sampler for i in batch]
