"""Checks of a composed config that Hydra's schemas cannot make."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import PlaitError, did_you_mean
from framework.kinds import ENABLED_KEY, KINDS, NAME_KEY, builder_node, config_key
from framework.registry import TARGET_KEY, Registry
from framework.trust import refuse_targets


def component_nodes(cfg: DictConfig | dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every (kind, config key, node) that selects a component in ``cfg`` (composed, or as
    plain resolved values)."""
    out = []
    for kind, spec in KINDS.items():
        key = config_key(kind)
        node = OmegaConf.select(cfg, key) if isinstance(cfg, DictConfig) else _at(cfg, key)
        if node is None:
            continue
        if spec.multi and hasattr(node, "items"):
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
    if OmegaConf.select(cfg, "strict_plugins", default=False) is True:
        for provider, reason in registry.broken.items():
            raise PlaitError(f"strict_plugins=true: {reason}; fix, reinstall or uninstall "
                             f"plugin '{provider}'")  # fmt: skip
        for reason in [*registry.disabled.values(), *registry.shadowed]:
            raise PlaitError(f"strict_plugins=true: {reason}; fix, reinstall or uninstall "
                             "that plugin")  # fmt: skip
    trusted = OmegaConf.select(cfg, "allow_targets", default=False) is True
    refuse_targets(cfg, trusted)
    registry.allow_targets = trusted
    resolved = resolve(cfg)
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise PlaitError(f"missing value for '{missing[0]}'; set it with {missing[0]}=...")
    for kind, key, node in component_nodes(cfg):
        if not isinstance(node, DictConfig):
            raise PlaitError(f"'{key}' must select a {kind} (a mapping), not {node!r}")
        if TARGET_KEY in node:  # allowed above: the recipe opted in
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
    problems = value_problems(resolved, registry)
    if not problems:
        from framework.data.ray.cluster import engine_problems, step_problems

        problems = engine_problems(resolved.get("data") or {})
        problems += step_problems(resolved.get("data") or {}, registry)
        search = resolved.get("search") or {}
        if search.get("storage") and search.get("sampler", "none") != "none":
            from framework.search.study import storage_problem

            said = storage_problem(str(search["storage"]))
            problems += [said] if said else []
    problems += sparse_problems(resolved, registry)
    if problems:
        head = f"{len(problems)} bad values: " if len(problems) > 1 else ""
        raise PlaitError(head + "; ".join(problems))
    check_resume(resolved)
    task = _task(cfg, registry)
    from framework.data.train_stream import problems as stream_problems

    said = stream_problems(resolved.get("data") or {}, task.packed if task is not None else None)
    if said:
        raise PlaitError(said[0])
    augmenter = None
    if task is not None:
        check_task_fit(cfg, registry, task)
        check_monitors(resolved, registry, task)
        from framework.data.augmentation import check_text_augment

        augmenter = check_text_augment(cfg, registry, task)
    for kind, _key, node in component_nodes(cfg):
        spec = KINDS[kind]
        if spec.at_compose and NAME_KEY in node:
            built = registry.build(kind, builder_node(kind, node) if spec.common else node)
            if spec.probe is not None:
                getattr(built, spec.probe)()  # names and values, without data
            if kind == "hardware":
                check_precision(resolved["trainer"]["precision"], built)
                check_quantize_frozen(resolved["trainer"], built)
                check_fused(resolved, built)
                from framework.training.hardware import global_batch_accumulation

                keep = bool(node.get("keep_global_batch", False))
                global_batch_accumulation(resolved["trainer"]["accumulate"], built, keep)
    from framework.config.probe_model import probe_model

    probe_model(cfg, registry, task)
    return Checked(cfg, task, augmenter)


def sparse_problems(values: dict[str, Any], registry: Registry) -> list[str]:
    """A model with sparse embedding gradients (``model.sparse=true``) trains only with an
    optimizer that declares it takes them (``sparse_gradients``: plain SGD, momentum and
    weight decay 0) and without gradient clipping."""
    model = values.get("model") or {}
    if model.get("sparse") is not True:
        return []
    optimizer = values.get("optimizer") or {}
    zero = registry.contract("optimizer", optimizer).sparse_gradients
    wrong = []
    if zero is None:
        wrong.append(f"optimizer={optimizer.get(NAME_KEY)}")
    else:
        wrong += [f"optimizer.{k}={optimizer[k]}" for k in zero if optimizer.get(k)]
    if (values.get("trainer") or {}).get("grad_clip"):
        wrong.append(f"trainer.grad_clip={values['trainer']['grad_clip']}")
    if not wrong:
        return []
    return [
        f"model.sparse=true updates only the embedding rows a batch touches, which "
        f"{', '.join(wrong)} cannot do: use optimizer=sgd optimizer.momentum=0 "
        "optimizer.weight_decay=0 trainer.grad_clip=null (optimizers that take sparse "
        f"gradients: {', '.join(registry.declaring('optimizer', 'sparse_gradients'))}), or "
        "model.sparse=false"
    ]


HALF = ("16-mixed", "16-true")
"""Precisions that need a GPU (float16 kernels)."""


def check_precision(configured: str | None, hardware: Any) -> None:
    """float16 precisions need a GPU: on a CPU preset say which ones work there. bfloat16 on
    a CPU that emulates it is allowed, with a warning naming ``auto``. ``configured`` null:
    the preset's own precision."""
    from framework.training.hardware import wanted_precision

    precision = wanted_precision(configured, hardware)
    if precision in HALF and hardware.get("accelerator") == "cpu":
        raise PlaitError(
            f"trainer.precision={precision} needs a GPU and hardware is the CPU; use "
            "trainer.precision=auto (bf16-mixed where the CPU runs bfloat16) or 32-true"
        )
    if precision.startswith("bf16") and hardware.get("accelerator") == "cpu":
        from framework.training.hardware import native_bf16

        if not native_bf16("cpu"):
            import logging

            logging.getLogger("plait").warning(
                "trainer.precision=%s: this CPU has no native bfloat16 (no AVX512-BF16 or "
                "AMX), so it is emulated and many times slower than float32; use "
                "trainer.precision=auto",
                precision,
            )


def check_quantize_frozen(trainer: dict[str, Any], hardware: Any) -> None:
    """``trainer.quantize_frozen`` runs int8 kernels that exist on the CPU only."""
    accelerator = hardware.get("accelerator")
    if trainer.get("quantize_frozen") and accelerator != "cpu":
        raise PlaitError(
            f"trainer.quantize_frozen=true runs int8 CPU kernels and hardware uses "
            f"accelerator={accelerator}; use trainer.quantize_frozen=false (on a GPU, "
            "trainer.precision=bf16-mixed speeds up the frozen blocks instead)"
        )


def check_fused(resolved: dict[str, Any], hardware: Any) -> None:
    """``optimizer.fused=true`` where Lightning will not clip a fused optimizer's gradients
    (mixed precision with ``trainer.grad_clip``)."""
    from framework.training.hardware import run_precision
    from framework.training.optim import clipping_refuses_fused

    trainer = resolved["trainer"]
    if (resolved.get("optimizer") or {}).get("fused") is not True:
        return
    precision = run_precision(trainer["precision"], hardware)
    if clipping_refuses_fused(precision, trainer.get("grad_clip")):
        raise PlaitError(
            f"optimizer.fused=true: Lightning does not clip a fused optimizer's gradients "
            f"under {precision} precision (trainer.grad_clip={trainer['grad_clip']}); use "
            "optimizer.fused=null (fused where it can be) or trainer.grad_clip=null"
        )


def _null_references(cfg: Any, prefix: str = "") -> None:
    """Stop at a string that interpolates a null value (``${model.init}/tokenizer.json``
    with ``model.init`` unset would read ``None/tokenizer.json``)."""
    import re

    if not OmegaConf.is_config(cfg) or cfg._is_none() or cfg._is_missing():
        return
    keys = list(cfg.keys()) if OmegaConf.is_dict(cfg) else range(len(cfg))
    for key in keys:
        full = f"{prefix}{key}"
        node = cfg._get_node(key)
        if OmegaConf.is_config(node):
            _null_references(node, f"{full}.")
            continue
        raw = node._value() if node is not None else None
        if not (isinstance(raw, str) and OmegaConf.is_interpolation(cfg, key)):
            continue
        refs = re.findall(r"\$\{([\w.]+)\}", raw)
        if not refs or raw.strip() == f"${{{refs[0]}}}":
            continue  # the whole value is one reference: null stays null
        for ref in refs:
            if OmegaConf.select(cfg._get_root(), ref, default="") is None:
                raise PlaitError(f"'{full}' is '{raw}', but {ref} is null; set {ref}=...")


def resolve(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain values, interpolations resolved; a reference that does not
    resolve stops naming the key and the reference."""
    from omegaconf.errors import InterpolationResolutionError

    _null_references(cfg)
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except InterpolationResolutionError as exc:
        key = getattr(exc, "full_key", None) or "?"  # omegaconf sets it on its errors
        first = str(exc).splitlines()[0]
        raise PlaitError(
            f"'{key}': {first}; fix the ${{...}} reference or set {key} to a value"
        ) from None


def value_problems(values: dict[str, Any], registry: Registry) -> list[str]:
    """Every value outside its declared range or choices, and every key the schema does not
    know, as ``key=value must be ...`` phrases."""
    from framework.checks import field_checks
    from framework.config import schema as S

    problems: list[str] = []
    sections = {
        "": S.PlaitConfig,
        "trainer": S.TrainerConfig,
        "data": S.DataConfig,
        "data.augment": S.TextAugmentConfig,
        "data.engine": S.EngineConfig,
        "samples": S.SamplesConfig,
        "search": S.SearchConfig,
    }
    for name, schema in sections.items():
        node = _at(values, name)
        if not isinstance(node, dict):
            continue
        known = {f.name for f in dataclasses.fields(schema)}
        for key in node:
            full = f"{name}.{key}" if name else key
            if key not in known:
                problems.append(f"unknown key '{full}' ({did_you_mean(key, known)})")
        for key, check in field_checks(schema).items():
            wrong = check.problem(node.get(key))
            if wrong:
                problems.append(f"{name + '.' if name else ''}{key}={node.get(key)!r} {wrong}")
    for kind, key, _node in component_nodes(values):
        node = _at(values, key)
        if not isinstance(node, dict) or NAME_KEY not in node:
            continue
        checks = dict(registry.get(kind, node[NAME_KEY]).checks)
        checks.update({c.name: c.check for c in KINDS[kind].common if c.check is not None})
        for param, check in checks.items():
            wrong = check.problem(node.get(param))
            if wrong:
                problems.append(f"{key}.{param}={node.get(param)!r} {wrong}")
        problems.extend(_multiple_problems(registry.contract(kind, node), key, node))
    return problems


def _multiple_problems(contract: Any, key: str, node: dict[str, Any]) -> list[str]:
    """Widths that their ``multiple_of`` parameter (attention heads) does not divide; a
    ``target_params`` budget picks divisible widths itself."""
    size = contract.size
    if size is None or size.multiple_of is None or node.get("target_params") is not None:
        return []
    by = node.get(size.multiple_of)
    if not isinstance(by, int) or isinstance(by, bool) or by < 1:
        return []
    return [
        f"{key}.{width}={node[width]} is not divisible by {key}.{size.multiple_of}={by}"
        for width in size.widths
        if isinstance(node.get(width), int) and node[width] % by
    ]


def _at(values: dict[str, Any], key: str) -> Any:
    node: Any = values
    for part in [p for p in key.split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_resume(values: dict[str, Any]) -> None:
    """``resume=PATH`` is checked here; what ``resume=auto`` finds is checked when the run
    dir is known."""
    from framework.rundir import check_resume_path

    resume = values.get("resume")
    if resume and resume != "auto":
        check_resume_path(resume, OmegaConf.create(values))


def logged_metrics(values: dict[str, Any], task: Any, registry: Registry) -> list[str]:
    """The validation and training metrics a run of this config logs as one number (what a
    callback, a plateau schedule or a sweep may watch)."""
    metrics = values.get("metric") or {name: {NAME_KEY: name} for name in task.default_metrics}
    names = [key for key, node in metrics.items()
             if registry.contract("metric", node).logs == "number"]  # fmt: skip
    return ["train/loss", "val/loss", *(f"val/{n}" for n in names)]


def check_monitors(values: dict[str, Any], registry: Registry, task: Any) -> None:
    """A callback or schedule watching a metric the run never logs would never act: stop,
    listing the metrics that will be logged."""
    logged = logged_metrics(values, task, registry)
    watched = []
    for kind, key, node in component_nodes(values):
        if isinstance(node, dict) and NAME_KEY in node:
            param = registry.get(kind, node[NAME_KEY]).contract.monitors
            if param is not None and param in node:
                watched.append((f"{key}.{param}", node[param]))
    target = values.get("optimized_metric")
    if target is not None:
        watched.append(("optimized_metric", target.replace("test/", "val/", 1)))
    for key, name in watched:
        if name not in logged:
            close = did_you_mean(name, logged)
            hint = f"{close} " if close.startswith("did you mean") else ""
            raise PlaitError(
                f"{key}={name!r} is not a metric this run logs; {hint}(it logs "
                f"{', '.join(logged)}; a metric=[...] selection adds val/<name>)"
            )


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
