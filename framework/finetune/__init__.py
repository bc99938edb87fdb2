"""Fine-tuning: freeze policies, LoRA adapters, the frozen base kept out of checkpoints,
parameter groups (per-layer learning rates, no weight decay on norms and biases) and the
layout of a model's repeated blocks they all read."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in freeze policies with what each does (adds adapters, changes during
    the run, merges into the base, changes nothing)."""
    from framework.finetune import freeze

    add = registry.add
    add("freeze", "none", freeze.none, inert=True)
    add("freeze", "embeddings", freeze.embeddings)
    add("freeze", "first_n", freeze.first_n)
    add("freeze", "all_but_head", freeze.all_but_head)
    add("freeze", "pattern", freeze.pattern)
    add("freeze", "gradual", freeze.gradual, changes_during_run=True)
    add("freeze", "lora", freeze.lora, adds_adapters=True, mergeable=True)
