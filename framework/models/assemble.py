"""The model as training builds it: sized, started from ``model.init``, frozen in part by
the freeze policies (LoRA adds adapters), regularizers applied. Training, ``plait show``
and ``plait generate`` all build it here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.finetune.freeze import freeze_policies
from framework.registry import Registry


@dataclass
class TrainedModel:
    """The model as training sees it, with what building it did."""

    model: Any
    """Sized, started from ``model.init``, frozen in part, regularizers applied."""
    params: dict[str, Any]
    """The model config it was built from (after ``target_params`` sizing)."""
    size: str | None
    """The line saying what ``target_params`` chose, or None."""
    regularizers: list[Any]
    """The built regularizers."""
    callbacks: list[Any]
    """Lightning callbacks the freeze policies returned."""
    init: Any = None
    """What ``model.init`` loaded, or None."""
    leaves_base_out: bool = False
    """Whether checkpoints may leave the frozen base out (LoRA on pretrained weights:
    :mod:`framework.finetune.frozen_base`)."""


def build_trained_model(
    cfg: DictConfig, registry: Registry, info: Any, start: bool = True
) -> TrainedModel:
    """The model as training sees it: sized, started from ``model.init`` (unless ``start``
    is false: a checkpoint's weights follow), frozen in part by the freeze policies (in
    their order: LoRA adds its adapters), regularizers applied."""
    from framework.finetune.frozen_base import leaves_base_out
    from framework.models.init import load_init
    from framework.models.sizing import built_model, sized_params

    init = OmegaConf.select(cfg, "model.init", default=None)
    params, size = sized_params(registry, cfg.model, info)
    model = built_model(registry, params, info)
    report = load_init(model, init) if init and start else None
    callbacks: list[Any] = []
    policies = freeze_policies(cfg)
    for policy in policies:
        callbacks += registry.build("freeze", policy, registry=registry)(model) or []
    regularizers = [registry.build("regularizer", node) for node in cfg.regularizer.values()]
    for reg in regularizers:
        if hasattr(reg, "apply"):
            reg.apply(model)
    return TrainedModel(
        model, params, size, regularizers, callbacks, report,
        leaves_base_out(cfg, params, policies, registry),
    )  # fmt: skip
