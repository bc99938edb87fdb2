"""A trained model back from a Plait checkpoint: its config, DataInfo, tokenizer and weights,
rebuilt as training built it (sizes, LoRA adapters, a frozen base left out of the file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Trained:
    """A model rebuilt from a checkpoint, with what it was trained on."""

    cfg: Any
    """The config the run was trained with (``_target_`` refused: a stranger's recipe)."""
    model: Any
    """The network with the checkpoint's weights."""
    tokenizer: Any
    """The run's own tokenizer, or None (image data)."""
    info: Any
    """The run's DataInfo (classes, vocabulary, target scale, image statistics)."""
    path: Path
    """The checkpoint file."""
    registry: Any = None
    """The registry the model was rebuilt with (its components' contracts)."""


def load_trained(path: str | Path, needs: str | None = None) -> Trained:
    """Rebuild the model of a Plait checkpoint, read with ``weights_only=True``. ``needs``:
    what the caller does with it (``a language model``): a checkpoint whose model predicts
    something other than tokens stops before the model is built."""
    from omegaconf import OmegaConf

    from framework.data.tokenizers import TextTokenizer
    from framework.datainfo import DataInfo
    from framework.errors import PlaitError
    from framework.finetune.frozen_base import stored_base
    from framework.models.assemble import build_trained_model
    from framework.models.init import MODULE_PREFIX
    from framework.registry import default_registry
    from framework.rundir import read_checkpoint
    from framework.trust import refuse_targets

    path = Path(path)
    if not path.is_file():
        raise PlaitError(
            f"checkpoint not found: {path}; give ckpt=runs/NAME/TIME/checkpoints/last.ckpt"
        )
    ckpt = read_checkpoint(path)
    payload = ckpt["plait"]
    cfg = OmegaConf.create(payload["config"])
    refuse_targets(cfg)  # a stored config is a stranger's recipe too: never trusted
    info = DataInfo.from_dict(payload["data_info"])
    if needs and info.target != "tokens":
        task = OmegaConf.select(cfg, "task._name_", default="?")
        raise PlaitError(
            f"{path} is a checkpoint of task {task} (it predicts a {info.target}, not the next "
            f"token); {needs}: give a causal_lm run's checkpoint, or use plait predict"
        )
    stored = payload.get("tokenizer")
    tokenizer = TextTokenizer.from_str(stored) if stored else None
    # as training built it (sizes, LoRA adapters), then the checkpoint's weights; a
    # checkpoint without its frozen base gets it from where the run started
    base = stored_base(ckpt)
    registry = default_registry()
    model = build_trained_model(cfg, registry, info, start=base is not None).model
    state = {
        k.removeprefix(MODULE_PREFIX): v
        for k, v in ckpt["state_dict"].items()
        if k.startswith(MODULE_PREFIX)
    }
    if base is not None:
        base.restore(state, model, str(path))
    model.load_state_dict(state)
    model.eval()
    return Trained(cfg, model, tokenizer, info, path, registry)
