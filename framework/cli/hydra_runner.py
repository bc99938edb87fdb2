"""The one place that calls Hydra's app runner directly (a private function of Hydra's)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from framework.config.compose import CONFIG_NAME, CONFIG_PATH
from framework.errors import PlaitError


def run_with_hydra(task: Callable[[Any], Any], overrides: Sequence[str], multirun: bool) -> None:
    """Run ``task(cfg)`` through Hydra's runner (run dir, multirun, sweepers, launchers) with
    ``overrides`` in place of the command line.

    ``sys.argv`` stays the real command line (``plait train ...``), which Lightning's DDP
    launcher re-runs for each rank; ``hydra.main`` would read the overrides from it instead.
    """
    from hydra._internal.utils import _run_hydra, get_args_parser

    parser = get_args_parser()
    args = parser.parse_args([*(["--multirun"] if multirun else []), *overrides])
    asked = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a traceback
    try:
        _run_hydra(
            args=args,
            args_parser=parser,
            task_function=task,
            config_path=CONFIG_PATH,
            config_name=CONFIG_NAME,
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
