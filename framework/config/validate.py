"""Checks of a composed config that Hydra's schemas cannot make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import PlaitError
from framework.kinds import ENABLED_KEY, KINDS, NAME_KEY, config_key
from framework.registry import Registry


def component_nodes(cfg: DictConfig) -> list[tuple[str, str, Any]]:
    """Every (kind, config key, node) that selects a component in ``cfg``."""
    out = []
    for kind, spec in KINDS.items():
        key = config_key(kind)
        node = OmegaConf.select(cfg, key)
        if node is None:
            continue
        if spec.multi:
            out.extend((kind, f"{key}.{name}", sub) for name, sub in node.items())
        else:
            out.append((kind, key, node))
    return out


@dataclass
class Checked:
    """A composed config that passed every check, with what the checks built: the run uses
    these objects as they are, so nothing is built twice."""

    cfg: DictConfig
    """The composed config."""
    task: Any
    """The built task (None when the config selects none)."""
    augmenter: Any
    """The text augmenter (None without ``data/text_augment``); its synonyms not read yet."""


def validate(cfg: DictConfig, registry: Registry) -> Checked:
    """Check a composed config against the registry, before any data work: missing values,
    unknown component names, model/loss/metric against the task, text augmentation, and the
    kinds probed at compose. Returns the config with the task and augmenter it built."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise PlaitError(f"missing value for '{missing[0]}'; set it with {missing[0]}=...")
    for kind, key, node in component_nodes(cfg):
        if not isinstance(node, DictConfig):
            raise PlaitError(f"'{key}' must select a {kind} (a mapping), not {node!r}")
        if "_target_" in node:
            continue
        name = node.get(NAME_KEY)
        if name is None and KINDS[kind].multi:  # settings left by a recipe, option dropped
            option = key.rsplit(".", 1)[-1]
            raise PlaitError(
                f"'{key}' has settings but '{option}' is not selected in "
                f"{KINDS[kind].group}; add it to {KINDS[kind].group}=[...]"
                + (
                    f" or keep it and set {key}.{ENABLED_KEY}=false"
                    if any(c.name == ENABLED_KEY for c in KINDS[kind].common)
                    else ""
                )
            )
        if name is None:
            raise PlaitError(f"'{key}' names no {kind}; select one with {KINDS[kind].group}=NAME")
        registry.get(kind, name)
    task = _task(cfg, registry)
    augmenter = None
    if task is not None:
        check_task_fit(cfg, registry, task)
        from framework.augment.build import check_text_augment

        augmenter = check_text_augment(cfg, registry, task)
    for kind, _key, node in component_nodes(cfg):
        probe = KINDS[kind].probe
        if probe is not None and NAME_KEY in node:
            getattr(registry.build(kind, node), probe)()  # names and values, without data
    return Checked(cfg, task, augmenter)


def _task(cfg: DictConfig, registry: Registry) -> Any:
    """The task the config selects, built (tasks are light), or None without one."""
    node = OmegaConf.select(cfg, "task")
    if not isinstance(node, DictConfig) or NAME_KEY not in node:
        return None
    return registry.build("task", node)


def check_task_fit(cfg: DictConfig, registry: Registry, task: Any) -> None:
    """Stop when the model, loss or a metric does not fit the task (targets and inputs)."""
    from framework.targets import check_fit, fitting_names

    task_name = cfg.task[NAME_KEY]
    for kind, _key, node in component_nodes(cfg):
        if not KINDS[kind].fit_checked or NAME_KEY not in node:
            continue
        comp = registry.get(kind, node[NAME_KEY])
        check_fit(kind, comp.name, comp.contract, task_name, task,
                  fitting_names(registry, kind, task))  # fmt: skip
