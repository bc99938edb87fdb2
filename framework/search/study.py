"""The Optuna study a search records its trials in: where it is stored, how it is opened (by
the sweep, and by a trial reporting its validations for pruning), and what a rerun finds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

STUDY_DB = "study.db"
"""The study's SQLite file in the sweep folder (unless ``search.storage`` names another)."""

REASON = "reason"
"""Trial attribute: why a trial failed or was pruned (one line)."""
OVERRIDES = "overrides"
"""Trial attribute: the overrides that reproduce the trial with ``plait train``."""
RUN_DIR = "run_dir"
"""Trial attribute: the trial's run folder."""
INTERRUPTED = "interrupted: the sweep stopped while this trial ran; it runs again"


def storage_url(search: Any, sweep_dir: str | Path) -> str:
    """``search.storage``, or the SQLite file in the sweep folder."""
    if search.storage:
        return str(search.storage)
    return f"sqlite:///{Path(sweep_dir).resolve() / STUDY_DB}"


def study_name(search: Any, run_name: str) -> str:
    """``search.study``, or the run name."""
    return str(search.study or run_name)


def pruner(search: Any) -> Any:
    """The Optuna pruner ``search.prune`` names (steps count validations)."""
    import optuna

    if search.prune == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=search.prune_startup, n_warmup_steps=search.prune_after
        )
    if search.prune == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, search.prune_after))
    return optuna.pruners.NopPruner()


def quiet() -> None:
    """Optuna's own log lines repeat what Plait prints."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def open_study(search: Any, url: str, name: str, direction: str, sampler: Any) -> Any:
    """Create the study, or load it when a rerun of the same sweep finds it."""
    import optuna

    quiet()
    return optuna.create_study(
        storage=url,
        study_name=name,
        direction=direction,
        sampler=sampler,
        pruner=pruner(search),
        load_if_exists=True,
    )


def trial_of(search: Any, url: str, name: str, number: int) -> Any:
    """The running trial ``number`` of a study, opened from its storage (a trial runs in the
    sweep's process or in a launcher's worker)."""
    import optuna

    quiet()
    study = optuna.load_study(study_name=name, storage=url, pruner=pruner(search))
    for frozen in study.get_trials(deepcopy=False):
        if frozen.number == number:
            return optuna.trial.Trial(study, frozen._trial_id)
    raise KeyError(number)


def close_interrupted(study: Any) -> int:
    """Trials left running (or queued) by a sweep that was stopped: recorded as failed
    (interrupted) so they do not count as done and run again; returns how many."""
    import optuna

    states = optuna.trial.TrialState
    running = study.get_trials(deepcopy=False, states=(states.RUNNING, states.WAITING))
    for frozen in running:
        study._storage.set_trial_user_attr(frozen._trial_id, REASON, INTERRUPTED)
        study._storage.set_trial_state_values(frozen._trial_id, optuna.trial.TrialState.FAIL)
    return len(running)


def finished(study: Any) -> list[Any]:
    """Trials that count as done: complete, pruned, or failed for a reason of their own."""
    import optuna

    states = optuna.trial.TrialState
    return [
        t for t in study.get_trials(deepcopy=False)
        if t.state in (states.COMPLETE, states.PRUNED)
        or (t.state == states.FAIL and t.user_attrs.get(REASON) != INTERRUPTED)
    ]  # fmt: skip
