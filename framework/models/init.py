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

        total = self.loaded + len(self.missing)
        table = Table(title=f"model.init: {self.loaded} of the model's {total} tensors from "
                            f"{self.source}", title_justify="left")  # fmt: skip
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


def read_init(value: str, mmap: bool = False) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The checkpoint ``model.init`` names, read as weights only: its path, its model's
    tensors (by name) and its ``plait`` section. A file that is not a Plait checkpoint, one
    that would run code, or a LoRA run's adapters alone stop in one line."""
    from framework.finetune.frozen_base import stored_base
    from framework.rundir import read_checkpoint

    path = init_checkpoint(value)
    try:
        ckpt = read_checkpoint(path, mmap=mmap)
    except PlaitError as exc:
        raise PlaitError(f"model.init={value}: {exc}") from None
    if stored_base(ckpt) is not None:
        raise PlaitError(
            f"model.init: {path} holds only a LoRA run's adapters and head, not the weights "
            "they adapt; start from its checkpoints/merged.ckpt (train it with "
            "freeze.lora.merge=true)"
        )
    state = ckpt.get("state_dict") if isinstance(ckpt.get("state_dict"), dict) else {}
    tensors = {k[len(MODULE_PREFIX) :]: v for k, v in state.items()
               if k.startswith(MODULE_PREFIX)}  # fmt: skip
    return path, tensors, ckpt["plait"]


def _head_of(model: Any) -> set[str]:
    from framework.finetune.structure import find_layout

    try:
        return set(find_layout(model).head)
    except PlaitError:
        return set()


def match_init(model: Any, stored: dict[str, Any], path: Path) -> InitReport:
    """Which of ``stored``'s tensors go into ``model``: those of the same name and shape. A
    head tensor of another shape (other classes) is left to initialize; any other tensor of
    another shape stops with both shapes, and so does a checkpoint none of whose tensors
    fits (another architecture)."""
    own = model.state_dict()
    head = _head_of(model)
    report = InitReport(str(path))
    for name, tensor in own.items():
        theirs = stored.get(name)
        if theirs is None:
            report.missing.append(name)
        elif tuple(theirs.shape) != tuple(tensor.shape):
            if name not in head:
                raise PlaitError(
                    f"model.init: tensor '{name}' is {tuple(theirs.shape)} in {path} but "
                    f"{tuple(tensor.shape)} in this model; use the same model sizes (and "
                    "data.max_length, and the run's tokenizer: data/tokenizer=pretrained "
                    "data.tokenizer.path=RUN_DIR)"
                )
            report.missing.append(name)
    report.unexpected = [n for n in stored if n not in own]
    report.loaded = len(own) - len(report.missing)
    report.new_head = [n for n in report.missing if n in head]
    if report.loaded == 0:
        theirs = ", ".join(list(stored)[:2]) or "none"
        mine = ", ".join(list(own)[:2])
        raise PlaitError(
            f"model.init: none of the {len(stored)} tensors in {path} fits this model (its "
            f"tensors: {theirs}, ...; this model's: {mine}, ...): it is another architecture; "
            "start from a run of this model, or set the model it was trained as"
        )
    return report


def load_init(model: Any, value: str) -> InitReport:
    """Copy the weights of the checkpoint ``model.init`` names into ``model``
    (:func:`match_init` says which)."""
    import torch

    path, stored, _ = read_init(value)
    report = match_init(model, stored, path)
    own = model.state_dict()
    with torch.no_grad():
        for name, tensor in own.items():
            if name not in report.missing:
                tensor.copy_(stored[name])
    return report


def check_init(value: str, cfg: Any, build: Any) -> None:
    """``model.init`` when the config is composed: the checkpoint reads (memory-mapped) as a
    Plait checkpoint of the same model, and its tensors fit the model this config builds
    (``build(info)``: the structure on the meta device, shaped by the checkpoint's
    vocabulary and outputs where this run's are not known yet)."""
    from framework.datainfo import DataInfo
    from framework.kinds import NAME_KEY

    path, stored, payload = read_init(value, mmap=True)
    theirs = (payload["config"].get("model") or {}).get(NAME_KEY)
    mine = cfg.model.get(NAME_KEY)
    if theirs and mine and theirs != mine:
        raise PlaitError(
            f"model.init={value} holds a model '{theirs}', and this run builds model "
            f"'{mine}'; set model={theirs} with that run's sizes, or start from a run of "
            f"model '{mine}'"
        )
    info = DataInfo.from_dict(payload.get("data_info") or {})
    match_init(build(info), stored, path)
