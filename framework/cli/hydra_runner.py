"""The one place that calls Hydra's app runner directly (a private function of Hydra's)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from framework.config.compose import CONFIG_NAME, CONFIG_PATH
from framework.errors import PlaitError
from framework.training.process_group import end_process_group


def run_with_hydra(
    task: Callable[[Any], Any],
    overrides: Sequence[str],
    multirun: bool,
    config_name: str = CONFIG_NAME,
    config_dir: str | None = None,
) -> None:
    """Run ``task(cfg)`` through Hydra's runner (run dir, multirun, sweepers, launchers) with
    ``overrides`` in place of the command line, from the primary config ``config_name``
    (with ``config_dir``: Hydra's ``--config-dir``, searched first).

    ``sys.argv`` stays the real command line (``plait train ...``), which Lightning's DDP
    launcher re-runs for each rank; ``hydra.main`` would read the overrides from it instead.
    """
    from hydra._internal.utils import _run_hydra, get_args_parser

    parser = get_args_parser()
    where = ["--config-dir", str(config_dir)] if config_dir else []
    args = parser.parse_args([*(["--multirun"] if multirun else []), *where, *overrides])
    asked = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a traceback
    try:
        _run_hydra(
            args=args,
            args_parser=parser,
            task_function=task,
            config_path=CONFIG_PATH,
            config_name=config_name,
        )
    except OSError as exc:
        if asked == "1" or exc.filename is None:
            raise
        raise PlaitError(
            f"cannot write '{exc.filename}': {exc.strerror}; set hydra.run.dir (or "
            "hydra.sweep.dir with -m) to a folder you can write"
        ) from None
    finally:
        if asked is None:
            del os.environ["HYDRA_FULL_ERROR"]
        else:
            os.environ["HYDRA_FULL_ERROR"] = asked


LAUNCHER_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")
"""What Lightning's DDP launcher sets in the launching process's environment."""


@contextlib.contextmanager
def as_single_run(output_dir: str) -> Iterator[None]:
    """Inside one job of a sweep: make the command line and Hydra's run dir those of a single
    run in the job's own folder, so that the processes Lightning's DDP launcher starts (it
    re-runs ``sys.argv`` with ``hydra.run.dir`` set to Hydra's run dir) train this job in
    this folder instead of starting the whole sweep again. Afterwards the launcher's
    environment and process group are undone, so the next job launches its own ranks (with
    ``LOCAL_RANK`` left set, Lightning would wait for ranks it thinks someone else starts)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf, open_dict

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        yield
        return
    saved_argv, saved_dir = list(sys.argv), hydra_cfg.run.dir
    saved_env = {k: os.environ.get(k) for k in LAUNCHER_ENV}
    command = [a for a in sys.argv[1:] if not a.startswith("-")][:1]
    # the ranks train this one trial: a search in the recipe must not start a sweep there
    sys.argv = [sys.argv[0], *command, *hydra_cfg.overrides.task, "search.sampler=none"]
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
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        end_process_group()  # a trial that failed before its run ended it
