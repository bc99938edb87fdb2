"""The one place that calls Hydra's app runner directly (a private function of Hydra's)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from framework.config.compose import CONFIG_NAME, CONFIG_PATH


def run_with_hydra(task: Callable[[Any], Any], overrides: Sequence[str], multirun: bool) -> None:
    """Run ``task(cfg)`` through Hydra's runner (run dir, multirun, sweepers, launchers) with
    ``overrides`` in place of the command line.

    ``sys.argv`` stays the real command line (``plait train ...``), which Lightning's DDP
    launcher re-runs for each rank; ``hydra.main`` would read the overrides from it instead.
    """
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


@contextlib.contextmanager
def as_single_run(output_dir: str) -> Iterator[None]:
    """Inside one job of a sweep: make the command line and Hydra's run dir those of a single
    run in the job's own folder, so that the processes Lightning's DDP launcher starts (it
    re-runs ``sys.argv`` with ``hydra.run.dir`` set to Hydra's run dir) train this job in
    this folder instead of starting the whole sweep again."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf, open_dict

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        yield
        return
    saved_argv, saved_dir = list(sys.argv), hydra_cfg.run.dir
    job_overrides = list(hydra_cfg.overrides.task)
    sys.argv = [sys.argv[0], *[a for a in sys.argv[1:] if not a.startswith("-")][:1],
                *job_overrides]  # fmt: skip
    readonly = OmegaConf.is_readonly(hydra_cfg)
    OmegaConf.set_readonly(hydra_cfg, False)
    with open_dict(hydra_cfg):
        hydra_cfg.run.dir = output_dir
    try:
        yield
    finally:
        sys.argv = saved_argv
        with open_dict(hydra_cfg):
            hydra_cfg.run.dir = saved_dir
        OmegaConf.set_readonly(hydra_cfg, readonly)
