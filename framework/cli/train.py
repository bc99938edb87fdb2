"""``plait train``: validate before Hydra takes over, then run (or sweep) through Hydra."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from framework.config.compose import CONFIG_NAME, CONFIG_PATH, compose, publish
from framework.config.validate import validate
from framework.errors import PlaitError
from framework.registry import Registry, default_registry


def preflight(registry: Registry, overrides: Sequence[str], multirun: bool) -> None:
    """Compose and validate every value a sweep will try, so bad input fails before any run."""
    for variant in _variants(overrides) if multirun else [list(overrides)]:
        validate(compose(registry, variant), registry)


def _variants(overrides: Sequence[str]) -> list[list[str]]:
    """One override list per value of each choice sweep (the others at their first value)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(list(overrides))
    except Exception as exc:
        raise PlaitError(f"cannot parse overrides: {str(exc).splitlines()[0]}") from None
    base: list[str] = []
    sweeps: list[tuple[int, list[str]]] = []
    for i, ov in enumerate(parsed):
        if ov.key_or_group.startswith("hydra"):
            continue
        if ov.is_sweep_override() and (ov.is_choice_sweep() or ov.is_range_sweep()):
            values = [f"{ov.get_key_element()}={v}" for v in ov.sweep_string_iterator()]
            sweeps.append((len(base), values))
            base.append(values[0])
        elif ov.is_sweep_override():
            continue  # interval sweeps (Optuna) are sampled by the sweeper
        else:
            base.append(overrides[i])
    variants = [base]
    for pos, values in sweeps:
        for v in values[1:]:
            variants.append([*base[:pos], v, *base[pos + 1 :]])
    return variants


def train(overrides: list[str], multirun: bool, verbose: bool) -> int:
    """Run ``plait train``; returns the exit status."""
    registry = default_registry()
    preflight(registry, overrides, multirun)
    return run_hydra(registry, overrides, multirun, verbose)


def run_hydra(registry: Registry, overrides: list[str], multirun: bool, verbose: bool) -> int:
    """Hand the overrides to Hydra's app runner (run dir, multirun, sweepers, launchers)."""
    publish(registry)

    def task(cfg: Any) -> float | None:
        from hydra.core.hydra_config import HydraConfig

        from framework.cli.main import fail
        from framework.engine import train as engine_train

        try:
            validate(cfg, registry)
            results = engine_train(cfg, registry, HydraConfig.get().runtime.output_dir)
        except PlaitError as exc:
            if verbose:
                raise
            sys.exit(fail(exc))
        return results.get("val/loss")

    # Hydra's own runner, given our overrides rather than sys.argv: sys.argv stays the real
    # command line (`plait train ...`), which Lightning's DDP launcher re-runs for each rank.
    from hydra._internal.utils import _run_hydra, get_args_parser

    parser = get_args_parser()
    args = parser.parse_args([*(["--multirun"] if multirun else []), *overrides])
    _run_hydra(
        args=args,
        args_parser=parser,
        task_function=task,
        config_path=CONFIG_PATH,
        config_name=CONFIG_NAME,
    )
    return 0
