"""LoRA adapters through ``peft``: injected into the chosen linear layers of any
``nn.Module`` (Plait's GPT, Hugging Face encoders and decoders), base weights frozen."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from framework.errors import PlaitError, install_hint

log = logging.getLogger("plait")

ADAPTER = "lora_"
"""Substring of every adapter parameter's name (``lora_A``, ``lora_B``)."""


def linear_targets(model: Any, blocks_at: str) -> list[str]:
    """Last name parts of every ``nn.Linear`` inside the blocks (``qkv``, ``query``,
    ``q_proj``, ``fc``...): what LoRA adapts by default, found from the module types."""
    from torch import nn

    prefix = blocks_at + "."
    return sorted({
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if name.startswith(prefix) and isinstance(module, nn.Linear)
    })  # fmt: skip


class LoRA:
    """The ``lora`` freeze policy (see :func:`framework.finetune.freeze.lora`)."""

    def __init__(
        self,
        rank: int,
        alpha: float,
        dropout: float,
        targets: list[str] | None,
        train_head: bool,
        merge: bool,
        registry: Any = None,
    ) -> None:
        try:
            import peft  # noqa: F401
        except ImportError:
            raise install_hint("freeze 'lora' (peft)", "pip install peft") from None
        self.rank, self.alpha, self.dropout = rank, alpha, dropout
        self.targets, self.train_head, self.merge = targets, train_head, merge
        self.registry = registry
        """The registry the run builds from: which policies the merged config leaves out."""

    def __call__(self, model: Any) -> list[Any]:
        from peft import LoraConfig, inject_adapter_in_model

        from framework.finetune.structure import find_layout

        layout = find_layout(model)
        found = linear_targets(model, layout.blocks_at)
        if self.targets:
            names = [n for n, _ in model.named_modules()]
            for t in self.targets:
                if not any(re.fullmatch(rf"(.*\.)?(?:{t})", n) for n in names):
                    raise PlaitError(
                        f"freeze.lora.targets: '{t}' names no module of the model (linear "
                        f"layers in its blocks: {', '.join(found)})"
                    )
            where, targets = r"(.*\.)?", self.targets
        else:  # every linear layer inside the blocks, not the head's
            where, targets = rf"{re.escape(layout.blocks_at)}\.\d+\.(.*\.)?", found
        config = LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=f"{where}(?:{'|'.join(targets)})",  # a string: peft full-matches it
        )
        head = set(layout.head)
        inject_adapter_in_model(config, model)
        for name, p in model.named_parameters():
            p.requires_grad_(ADAPTER in name or (self.train_head and name in head))
        adapters = sum(p.numel() for n, p in model.named_parameters() if ADAPTER in n)
        log.info("LoRA: rank %d on %s: %s adapter parameters", self.rank,
                 ", ".join(targets), f"{adapters:,}")  # fmt: skip
        return [_merge_callback(model, self.registry)] if self.merge else []


def merge_adapters(model: Any) -> None:
    """Fold every LoRA adapter into its base weight (``W + B A * alpha / r``), in place; the
    adapters stay but no longer act."""
    from peft.tuners.lora import LoraLayer

    for module in model.modules():
        if isinstance(module, LoraLayer):
            module.merge()


def merged_copy(model: Any) -> Any:
    """A copy of ``model`` with every adapter folded in and the LoRA layers replaced by their
    base layers: a plain model, loadable without ``peft``."""
    import copy

    from peft.tuners.lora import LoraLayer

    plain = copy.deepcopy(model)
    merge_adapters(plain)
    for name, module in list(plain.named_modules()):
        if isinstance(module, LoraLayer):
            parent, _, child = name.rpartition(".")
            setattr(plain.get_submodule(parent) if parent else plain, child,
                    module.get_base_layer())  # fmt: skip
    return plain


def _merge_callback(model: Any, registry: Any) -> Any:
    from lightning.pytorch.callbacks import Callback

    class MergeAdapters(Callback):
        """At the end of training, write ``checkpoints/merged.ckpt``: the model with its
        adapters folded in, and a config without the policies whose weights merged (they
        declare ``mergeable``), so that ``plait
        generate`` (and an export) read plain weights. Training state is left as it is."""

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            if not trainer.is_global_zero:
                return
            import torch

            from framework.registry import default_registry

            found = registry or default_registry()  # None: a LoRA built outside a run
            plain = merged_copy(model)
            payload = dict(pl_module.payload)
            config = dict(payload["config"])
            config["freeze"] = {k: v for k, v in (config.get("freeze") or {}).items()
                                if not found.contract("freeze", v).mergeable}  # fmt: skip
            payload["config"] = config
            state = {f"model.{k}": v for k, v in plain.state_dict().items()}
            from framework.rundir import RunDir

            merged = RunDir(trainer.default_root_dir).merged_checkpoint
            merged.parent.mkdir(parents=True, exist_ok=True)
            tmp = merged.with_name(f".{merged.name}.tmp")
            torch.save({"state_dict": state, "plait": payload}, tmp)
            os.replace(tmp, merged)
            log.info("LoRA: adapters merged into %s", merged)

    return MergeAdapters()
