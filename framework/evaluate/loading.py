"""A trained run for ``plait eval``, ``plait predict`` and ``plait compare``: its checkpoint
(found in the run dir, the best first), the model rebuilt from it, its task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.errors import PlaitError
from framework.evaluate.run import Model
from framework.rundir import RunDir


def checkpoint_of(run: str) -> Path:
    """The checkpoint a run dir is evaluated with: ``best.ckpt``, else the newest
    ``best-step<N>.ckpt``, else ``last.ckpt``."""
    path = Path(run)
    if not path.is_dir():
        raise PlaitError(
            f"run={run}: no such run dir; give a folder plait train wrote, such as runs/NAME/<time>"
        )
    found = RunDir(path).evaluated_checkpoint()
    if found is None:
        what = "it has no config.yaml either" if not RunDir(path).config.is_file() else "training"
        raise PlaitError(
            f"run={run}: no checkpoint in {RunDir(path).checkpoints} ({what} has not saved one); "
            "give the run dir of a finished run, or ckpt=PATH"
        )
    return found


def load_model(
    run: str | None, ckpt: str | None, task_name: str | None = None, registry: Any = None
) -> tuple[Model, RunDir | None]:
    """The model of ``run`` (a run dir) or ``ckpt`` (a checkpoint file) with its task; the
    run dir when the checkpoint sits in one. ``task_name``: the task the caller expects; a
    checkpoint of another task stops."""
    from framework.kinds import NAME_KEY
    from framework.models.restore import load_trained
    from framework.registry import default_registry

    if not run and not ckpt:
        raise PlaitError("give run=runs/NAME/<time> (a run dir) or ckpt=PATH (a checkpoint)")
    path = Path(ckpt) if ckpt else checkpoint_of(run)  # type: ignore[arg-type]
    trained = load_trained(path)
    cfg = trained.cfg
    trained_for = cfg.task.get(NAME_KEY, "?") if cfg.get("task") is not None else "?"
    if task_name and task_name != trained_for:
        raise PlaitError(
            f"{path} is a checkpoint of task {trained_for}, not {task_name}; evaluate it as "
            f"{trained_for} (leave task= out) or give a {task_name} run"
        )
    task = (registry or default_registry()).build("task", cfg.task)
    run_dir = RunDir(run) if run else RunDir.of_checkpoint(path)
    precision = cfg.get("trainer", {}).get("precision")
    model = Model(cfg, trained.model, trained.tokenizer, trained.info, task, precision)
    return model, run_dir


def eval_folder(run: RunDir | None, records: str, asked: str = "test") -> Path:
    """Where an evaluation writes by default: ``<run>/eval`` for the test split and
    ``<run>/eval-<records>`` for another split or file (``./eval-...`` without a run dir)."""
    if records == "val" and asked == "test":  # no test split: val stands in for it
        records = "test"
    return (run if run is not None else RunDir(Path.cwd())).eval_dir(records)
