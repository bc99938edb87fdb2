"""Two sweeps on one Optuna study in a real PostgreSQL server (bound to 127.0.0.1): disjoint
trials, each recorded once, and the trial of a sweep killed mid-run taken as lost and run
again when its heartbeat stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_errors import assert_one_line_error
from tests.search.test_sweeps import TINY


def _trials_said(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"trial (\d+): val/loss", text)}


def _launched(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+) : ", text)]


def _running(text: str) -> bool:
    """Whether a sweep's log shows a trial it launched and has not finished. (Waiting for a
    second trial was flaky: under load the other sweep can run every other trial while this
    one runs its first.)"""
    done = _trials_said(text)
    return any(n not in done for n in _launched(text))


def test_two_sweeps_share_one_study_and_a_killed_one_loses_no_trial(tmp_path, postgres_url):
    import optuna

    args = [sys.executable, "-m", "framework", "train", *TINY, "eval=false", "search=random",
            "search.trials=6", "optimizer.lr=tag(log,interval(1e-4,1e-2))",
            f"search.storage={postgres_url}", "search.study=shared",
            "search.heartbeat=1"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "a2.log"]
    outs = [open(p, "w") for p in logs]  # noqa: SIM115 (closed below, after the waits)
    try:
        a = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=outs[0],
                             stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        b = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=outs[1],
                             stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.time() + 240
        while not _running(logs[0].read_text()) and time.time() < deadline:
            time.sleep(0.1)
        os.killpg(a.pid, signal.SIGKILL)  # mid-way through a trial
        a.wait()
        killed = set(_launched(logs[0].read_text())) - _trials_said(logs[0].read_text())
        again = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=outs[2],
                                 stderr=subprocess.STDOUT)  # fmt: skip
        assert b.wait(timeout=400) == 0, logs[1].read_text()[-3000:]
        assert again.wait(timeout=400) == 0, logs[2].read_text()[-3000:]
    finally:
        for out in outs:
            out.close()
    said = [_trials_said(p.read_text()) for p in logs]
    assert killed and said[1], "the first sweep died in a trial, the second ran trials"
    assert not said[0] & said[1] and not said[1] & said[2] and not said[0] & said[2]

    study = optuna.load_study(study_name="shared", storage=postgres_url)
    states = optuna.trial.TrialState
    complete = [t for t in study.get_trials() if t.state == states.COMPLETE]
    assert len(complete) == 6  # every trial once: none lost, none run twice
    assert {t.number for t in complete} == said[0] | said[1] | said[2]
    assert len({t.user_attrs["run_dir"] for t in complete}) == 6
    others = [t for t in study.get_trials() if t.state != states.COMPLETE]
    assert killed <= {t.number for t in others}, "the killed sweep's trial in flight is recorded"
    assert all(t.state == states.FAIL and t.user_attrs["reason"].startswith(("interrupted",
               "surplus")) for t in others)  # fmt: skip
    (sweep,) = (tmp_path / "runs/stdlib_gpt").glob("search_random_*")
    rows = (sweep / "report/trials.csv").read_text().splitlines()[1:]
    assert len([r for r in rows if ",complete," in r]) == 6


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://plait@127.0.0.1:1/plait", "no database server answers at 127.0.0.1:1"),
        ("postgress://plait@127.0.0.1/plait", "'postgress' is not a database"),
        ("sqlite:////no/such/folder/study.db", "no folder /no/such/folder"),
    ],
)
def test_a_storage_that_cannot_hold_the_study_is_one_line_before_any_trial(cli, tmp_path, url,
                                                                           fragment):  # fmt: skip
    proc = cli("train", *TINY, "search=random", "search.trials=2",
               "optimizer.lr=interval(1e-4,1e-2)", f"search.storage={url}")  # fmt: skip
    assert_one_line_error(proc, fragment)
    assert not (tmp_path / "runs").exists()


def test_a_database_that_refuses_the_login_is_one_line(cli, tmp_path, postgres_url):
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    proc = cli("train", *TINY, "search=random", "search.trials=2",
               "optimizer.lr=interval(1e-4,1e-2)", f"search.storage={url}")  # fmt: skip
    assert_one_line_error(proc, "search.storage: the database refused the study")
