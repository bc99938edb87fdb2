"""Checks of a composed config that Hydra's schemas cannot make."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import PlaitError
from framework.registry import KINDS, NAME_KEY, Registry


def component_nodes(cfg: DictConfig) -> list[tuple[str, str, Any]]:
    """Every (kind, config key, node) that selects a component in ``cfg``."""
    out = []
    for kind, spec in KINDS.items():
        key = spec.group.replace("/", ".")
        node = OmegaConf.select(cfg, key)
        if node is None:
            continue
        if spec.multi:
            out.extend((kind, f"{key}.{name}", sub) for name, sub in node.items())
        else:
            out.append((kind, key, node))
    return out


def validate(cfg: DictConfig, registry: Registry) -> None:
    """Fail on missing values and on nodes naming components that are not registered."""
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
                    f" or keep it and set {key}.enabled=false"
                    if kind in ("curate", "clean")
                    else ""
                )
            )
        if name is None:
            raise PlaitError(f"'{key}' names no {kind}; select one with {KINDS[kind].group}=NAME")
        registry.get(kind, name)
    check_task_fit(cfg, registry)
    task_node = OmegaConf.select(cfg, "task")
    if isinstance(task_node, DictConfig) and NAME_KEY in task_node:
        from framework.augment.build import check_text_augment

        check_text_augment(cfg, registry, registry.build("task", task_node))
    for kind, _key, node in component_nodes(cfg):
        if kind == "image_augment" and NAME_KEY in node:
            registry.build(kind, node).transforms()  # names and parameters, without data


def check_task_fit(cfg: DictConfig, registry: Registry) -> None:
    """Stop when the model, loss or a metric does not fit the task (targets and inputs)."""
    from framework.targets import check_fit, fitting_names

    task_node = OmegaConf.select(cfg, "task")
    if not isinstance(task_node, DictConfig) or NAME_KEY not in task_node:
        return
    task = registry.build("task", task_node)
    for kind, _key, node in component_nodes(cfg):
        if kind not in ("model", "loss", "metric") or NAME_KEY not in node:
            continue
        comp = registry.get(kind, node[NAME_KEY])
        check_fit(kind, comp.name, comp.builder, task_node[NAME_KEY], task,
                  fitting_names(registry, kind, task))  # fmt: skip
