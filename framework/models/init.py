"""``model.init``: start a model from a Plait run's weights (continue pretraining an LM, or
fine-tune it as a classifier with a new head). Checkpoints load with ``weights_only=True``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

MODULE_PREFIX = "model."
"""Prefix of the model's tensors in a Plait checkpoint (the LightningModule's attribute)."""


def init_checkpoint(value: str) -> Path:
    """The checkpoint ``model.init`` names: a ``.ckpt`` file, or a run folder (its
    ``checkpoints/best.ckpt``, else ``last.ckpt``)."""
    from framework.rundir import RunDir

    path = Path(value).expanduser()
    if path.is_dir():
        for found in (RunDir(path).best_checkpoint, RunDir(path).last_checkpoint):
            if found.is_file():
                return found
        raise PlaitError(f"model.init={value}: the folder holds no checkpoints/best.ckpt or "
                         "last.ckpt; give a Plait run folder or a .ckpt file")  # fmt: skip
    if not path.is_file():
        raise PlaitError(f"model.init={value}: no such checkpoint or run folder")
    return path


@dataclass
class InitReport:
    """What loading a checkpoint into a model did."""

    source: str
    """The checkpoint read."""
    loaded: int = 0
    """Tensors copied."""
    missing: list[str] = field(default_factory=list)
    """The model's tensors the checkpoint lacks (kept as initialized)."""
    unexpected: list[str] = field(default_factory=list)
    """The checkpoint's tensors the model has no place for (dropped)."""
    new_head: list[str] = field(default_factory=list)
    """The missing tensors that belong to the model's head (a new task head)."""

    def table(self) -> Any:
        """A rich table: one row per missing or dropped tensor, the count of the loaded."""
        from rich.table import Table

        table = Table(title=f"model.init: {self.loaded} tensors from {self.source}",
                      title_justify="left")  # fmt: skip
        table.add_column("tensor")
        table.add_column("state")
        for name in self.missing:
            state = "new head: initialized" if name in self.new_head else "missing: initialized"
            table.add_row(name, state)
        for name in self.unexpected:
            table.add_row(name, "in the checkpoint only: dropped")
        if not self.missing and not self.unexpected:
            table.add_row("(every tensor)", "loaded")
        return table


def load_init(model: Any, value: str) -> InitReport:
    """Copy the weights of the checkpoint ``model.init`` names into ``model`` (tensors of
    the same name and shape); a tensor whose shape differs stops with both shapes."""
    import torch

    from framework.finetune.frozen_base import stored_base
    from framework.rundir import read_checkpoint

    path = init_checkpoint(value)
    ckpt = read_checkpoint(path)
    if stored_base(ckpt) is not None:
        raise PlaitError(
            f"model.init: {path} holds only a LoRA run's adapters and head, not the weights "
            "they adapt; start from its checkpoints/merged.ckpt (train it with "
            "freeze.lora.merge=true)"
        )
    stored = {
        k[len(MODULE_PREFIX) :]: v
        for k, v in ckpt["state_dict"].items()
        if k.startswith(MODULE_PREFIX)
    }
    own = model.state_dict()
    for name, tensor in stored.items():
        if name in own and tuple(own[name].shape) != tuple(tensor.shape):
            raise PlaitError(
                f"model.init: tensor '{name}' is {tuple(tensor.shape)} in {path} but "
                f"{tuple(own[name].shape)} in this model; use the same model sizes (and "
                "data.max_length, and the run's tokenizer: data/tokenizer=pretrained "
                "data.tokenizer.path=RUN_DIR)"
            )
    report = InitReport(str(path))
    report.missing = [n for n in own if n not in stored]
    report.unexpected = [n for n in stored if n not in own]
    report.loaded = len(own) - len(report.missing)
    with torch.no_grad():
        for name, tensor in own.items():
            if name in stored:
                tensor.copy_(stored[name])
    if report.missing:
        from framework.finetune.structure import find_layout

        try:
            head = set(find_layout(model).head)
        except PlaitError:
            head = set()
        report.new_head = [n for n in report.missing if n in head]
    return report
