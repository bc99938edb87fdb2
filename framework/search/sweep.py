"""The sweep loop behind Plait's Hydra sweeper: ask the study for trials, hand them to Hydra's
launcher (in this process, joblib workers, SLURM through submitit), record each outcome
(complete, pruned, or failed with its reason), and write the sweep report.

What it fixes in Hydra's Optuna sweeper: a failing trial is recorded and the sweep goes on; a
rerun of the same sweep continues its study (trial numbers, history and run folders kept)
and runs only the trials still to go; pruning reaches the trials; the study stays on disk
for the report."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.errors import PlaitError
from framework.rundir import RunDir
from framework.search import space as S
from framework.search import study as St
from framework.search.trial import COMPLETE, FAILED, PRUNED, parallel_jobs

log = logging.getLogger("plait")


class SweepFailures(PlaitError):
    """Raised at the end of a sweep in which trials failed; the exit status is their count."""

    def __init__(self, failed: int, total: int, report: Path) -> None:
        super().__init__(
            f"{failed} of {total} trials failed (reasons in {report}); the others are "
            "recorded, and rerunning the command runs only the trials still to go"
        )
        self.failed = failed
        self.exit_code = min(failed, 100)


@dataclass
class Plan:
    """What a sweep runs."""

    params: list[S.Param]
    """The searched values."""
    fixed: list[str]
    """Overrides every trial gets, as written."""
    grid: list[dict[str, Any]] | None
    """Every combination (a grid), or None (sampled)."""


def plan(search: Any, arguments: list[str]) -> Plan:
    """The space from ``search.space`` and the command line's sweeps."""
    cli_params, fixed = S.from_overrides(arguments)
    params = S.combine(S.from_yaml(search.space), cli_params)
    sampled = search.sampler in ("random", "tpe")
    if sampled and not params:
        raise PlaitError(
            f"search={search.sampler} has an empty space; add search.space entries "
            "(optimizer.lr: {log_interval: [1.0e-4, 1.0e-2]}) or sweeps on the command line"
        )
    return Plan(params, fixed, None if sampled else S.grid(params))


def sampler(search: Any, seed: int) -> Any:
    """The Optuna sampler of ``search.sampler`` (a grid is enqueued, in order)."""
    import optuna

    if search.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _resolved(config: Any) -> Any:
    """The sweep's config with its own values resolved (the report reads them back as
    plain data) and Hydra's node as Hydra has it."""
    from omegaconf import OmegaConf

    body = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    out = OmegaConf.to_container(body, resolve=True)
    out["hydra"] = OmegaConf.to_container(config.hydra, resolve=False)
    return OmegaConf.create(out)


def run_sweep(config: Any, launcher: Any, arguments: list[str], registry: Any) -> list[Any]:
    """Run every trial still to go; write the report; raise :class:`SweepFailures` when
    trials failed. Returns the launcher's job returns."""
    from omegaconf import OmegaConf

    from framework.search.objective import objective_of
    from framework.search.report import write_report

    search = config.search
    p = plan(search, arguments)
    target = objective_of(config, registry.build("task", config.task))
    sweep_dir = Path(config.hydra.sweep.dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(_resolved(config), RunDir.sweep_config(sweep_dir))
    url = St.storage_url(search, sweep_dir)
    name = St.study_name(search, config.name)
    seed = config.seed if search.seed is None else search.seed
    problem = St.storage_problem(url)
    if problem:
        raise PlaitError(problem)
    study = St.open_study(search, url, name, target.direction, sampler(search, seed))
    distributions = {q.path: q.distribution() for q in p.params}
    St.same_search(study, {k: St.space_text(v) for k, v in distributions.items()}, p.fixed,
                   St.shown(url))  # fmt: skip
    with warnings.catch_warnings():  # "experimental" since optuna 3.2, stable in use
        warnings.simplefilter("ignore")
        study.set_metric_names([target.name])
    together = St.shared(url)  # other sweeps may run trials of this study right now
    # a rerun draws on from where the study is, not the first draws again; sweeps sharing a
    # study each draw their own values
    study.sampler = sampler(search, seed + len(study.get_trials(deepcopy=False))
                            + (St.sweep_salt() if together else 0))  # fmt: skip
    interrupted = St.fail_lost(study) if together else St.close_interrupted(study)
    done = St.finished(study)
    if done or interrupted:
        log.info("study '%s' continues: %d trials done, %d interrupted", name, len(done),
                 interrupted)  # fmt: skip
    batch = parallel_jobs(OmegaConf.select(config, "hydra.launcher.n_jobs", default=None))
    heartbeat = St.Heartbeat(study)
    returns = []
    try:
        while True:
            if together:
                St.fail_lost(study)
            to_go, others = _to_go(study, p, search)
            if to_go <= 0 and not others:
                break
            if to_go <= 0:  # the rest is running in another sweep: wait for it, or its loss
                time.sleep(max(1, heartbeat.interval or 1))
                continue
            trials = [study.ask(distributions) for _ in range(min(batch, to_go))]
            trials = [t for t in trials if not _surplus(study, t, p, search)]
            if not trials:
                continue
            heartbeat.track(trials)
            overrides = []
            for trial in trials:
                # what the trial stays if this sweep dies before telling its outcome
                trial.set_user_attr(St.REASON, St.INTERRUPTED)
                params = [S.override(q.path, trial.params[q.path]) for q in p.params]
                trial.set_user_attr(St.OVERRIDES, alone_command(p.fixed, params, search))
                # trials skip the test-split evaluation (the best command line gives it),
                # unless the command asks for it
                overrides.append(["eval=false", *p.fixed, *params,
                                  f"search.trial={trial.number}"])  # fmt: skip
            started = time.time()
            results = launcher.launch(overrides, initial_job_idx=trials[0].number)
            for trial, job in zip(trials, results):
                _record(study, trial, _outcome(job), time.time() - started)
            heartbeat.track([])
            returns.append(results)
    finally:
        heartbeat.close()
    report = write_report(sweep_dir, study, print_it=True)
    failed = [t for t in St.finished(study) if t.state.name == "FAIL"]
    if failed:
        raise SweepFailures(len(failed), len(St.finished(study)), report)
    return returns


def _to_go(study: Any, p: Plan, search: Any) -> tuple[int, int]:
    """(trials this sweep may still start, trials running elsewhere). A grid enqueues its
    points that no trial has taken; a sampled search fills up to ``search.trials``."""
    done, live = St.finished(study), St.running(study)
    if p.grid is not None:
        taken = {_key(t.params) for t in done}
        taken |= {_key(t.params or t.system_attrs.get("fixed_params", {})) for t in live}
        for point in p.grid:
            if _key(point) not in taken:
                study.enqueue_trial(point)
        waiting = len(St.running(study)) - sum(t.state.name == "RUNNING" for t in live)
        return waiting, sum(t.state.name == "RUNNING" for t in live)
    return search.trials - len(done) - len(live), len(live)


def _surplus(study: Any, trial: Any, p: Plan, search: Any) -> bool:
    """Whether ``trial`` came from a race with another sweep that filled the study first
    (asked at the same moment): it is closed unrun and left out of the report."""
    if p.grid is not None:
        return False
    earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number]
    before = [t for t in earlier if not St.not_run(t)]
    if len(before) < search.trials:
        return False
    import optuna

    trial.set_user_attr(St.REASON, St.SURPLUS)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return True


def alone_command(fixed: list[str], params: list[str], search: Any) -> list[str]:
    """The overrides that rerun one trial as a single ``plait train``: the sweep's own
    settings left out, the trial's values, and the search switched off."""
    kept = [o for o in fixed if not o.lstrip("+~").startswith(("hydra", "search"))]
    return [*kept, *params, *(["search.sampler=none"] if search.sampler != "none" else [])]


def _outcome(job: Any) -> dict[str, Any]:
    """A job's outcome; a job whose task raised (it should not) becomes a failed one."""
    from hydra.core.utils import JobStatus

    if job.status == JobStatus.COMPLETED and isinstance(job.return_value, dict):
        return job.return_value
    if job.status == JobStatus.COMPLETED and isinstance(job.return_value, (int, float)):
        return {"status": COMPLETE, "value": float(job.return_value), "reason": None,
                "run_dir": None}  # fmt: skip
    error = job._return_value if job.status == JobStatus.FAILED else job.return_value
    from framework.search.trial import reason

    said = reason(error) if isinstance(error, BaseException) else f"returned {error!r}"
    return {"status": FAILED, "value": None, "reason": said, "run_dir": None}


def _with_threads(trial: Any, run_dir: Path) -> None:
    """The trial's command with the torch threads it ran with (its ``config.yaml`` records
    the count chosen for it), so that command, run alone, adds up to the same numbers."""
    import yaml

    command = list(trial.user_attrs.get(St.OVERRIDES) or [])
    try:
        stored = yaml.safe_load(RunDir(run_dir).config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return
    threads = (stored.get("hardware") or {}).get("threads")
    if threads and not any(o.startswith("hardware.threads=") for o in command):
        trial.set_user_attr(St.OVERRIDES, [*command, f"hardware.threads={threads}"])


def _record(study: Any, trial: Any, outcome: dict[str, Any], seconds: float) -> None:
    """Tell the study how the trial ended."""
    import optuna

    state = optuna.trial.TrialState
    if outcome.get("run_dir"):
        trial.set_user_attr(St.RUN_DIR, outcome["run_dir"])
        _with_threads(trial, Path(outcome["run_dir"]))
    trial.set_user_attr("seconds", round(seconds, 1))
    trial.set_user_attr(St.REASON, outcome.get("reason") or "")
    status = outcome["status"]
    if status == COMPLETE:
        study.tell(trial, outcome["value"])
        log.info("trial %d: %s = %.6g", trial.number, study.metric_names[0], outcome["value"])
    elif status == PRUNED:
        if outcome["value"] is not None:
            trial.set_user_attr("value", outcome["value"])
        study.tell(trial, state=state.PRUNED)
        log.info("trial %d: %s", trial.number, outcome["reason"])
    else:
        study.tell(trial, state=state.FAIL)
        log.warning("trial %d failed: %s", trial.number, outcome["reason"])
