"""Checks that need the model's structure (freeze policies, per-layer learning rates,
``model.init``), run when the config is composed, before any data work: the model is built
from a provisional DataInfo (the tokenizer's vocabulary, ``data.max_length``, two classes)
on the meta device, without its pretrained weights (its ``loads_weights`` parameter set
false), and the policies are applied to it."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import PlaitError
from framework.kinds import NAME_KEY
from framework.registry import Registry


def needs_probe(cfg: DictConfig, registry: Registry) -> bool:
    """Whether the config selects anything that the model's structure can refuse."""
    from framework.finetune.param_groups import LrScales

    freeze = [n for n in (cfg.get("freeze") or {}).values()
              if not registry.contract("freeze", n).inert]  # fmt: skip
    return bool(freeze) or LrScales.from_config(cfg.optimizer).per_layer


def provisional_info(cfg: DictConfig, registry: Registry, task: Any) -> Any:
    """A DataInfo shaped like the one the data stage will give, without data."""
    from framework.datainfo import DataInfo

    info = DataInfo(max_length=int(cfg.data.max_length), target=task.target or "tokens")
    tokenizer = cfg.data.get("tokenizer")
    if tokenizer is not None and NAME_KEY in tokenizer:
        info.vocab_size = registry.build("tokenizer", tokenizer).static_vocab_size
    if task.inputs == "images":
        side = task.image_size or 32
        info.image_shape = [3, side, side]
    if task.target in ("class", "multilabel"):
        info.num_outputs = info.num_classes = 2
    elif task.target == "value":
        info.num_outputs = 1
    return info


SHAPED_BY_DATA = ("vocab_size", "num_outputs", "num_classes", "image_shape")
"""DataInfo fields that decide tensor shapes and that only the data stage knows."""


def like(info: Any, theirs: Any) -> Any:
    """The provisional ``info`` with the shapes a ``model.init`` checkpoint was trained on,
    where its run predicts the same kind of target (the run reuses that run's tokenizer)."""
    import dataclasses

    if theirs.target != info.target:
        return dataclasses.replace(info, vocab_size=theirs.vocab_size or info.vocab_size)
    known = {k: getattr(theirs, k) for k in SHAPED_BY_DATA if getattr(theirs, k)}
    return dataclasses.replace(info, **known)


def structure(cfg: DictConfig, registry: Registry, info: Any) -> Any:
    """The model ``cfg`` builds, on the meta device when its builder allows, without its
    pretrained weights."""
    import torch

    from framework.models.sizing import build_model

    node = OmegaConf.to_container(cfg.model, resolve=True)
    switch = registry.contract("model", cfg.model).loads_weights
    if switch:
        node[switch] = False  # the structure alone: no weights are read before the run
    try:
        with torch.device("meta"):
            return build_model(registry, node, info)[0]
    except PlaitError:
        raise
    except Exception:  # a plugin's builder that cannot build on the meta device
        return build_model(registry, node, info)[0]


def probe_model(cfg: DictConfig, registry: Registry, task: Any) -> None:
    """Build the model (on the meta device when its builder allows) and apply the freeze
    policies and learning-rate groups to it; their errors stop the run here."""
    if task is None:
        return
    init = OmegaConf.select(cfg, "model.init", default=None)
    probe = needs_probe(cfg, registry)
    if not (init or probe):
        return
    info = provisional_info(cfg, registry, task)
    if init:
        from framework.models.init import check_init

        check_init(init, cfg, lambda theirs: structure(cfg, registry, like(info, theirs)))
    if not probe:
        return
    from framework.finetune.param_groups import LrScales, param_groups

    model = structure(cfg, registry, info)
    from framework.finetune.freeze import freeze_policies

    for policy in freeze_policies(cfg):
        registry.build("freeze", policy, registry=registry)(model)
    param_groups(model, None, LrScales.from_config(cfg.optimizer))
