"""``plait train``: validate before Hydra takes over, then run (or sweep) through Hydra."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from framework.cli.hydra_runner import as_single_run, run_with_hydra
from framework.config.compose import compose, publish
from framework.config.validate import Checked, validate
from framework.errors import PlaitError, fail, library_error
from framework.registry import Registry, default_registry


def preflight(registry: Registry, overrides: Sequence[str], multirun: bool) -> dict[str, Checked]:
    """Compose and validate every value a sweep will try, so bad input fails before any run;
    returns what each check built, keyed by the composed config."""
    checked = {}
    for variant in _variants(overrides) if multirun else [list(overrides)]:
        result = validate(compose(registry, variant), registry)
        checked[config_key(result.cfg)] = result
    return checked


def config_key(cfg: Any) -> str:
    """A composed config as text, interpolations unresolved (Hydra's run dir is not known at
    preflight): equal for the same recipe and overrides."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(cfg)


def objective(results: dict[str, float], cfg: Any, task: Any) -> float:
    """What a sweep optimizes: ``optimized_metric``, or the task's monitored metric."""
    name = cfg.optimized_metric or task.monitor
    if name not in results:
        raise PlaitError(
            f"optimized_metric: '{name}' is not among the run's results "
            f"({', '.join(sorted(results)) or 'none'}); set optimized_metric to one of them"
        )
    return results[name]


GRID_CHECKED = 128
"""Sweeps with at most this many combinations are checked combination by combination;
larger ones value by value (each value once, the others at their first)."""


def _variants(overrides: Sequence[str]) -> list[list[str]]:
    """The override lists a sweep will run: every combination of its choice and range
    sweeps (each value alone past ``GRID_CHECKED``), and both ends of each interval."""
    import itertools

    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(list(overrides))
    except Exception as exc:
        raise PlaitError(f"cannot parse overrides: {str(exc).splitlines()[0]}") from None
    axes: list[list[str]] = []
    for i, ov in enumerate(parsed):
        if ov.key_or_group.startswith("hydra"):
            continue
        key = ov.get_key_element()
        if ov.is_interval_sweep():  # sampled by the sweeper: its ends bound what it tries
            axes.append([f"{key}={ov.value().start}", f"{key}={ov.value().end}"])
        elif ov.is_sweep_override():
            axes.append([f"{key}={v}" for v in ov.sweep_string_iterator()])
        else:
            axes.append([overrides[i]])
    if math.prod(len(values) for values in axes) <= GRID_CHECKED:
        return [list(combo) for combo in itertools.product(*axes)]
    base = [values[0] for values in axes]
    variants = [base]
    for pos, values in enumerate(axes):
        variants.extend([*base[:pos], v, *base[pos + 1 :]] for v in values[1:])
    return variants


def train(overrides: list[str], multirun: bool, verbose: bool) -> int:
    """Run ``plait train``; returns the exit status."""
    registry = default_registry()
    checked = preflight(registry, overrides, multirun)
    return run_hydra(registry, overrides, multirun, verbose, checked)


def run_hydra(
    registry: Registry,
    overrides: list[str],
    multirun: bool,
    verbose: bool,
    checked: dict[str, Checked] | None = None,
) -> int:
    """Train each job Hydra composes; a job whose config preflight checked uses the task and
    augmenter built then, any other is validated first."""
    publish(registry)
    done = checked or {}

    def task(cfg: Any) -> float | None:
        from hydra.core.hydra_config import HydraConfig

        from framework.engine import train as engine_train

        try:
            result = done.get(config_key(cfg)) or validate(cfg, registry)
            run_dir = HydraConfig.get().runtime.output_dir
            with as_single_run(run_dir):
                results = engine_train(cfg, registry, run_dir, result.task, result.augmenter)
            return objective(results, cfg, result.task) if multirun else None
        except PlaitError as exc:
            if verbose:
                raise
            sys.exit(fail(exc))
        except Exception as exc:
            said = None if verbose else library_error(exc)
            if said is None:
                raise
            sys.exit(fail(said))

    run_with_hydra(task, overrides, multirun)
    return 0
