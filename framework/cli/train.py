"""``plait train``: validate before Hydra takes over, then run (or sweep) through Hydra."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from framework import collector
from framework.cli.hydra_runner import as_single_run, run_with_hydra
from framework.config.compose import CONFIG_NAME, compose, publish
from framework.config.validate import Checked, validate
from framework.errors import PlaitError, explain, fail
from framework.registry import Registry, default_registry
from framework.rundir import RunDir


def preflight(
    registry: Registry,
    overrides: Sequence[str],
    multirun: bool,
    config_name: str = CONFIG_NAME,
    config_dir: str | None = None,
) -> Preflight:
    """Compose and validate every value a sweep will try (every combination of choices, both
    ends of each range, from the command line and ``search.space``), so bad input fails
    before any trial runs. A recipe with a ``search`` makes the run a sweep. ``config_name``,
    ``config_dir``: Hydra's ``--config-name`` and ``--config-dir``."""
    from framework.search import space as S
    from framework.search.objective import objective_of
    from framework.search.sweep import plan

    cli_params, fixed = S.from_overrides(overrides)
    first = [S.override(p.path, p.ends()[0]) for p in cli_params] if multirun else []
    with_hydra = compose(registry, [*fixed, *first], config_name, config_dir, with_hydra=True)
    base = validate(without_hydra(with_hydra), registry)  # a trial's own config
    search = base.cfg.search
    multirun = multirun or search.sampler != "none"
    if cli_params and not multirun:
        said = next(o for o in overrides if o not in fixed)
        raise PlaitError(f"'{said}' is a sweep; add -m, or search=random to sample it")
    checked = {config_key(base.cfg): base}
    if not multirun:
        return Preflight(checked, False, list(overrides), list(overrides), with_hydra)
    sweep = plan(search, list(overrides))
    objective_of(base.cfg, base.task)
    for variant in S.variants(sweep.params, GRID_CHECKED):
        result = validate(compose(registry, [*fixed, *variant], config_name, config_dir), registry)
        checked[config_key(result.cfg)] = result
    overrides = _with_sweep_dir(list(overrides), base.cfg)
    return Preflight(checked, True, overrides, [*fixed, *first], with_hydra)


@dataclass
class Preflight:
    """What the checks before Hydra found."""

    checked: dict[str, Checked]
    """What each check built, keyed by the composed config."""
    multirun: bool
    """Whether the run is a sweep (``-m``, or a recipe's ``search``)."""
    overrides: list[str]
    """The overrides to run (a search gets its own sweep folder)."""
    first_job: list[str]
    """The overrides of a sweep's first job (each swept value at its first)."""
    with_hydra: Any
    """The first job's config as composed, with Hydra's node (where the run is written)."""


def without_hydra(cfg: Any) -> Any:
    """A copy of a config composed with Hydra's node, without it: what Hydra hands a job."""
    import copy

    from omegaconf import open_dict, read_write

    job = copy.deepcopy(cfg)
    with read_write(job), open_dict(job):
        del job["hydra"]
    return job


def _with_sweep_dir(overrides: list[str], cfg: Any) -> list[str]:
    """A search keeps its study in a folder named after its command, so the same command run
    again continues it (``search.trials`` and launcher settings aside: raising the count
    extends the study). An explicit ``hydra.sweep.dir`` wins."""
    import hashlib

    if cfg.search.sampler == "none" or any(o.startswith("hydra.sweep.dir=") for o in overrides):
        return overrides
    kept = sorted(o for o in overrides
                  if not o.startswith(("hydra", "search.trials=", "+hydra", "~hydra")))  # fmt: skip
    digest = hashlib.sha1("\n".join(kept).encode()).hexdigest()[:8]
    return [
        *overrides,
        f"hydra.sweep.dir={RunDir.search_dir(cfg.name, cfg.search.sampler, digest)}",
    ]


def config_key(cfg: Any) -> str:
    """A composed config as text, interpolations unresolved (Hydra's run dir is not known at
    preflight): equal for the same recipe and overrides."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(cfg)


GRID_CHECKED = 128
"""Sweeps with at most this many combinations are checked combination by combination;
larger ones value by value (each value once, the others at their first)."""


def train(
    overrides: list[str],
    multirun: bool,
    verbose: bool,
    hydra_flags: Sequence[str] = (),
    config_name: str = CONFIG_NAME,
    config_dir: str | None = None,
    command: str | None = None,
) -> int:
    """Run ``plait train``; returns the exit status (a sweep: the number of failed trials).
    ``hydra_flags`` (``--cfg job``, ``--info``): the config is checked as for a run, then
    Hydra prints what they ask for and nothing trains. ``config_name``, ``config_dir``:
    Hydra's ``--config-name`` and ``--config-dir``. ``command``: the command line a single
    run records as the one that trains it again (None: ``plait train`` and its overrides)."""
    from framework.search.sweep import SweepFailures

    registry = default_registry()
    pre = preflight(registry, overrides, multirun, config_name, config_dir)
    if pre.multirun:
        collector.resume(freeze=False)  # a sweep's process: its checks' garbage grows with it
    primary = (config_name, config_dir)
    if hydra_flags:  # Hydra refuses --cfg and --info with --multirun: show the first job's
        publish(registry)
        if pre.multirun:
            print(f"plait: the first of a sweep's jobs ({len(pre.checked)} configs checked)",
                  file=sys.stderr)  # fmt: skip
        run_with_hydra(lambda cfg: None, [*hydra_flags, *pre.first_job], False, *primary)
        return 0
    overrides = claim_dirs(pre)
    try:
        return run_hydra(registry, overrides, pre.multirun, verbose, pre.checked, *primary,
                         command=command)  # fmt: skip
    except SweepFailures as exc:
        return fail(exc)


LAUNCHED = ("WORLD_SIZE", "SLURM_NTASKS")
"""Set when a launcher (torchrun, Lightning's DDP, srun) started several processes of one run,
each writing the same run dir."""


def claim_dirs(pre: Preflight) -> list[str]:
    """The overrides to run, with the folder Hydra writes pinned: a run dir (or a grid
    sweep's folder) that already holds a run is continued only with ``resume=``, written
    beside when its name came from the clock, and refused otherwise (no file replaced).
    A search's folder is its study's, continued on purpose; a rank of a launched run shares
    its folder with the others."""
    import os
    from pathlib import Path

    from omegaconf import OmegaConf

    from framework.cli.command_config import quoted
    from framework.rundir import claim_run_dir

    if any(int(os.environ.get(k, "1") or 1) > 1 for k in LAUNCHED):
        return pre.overrides
    base = next(iter(pre.checked.values())).cfg
    if pre.multirun and base.search.sampler != "none":
        return pre.overrides
    key = "hydra.sweep.dir" if pre.multirun else "hydra.run.dir"
    node = pre.with_hydra.hydra.sweep if pre.multirun else pre.with_hydra.hydra.run
    timed = "${now:" in str(OmegaConf.to_container(node, resolve=False)["dir"])
    try:
        wanted = Path(str(node.dir))
    except Exception:  # a name only Hydra's job can resolve (its runtime values)
        return pre.overrides
    resume = None if pre.multirun else base.get("resume")
    path, said = claim_run_dir(wanted, key, timed, resume)
    if said:
        print(f"plait: {said}", file=sys.stderr)
    kept = [o for o in pre.overrides if not o.lstrip("+").startswith(f"{key}=")]
    return [*kept, f"{key}={quoted(str(path))}"]


def run_hydra(
    registry: Registry,
    overrides: list[str],
    multirun: bool,
    verbose: bool,
    checked: dict[str, Checked] | None = None,
    config_name: str = CONFIG_NAME,
    config_dir: str | None = None,
    command: str | None = None,
) -> int:
    """Train each job Hydra composes (from ``config_name``, ``config_dir``); a job whose
    config preflight checked uses the task and augmenter built then, any other is validated
    first. ``command``: what a single run records as its command line."""
    publish(registry)
    done = checked or {}

    def task(cfg: Any) -> Any:
        from hydra.core.hydra_config import HydraConfig

        from framework.engine import train as engine_train
        from framework.search.trial import run_trial

        run_dir = HydraConfig.get().runtime.output_dir

        def check() -> Checked:
            return done.get(config_key(cfg)) or validate(cfg, registry)

        def fit(result: Checked, callbacks: list[Any]) -> dict[str, float]:
            with as_single_run(run_dir):
                return engine_train(cfg, registry, run_dir, result.task, result.augmenter,
                                    callbacks, None if multirun else command)  # fmt: skip

        if multirun:  # a trial: its failure is recorded, and the sweep goes on
            return run_trial(cfg, run_dir, check, fit)
        try:
            fit(check(), [])
            return None
        except PlaitError as exc:
            if verbose:
                raise
            sys.exit(fail(explain(exc) or exc))
        except Exception as exc:
            said = None if verbose else explain(exc)
            if said is None:
                raise
            sys.exit(fail(said))

    run_with_hydra(task, overrides, multirun, config_name, config_dir)
    return 0
