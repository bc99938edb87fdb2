"""The set-up every command that reads a recipe shares: the registry, the composed config,
its validation, and the task and augmenter the validation built (used as they are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from framework.registry import Registry


@dataclass
class Loaded:
    """A recipe ready for a command."""

    registry: Registry
    """Plait's components and every installed plugin's."""
    cfg: Any
    """The composed, validated config."""
    task: Any
    """The task, built once."""
    augmenter: Any
    """The text augmenter (None without ``data/text_augment``), built once."""


def load(overrides: Sequence[str], registry: Registry | None = None) -> Loaded:
    """Compose ``conf/train.yaml`` with ``overrides`` and validate it, before any data work."""
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.registry import default_registry

    registry = registry if registry is not None else default_registry()
    checked = validate(compose(registry, overrides), registry)
    return Loaded(registry, checked.cfg, checked.task, checked.augmenter)


def stage(loaded: Loaded, data_cfg: Any = None) -> Any:
    """The recipe's data stage (``data_cfg``: the data config with other settings, such as
    ``augment.mode``, for the same task and augmenter)."""
    from framework.data.stage import DataStage

    cfg = loaded.cfg
    data_cfg = cfg.data if data_cfg is None else data_cfg
    return DataStage(data_cfg, loaded.task, loaded.registry, cfg.seed, loaded.augmenter)
