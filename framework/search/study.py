"""The Optuna study a search records its trials in: where it is stored, how it is opened (by
the sweep, and by a trial reporting its validations for pruning), and what a rerun finds."""

from __future__ import annotations

import contextlib
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
SURPLUS = "surplus: another sweep sharing the study had already started its last trial"
NOT_RUN = (INTERRUPTED, SURPLUS)
"""Reasons of failed trials that do not count as done."""
SPACE = "plait_space"
"""Study attribute: the searched values and their ranges, as the first sweep set them."""
FIXED = "plait_fixed"
"""Study attribute: the settings every trial shared (the sweep's other overrides)."""


def storage_url(search: Any, sweep_dir: str | Path) -> str:
    """``search.storage``, or the SQLite file in the sweep folder."""
    if search.storage:
        return str(search.storage)
    return f"sqlite:///{Path(sweep_dir).resolve() / STUDY_DB}"


def shown(url: str) -> str:
    """Where a study is stored, for messages: the SQLite file, or the URL without its
    password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def shared(url: str) -> bool:
    """Whether the study lives in a database server (several sweeps may share it), not in a
    SQLite file that one sweep owns."""
    return not url.startswith("sqlite:")


def storage_problem(url: str, timeout: float = 3.0) -> str | None:
    """Why ``search.storage`` cannot hold a study, or None: the URL's form, its driver, and
    whether its server answers (a TCP connect; nothing is written)."""
    import importlib.util
    import socket

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return (f"search.storage={url!r} is not a database URL; use "
                "postgresql://user:password@host:5432/db or sqlite:///path/study.db")  # fmt: skip
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        file = Path(parsed.database or ".").expanduser().resolve()
        if not file.parent.is_dir():
            return f"search.storage={url!r}: no folder {file.parent}"
        return study_file_problem(file)
    if backend not in ("postgresql", "mysql"):
        return (f"search.storage={url!r}: '{backend}' is not a database Optuna shares studies "
                "in here; use postgresql://... (or sqlite:///... for one machine)")  # fmt: skip
    try:
        wanted = parsed.get_dialect().driver  # SQLAlchemy's default driver of the URL
    except Exception:
        wanted = parsed.drivername.partition("+")[2] or backend
    if importlib.util.find_spec(wanted) is None:
        fix = "pip install 'plait[postgres]'" if wanted == "psycopg" else f"pip install {wanted}"
        return f"search.storage={url!r} needs the '{wanted}' driver: {fix}"
    host, port = parsed.host or "localhost", parsed.port or (5432 if backend == "postgresql"
                                                             else 3306)  # fmt: skip
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as e:
        return (f"search.storage: no database server answers at {host}:{port} "
                f"({e.strerror or e}); start it, or fix the URL's host and port")  # fmt: skip


SQLITE_READONLY_ROLLBACK = 776
"""SQLite's answer to a read-only open of a file whose last write was interrupted: its
journal must be rolled back first, which is a write."""


def study_file_problem(file: Path) -> str | None:
    """Why an existing SQLite study file cannot be read (not a database, damaged), or None.
    The file is opened read-only and nothing is written, except where a killed sweep left a
    write half done: then SQLite rolls it back from its journal on a read-write open, as the
    sweep itself would on opening the study, and the check runs after that."""
    import sqlite3

    if not file.is_file():
        return None

    def check(uri: str) -> tuple[Any, ...] | sqlite3.Error | None:
        """``quick_check``'s row, or the error opening or reading the file raised."""
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                db.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
                return db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.Error as exc:
            return exc

    ok = check(f"{file.as_uri()}?mode=ro")
    if getattr(ok, "sqlite_errorcode", None) == SQLITE_READONLY_ROLLBACK:
        ok = check(file.as_uri())
    if isinstance(ok, sqlite3.Error):
        ok = (str(ok),)
    if ok and ok[0] == "ok":
        return None
    said = ok[0] if ok else "empty"
    return (
        f"search: the study file {file} cannot be read ({said}); move it away to start a new "
        "study there, or give search.storage=sqlite:///OTHER.db"
    )


def same_search(study: Any, space: dict[str, str], fixed: list[str], where: str) -> None:
    """Stop when a study continued by this sweep was searched over another space, or with
    other settings: its trials would guide the sampler and fill the report with results
    of another question. A new study records both."""
    from framework.errors import PlaitError

    fixed = [o for o in fixed if not o.lstrip("+~").startswith(("hydra", "search."))]
    was_space, was_fixed = study.user_attrs.get(SPACE), study.user_attrs.get(FIXED)
    if was_space is None and not study.get_trials(deepcopy=False):
        study.set_user_attr(SPACE, space)
        study.set_user_attr(FIXED, sorted(fixed))
        return
    if was_space is None:  # a study from before these were recorded: its trials' spaces
        was_space = {}
        for t in study.get_trials(deepcopy=False):
            was_space.update({k: space_text(v) for k, v in t.distributions.items()})
    said = _difference(was_space, space, "search")
    if not said and was_fixed is not None:
        said = _difference(_by_key(was_fixed), _by_key(fixed), "set")
    if said:
        raise PlaitError(
            f"search: the study '{study.study_name}' in {where} {said}; its trials answer "
            "another question: give search.study=NEW_NAME (or another hydra.sweep.dir) to "
            "start a new study"
        )


def _by_key(overrides: list[str]) -> dict[str, str]:
    return dict(o.partition("=")[::2] for o in overrides)


def space_text(distribution: Any) -> str:
    """A searched range as a person writes it: ``[0.0001, 0.01] log``, or the choices."""
    if hasattr(distribution, "choices"):
        return "{" + ", ".join(map(str, distribution.choices)) + "}"
    log = " log" if getattr(distribution, "log", False) else ""
    return f"[{distribution.low:g}, {distribution.high:g}]{log}"


THIRD = {"search": "searches", "set": "sets"}


def _difference(was: dict[str, str], now: dict[str, str], verb: str) -> str:
    gone = sorted(set(was) - set(now))
    new = sorted(set(now) - set(was))
    changed = sorted(k for k in set(was) & set(now) if was[k] != now[k])
    if changed:
        key = changed[0]
        return f"{THIRD[verb]} {key} as {was[key]}, and this sweep as {now[key]}"
    if gone:
        return f"{THIRD[verb]} {gone[0]}, which this sweep does not"
    if new:
        return f"does not {verb} {new[0]}, which this sweep does"
    return ""


def storage(search: Any, url: str) -> Any:
    """What Optuna opens: the URL of a SQLite file, or for a server a storage whose running
    trials send heartbeats (``search.heartbeat``), so a sweep that dies leaves trials that
    another sweep, or its own rerun, takes as lost and runs again."""
    if not shared(url):
        return url
    import warnings

    import optuna

    beat = int(search.get("heartbeat", 30))
    with warnings.catch_warnings():  # heartbeats are "experimental" since optuna 2.9
        warnings.simplefilter("ignore")
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=beat, grace_period=2 * beat
        )  # fmt: skip


def sweep_salt() -> int:
    """A number of this process on this machine: sweeps sharing a study seed their samplers
    apart with it (else two sweeps started together draw the same values)."""
    import os
    import socket
    import zlib

    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003


class Heartbeat:
    """Records that this sweep's trials in flight are alive, every ``search.heartbeat``
    seconds, on a daemon thread (Optuna's ``record_heartbeat``; ask/tell runs none itself)."""

    def __init__(self, study: Any) -> None:
        import threading

        self.storage = study._storage
        self.interval = getattr(self.storage, "get_heartbeat_interval", lambda: None)()
        self.ids: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)
        if self.interval:
            self.thread.start()

    def _beat(self) -> None:
        while not self.stop.wait(self.interval):
            for trial_id in list(self.ids):
                with contextlib.suppress(Exception):  # a trial told meanwhile
                    self.storage.record_heartbeat(trial_id)

    def track(self, trials: list[Any]) -> None:
        """Beat for ``trials`` from now on (and once at once)."""
        self.ids = [t._trial_id for t in trials]
        if self.interval:
            for trial_id in self.ids:
                self.storage.record_heartbeat(trial_id)

    def close(self) -> None:
        """Stop beating."""
        self.stop.set()


def running(study: Any) -> list[Any]:
    """Trials some sweep is running now (or has queued)."""
    import optuna

    states = optuna.trial.TrialState
    return study.get_trials(deepcopy=False, states=(states.RUNNING, states.WAITING))


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
    """Create the study, or load it when a rerun of the same sweep (or another sweep sharing
    the database) finds it; a database that refuses is one line."""
    import time

    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError

    from framework.errors import PlaitError

    quiet()
    try:
        for attempt in range(10):
            try:
                return optuna.create_study(
                    storage=storage(search, url),
                    study_name=name,
                    direction=direction,
                    sampler=sampler,
                    pruner=pruner(search),
                    load_if_exists=True,
                )
            except (IntegrityError, ProgrammingError, optuna.exceptions.DuplicatedStudyError):
                # another sweep is creating the same tables or study right now
                if attempt == 9:
                    raise
                time.sleep(0.5)
    except ImportError:
        raise PlaitError(
            f"search.storage: no driver for {url.split(':', 1)[0]}; pip install 'plait[postgres]'"
        ) from None
    except SQLAlchemyError as e:
        first = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise PlaitError(
            f"search.storage: the database refused the study ({first}); check the URL's user, "
            "password and database name"
        ) from None


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


def not_run(trial: Any) -> bool:
    """Whether a trial ended without running to an outcome (interrupted, or surplus)."""
    return trial.state.name == "FAIL" and trial.user_attrs.get(REASON) in NOT_RUN


def fail_lost(study: Any) -> int:
    """Shared studies: trials whose sweep stopped sending heartbeats, failed; they hold the
    reason 'interrupted' from their start, so they run again. Returns how many there are."""
    import warnings

    import optuna

    with warnings.catch_warnings():  # "experimental" since optuna 2.9
        warnings.simplefilter("ignore")
        optuna.storages.fail_stale_trials(study)
    return sum(not_run(t) for t in study.get_trials(deepcopy=False))


def finished(study: Any) -> list[Any]:
    """Trials that count as done: complete, pruned, or failed for a reason of their own."""
    import optuna

    states = optuna.trial.TrialState
    return [
        t for t in study.get_trials(deepcopy=False)
        if t.state in (states.COMPLETE, states.PRUNED)
        or (t.state == states.FAIL and t.user_attrs.get(REASON) not in NOT_RUN)
    ]  # fmt: skip
