"""One trial of a sweep, in the process that trains it: train, measure the objective, report
validations to the study for pruning, and never let a failure end the sweep (it becomes the
trial's outcome, with its one-line reason)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from framework.errors import explain

COMPLETE, PRUNED, FAILED = "complete", "pruned", "failed"
"""A trial's outcomes."""


def prune_callback(trial: Any, metric: str) -> Any:
    """A Lightning callback that reports ``metric`` at every validation to ``trial`` and
    stops training when the study's pruner says the trial is hopeless (Lightning imported
    only when a trial may be pruned)."""
    from lightning.pytorch.callbacks import Callback

    class Prune(Callback):
        def __init__(self) -> None:
            self.validations = 0
            self.pruned_at: int | None = None

        def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
            if trainer.sanity_checking or metric not in trainer.callback_metrics:
                return
            value = float(trainer.callback_metrics[metric])
            self.validations += 1
            if not math.isfinite(value):
                return
            trial.report(value, step=self.validations)
            if trial.should_prune():
                self.pruned_at = trainer.global_step
                trainer.should_stop = True

    return Prune()


def parallel_jobs(n_jobs: Any) -> int:
    """Trials a launcher runs at once: its ``n_jobs`` (joblib's -1: every core, -2: all but
    one), else 1."""
    n = int(n_jobs or 1)
    return max(1, (os.cpu_count() or 1) + 1 + n if n < 0 else n)


def share_cores(cfg: Any, jobs: int) -> None:
    """Trials running side by side each take their share of the cores (unless
    ``hardware.threads`` says otherwise)."""
    if jobs <= 1 or cfg.hardware.get("threads"):
        return
    import torch

    from framework.training import threads

    threads.SHARE_CAP = max(1, threads.usable_cpus() // jobs)
    torch.set_num_threads(threads.SHARE_CAP)


def reason(exc: BaseException) -> str:
    """A failure as one line."""
    said = explain(exc)
    if said is not None:
        return str(said)
    name = type(exc).__name__
    if "OutOfMemory" in name or "out of memory" in str(exc):
        return f"out of memory ({name}); lower trainer.batch_size or the model size"
    first = " ".join(str(exc).split())[:300]
    return f"{name}: {first}" if first else name


def run_trial(
    cfg: Any,
    run_dir: str | Path,
    check: Callable[[], Any],
    train: Callable[[Any, list[Any]], dict[str, float]],
) -> dict[str, Any]:
    """Validate one trial's config with ``check() -> Checked`` and train it with
    ``train(checked, callbacks) -> results``; return its outcome (``status``, ``value``,
    ``reason``, ``run_dir``), whatever happens."""
    from hydra.core.hydra_config import HydraConfig

    from framework.rundir import RunDir
    from framework.search.objective import objective_of, trial_value
    from framework.search.study import storage_url, study_name, trial_of

    outcome: dict[str, Any] = {"status": FAILED, "value": None, "reason": None,
                               "run_dir": str(run_dir)}  # fmt: skip
    try:
        hydra_cfg = HydraConfig.get()
        share_cores(cfg, parallel_jobs(hydra_cfg.launcher.get("n_jobs")))
        checked = check()
        target = objective_of(cfg, checked.task)
        s, prune = cfg.search, None
        if s.trial is not None and s.prune != "none":
            url = storage_url(s, hydra_cfg.sweep.dir)
            trial = trial_of(s, url, study_name(s, cfg.name), s.trial)
            # a test metric is measured once, at the end: pruning watches its validation twin
            prune = prune_callback(trial, target.name.replace("test/", "val/", 1))
        results = train(checked, [prune] if prune is not None else [])
        outcome["value"] = trial_value(RunDir(run_dir).metrics, results, target)
        outcome["status"] = COMPLETE
        if prune is not None and prune.pruned_at is not None:
            outcome["status"] = PRUNED
            outcome["reason"] = f"pruned at step {prune.pruned_at}"
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        outcome["reason"] = reason(exc)  # the sweep logs it
    return outcome
