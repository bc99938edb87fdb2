"""What ``plait show`` says about a model (sizes chosen for the budget, parameters per module,
FLOPs), computed once per model config and data shape and kept in Plait's cache, so that a
second ``plait show`` of the same model prints it without importing torch."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from framework.paths import plait_cache

FORMAT = 4
"""Version of the stored facts; bump to invalidate (4: optimizer groups count their
trainable weights)."""


@dataclass
class ModelFacts:
    """A model as training builds it, in numbers."""

    params: dict[str, Any]
    """The model config the run uses (after ``target_params`` sizing)."""
    size_line: str | None
    """What ``target_params`` chose, or None without a budget."""
    title: str
    """Model name, input shape and head."""
    rows: list[tuple[str, int, bool]]
    """(top-level module, its own parameters, whether it also holds tied weights)."""
    total: int
    """Parameters, tied weights counted once."""
    trainable: int
    """Parameters that receive gradients (after freezing)."""
    flops: int
    """FLOPs of one forward pass on one example."""
    groups: list[tuple[str, int, int]]
    """(group, trainable, frozen) parameters: embeddings, each block, head (or ``all``)."""
    lr_groups: list[tuple[str, float, bool, int, int]]
    """Optimizer groups: (label, learning-rate multiplier, decayed, parameters, of which
    trainable at the start: a frozen block's group trains only once ``gradual`` unfreezes
    it)."""
    activations: int = 0
    """Bytes one training example's forward pass keeps for the backward (float32)."""


def model_facts(cfg: Any, registry: Any, info: Any) -> ModelFacts:
    """Build the model as training does (sized, frozen, regularized; no loss or metrics) and
    measure it."""
    from framework.finetune.param_groups import SCALE_KEY, LrScales, param_groups
    from framework.finetune.structure import parameter_counts
    from framework.kinds import NAME_KEY
    from framework.models.assemble import build_trained_model
    from framework.models.footprint import activation_bytes, forward_flops
    from framework.models.sizing import count_params

    built = build_trained_model(cfg, registry, info)
    model = built.model
    shape = (
        f"images {'x'.join(map(str, info.image_shape))}"
        if info.image_shape
        else f"vocabulary {info.vocab_size:,}, {info.max_length} tokens per example"
    )
    head = {"tokens": "next-token head"}.get(info.target, f"{info.num_outputs}-output head")
    rows: list[tuple[str, int, bool]] = []
    seen: set[int] = set()
    for child_name, child in model.named_children():
        own = [p for p in child.parameters() if id(p) not in seen]
        shared = any(id(p) in seen for p in child.parameters())
        seen.update(id(p) for p in own)
        if own or shared:  # activations, pooling and dropout hold none
            label = f"{child_name} ({type(child).__name__})" if child_name.isdigit() else child_name
            rows.append((label, sum(p.numel() for p in own), shared))
    unique = {id(p): p for p in model.parameters()}.values()
    return ModelFacts(
        params=built.params,
        size_line=built.size,
        title=f"model '{cfg.model[NAME_KEY]}' ({shape}; {head})",
        rows=rows,
        total=count_params(model),
        trainable=sum(p.numel() for p in unique if p.requires_grad),
        flops=forward_flops(model, info),
        groups=parameter_counts(model),
        lr_groups=[
            (
                g["name"],
                g[SCALE_KEY],
                g.get("weight_decay") != 0.0,
                sum(p.numel() for p in g["params"]),
                sum(p.numel() for p in g["params"] if p.requires_grad),
            )
            for g in param_groups(model, None, LrScales.from_config(cfg.optimizer))
        ],
        activations=activation_bytes(model, info),
    )


def facts_key(cfg: Any, registry: Any, info: Any) -> str:
    """What the facts depend on: the model, freeze and regularizer configs, the optimizer's
    per-layer rate settings, the data's shape, the model's builder and the versions of Plait
    and torch."""
    from importlib.metadata import PackageNotFoundError, version

    from omegaconf import OmegaConf

    from framework.finetune.param_groups import LrScales
    from framework.kinds import NAME_KEY

    def installed(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "source"

    builder = registry.get("model", cfg.model[NAME_KEY]).builder
    payload = {
        "format": FORMAT,
        "config": OmegaConf.to_container(
            OmegaConf.masked_copy(cfg, ["model", "freeze", "regularizer"]), resolve=True
        ),
        "lr_groups": asdict(LrScales.from_config(cfg.optimizer)),  # not the rate itself
        "info": info.to_dict(),
        "builder": f"{builder.__module__}.{builder.__qualname__}",
        "versions": [installed("plait"), installed("torch")],
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def cached_model_facts(cfg: Any, registry: Any, info: Any) -> ModelFacts:
    """:func:`model_facts`, from Plait's cache when this model was measured before."""
    path = plait_cache("model_facts") / f"{facts_key(cfg, registry, info)}.json"
    if path.is_file():
        stored = json.loads(path.read_text("utf-8"))
        for key in ("rows", "groups", "lr_groups"):
            stored[key] = [tuple(r) for r in stored[key]]
        return ModelFacts(**stored)
    facts = model_facts(cfg, registry, info)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{id(facts)}.tmp")
    tmp.write_text(json.dumps(asdict(facts)), "utf-8")
    tmp.replace(path)
    return facts
