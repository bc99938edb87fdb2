"""Sweeps for real, on the default recipe's data (the Python standard library) at a tiny size:
a random search and its report, the best command line rerun alone, failures isolated in
parallel trials, a killed search continued, a grid over two groups, pruning, and bad input
refused before any trial."""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_errors import assert_one_line_error
from tests.conftest import REPO, TINY_LM

TINY = [a for a in TINY_LM if not a.startswith(("trainer.max_steps", "trainer.val_every"))]
TINY += ["trainer.max_steps=10", "trainer.val_every=5", "samples.max_new_tokens=4"]
TINY = [a for a in TINY if a != "samples.max_new_tokens=8"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _best_logged(metrics_csv: Path, name: str = "val/loss") -> float:
    return min(float(r[name]) for r in _rows(metrics_csv) if r.get(name))


def _report(sweep: Path) -> tuple[dict, list[dict[str, str]]]:
    summary = json.loads((sweep / "report/sweep.json").read_text())
    return summary, _rows(sweep / "report/trials.csv")


def test_a_random_search_reports_every_trial_and_its_best_command_reproduces_it(plait, tmp_path):
    proc = plait(
        "train", *TINY, "search=random", "search.trials=6",
        "optimizer.lr=tag(log,interval(1e-4,1e-2))", "model.dropout=interval(0,0.3)",
        "hydra.sweep.dir=runs/rs",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary, rows = _report(tmp_path / "runs/rs")
    assert (summary["trials"], summary["complete"], summary["direction"]) == (6, 6, "minimize")
    assert sorted(int(r["trial"]) for r in rows) == list(range(6))
    values = [float(r["value"]) for r in rows]
    assert values == sorted(values) and len(set(values)) == 6  # best first; six draws
    for r in rows:
        assert 1e-4 <= float(r["param:optimizer.lr"]) <= 1e-2
        assert 0 <= float(r["param:model.dropout"]) <= 0.3
        # the objective is the best of the trial's validations, as its metrics.csv has them
        assert float(r["value"]) == _best_logged(Path(r["run_dir"]) / "metrics.csv")
    for png in ("objective.png", "params.png", "curves.png"):
        assert (tmp_path / "runs/rs/report" / png).read_bytes()[:4] == b"\x89PNG"
    assert set(summary["importances"]) == {"optimizer.lr", "model.dropout"}
    best = summary["best"]
    assert f"best trial {best['trial']}: {best['command']}" in " ".join(proc.stdout.split())
    # the command line, run alone, trains the same model to the same figure
    again = plait(*shlex.split(best["command"])[1:], "hydra.run.dir=runs/again")
    assert again.returncode == 0, again.stderr[-3000:]
    assert not (tmp_path / "runs/again/report").exists()  # one run, not a sweep
    assert _best_logged(tmp_path / "runs/again/metrics.csv") == best["value"]
    assert "6 complete, 0 pruned, 0 failed" in proc.stdout


def test_a_failing_trial_is_recorded_and_the_parallel_trials_go_on(plait, tmp_path):
    proc = plait(
        "train", "-m", *TINY, "optimizer.lr=0.003,1e9", "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2", "hydra.sweep.dir=runs/f",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-3000:]  # the status counts the failed trials
    assert "1 of 2 trials failed" in proc.stderr
    _, rows = _report(tmp_path / "runs/f")
    states = {r["param:optimizer.lr"]: (r["state"], r["reason"]) for r in rows}
    assert states["1000000000.0"][0] == "failed"
    assert "the training loss became NaN or infinite" in states["1000000000.0"][1]
    assert states["0.003"] == ("complete", "")


def test_a_killed_search_continues_where_it_stopped(tmp_path):
    args = [sys.executable, "-m", "framework", "train", *TINY, "eval=false", "search=random",
            "search.trials=3", "optimizer.lr=tag(log,interval(1e-4,1e-2))"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "first.log"
    with open(log, "w") as out:
        first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip
        deadline = time.time() + 240
        while "trial 0: val/loss" not in log.read_text() and time.time() < deadline:
            time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert "trial 0: val/loss" in log.read_text()
    (sweep,) = (tmp_path / "runs/stdlib_gpt").glob("search_random_*")  # named by the command
    before = {r["trial"]: r for r in _report_rows_from_study(sweep)}
    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    assert "continues: 1 trials done" in second.stdout + second.stderr
    summary, rows = _report(sweep)
    complete = {r["trial"]: r for r in rows if r["state"] == "complete"}
    assert len(complete) == 3 and summary["complete"] == 3
    for number, row in before.items():  # history kept, not run again
        assert complete[number]["value"] == row["value"]
    assert len({r["param:optimizer.lr"] for r in complete.values()}) == 3  # fresh draws
    assert len({r["run_dir"] for r in complete.values()}) == 3


def _report_rows_from_study(sweep: Path) -> list[dict[str, str]]:
    """The complete trials of a sweep's study, as ``plait sweep-report`` writes them."""
    proc = subprocess.run([sys.executable, "-m", "framework", "sweep-report", str(sweep)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [r for r in _rows(sweep / "report/trials.csv") if r["state"] == "complete"]


def test_a_grid_over_two_groups_from_a_recipe_and_the_command_line(plait, tmp_path):
    (tmp_path / "mine/recipe").mkdir(parents=True)
    (tmp_path / "mine/recipe/lm_search.yaml").write_text(
        "# @package _global_\n"
        "defaults:\n  - /recipe/stdlib_gpt\n  - override /search: grid\n  - _self_\n"
        "name: lm_search\n"
        "search:\n  space:\n    optimizer: {choice: [adamw, sgd]}\n"
    )
    proc = plait("train", "recipe=lm_search", f"hydra.searchpath=[file://{tmp_path / 'mine'}]",
                 *TINY, "scheduler=cosine,constant")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sweep,) = (tmp_path / "runs/lm_search").glob("search_grid_*")
    summary, rows = _report(sweep)
    pairs = {(r["param:optimizer"], r["param:scheduler"]) for r in rows}
    assert pairs == {(o, s) for o in ("adamw", "sgd") for s in ("cosine", "constant")}
    assert summary["complete"] == 4 and (sweep / "report/objective.png").is_file()
    from omegaconf import OmegaConf

    for r in rows:  # each trial trained what its row says
        config = OmegaConf.load(Path(r["run_dir"]) / "config.yaml")
        assert config.optimizer._name_ == r["param:optimizer"]
        assert config.scheduler._name_ == r["param:scheduler"]


def test_pruning_stops_a_hopeless_trial_early(plait, tmp_path):
    proc = plait(
        "train", *TINY, "search=grid", "search.prune=median",
        "optimizer.lr=0.003,0.002,1e-9", "hydra.sweep.dir=runs/p",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary, rows = _report(tmp_path / "runs/p")
    by_lr = {r["param:optimizer.lr"]: r for r in rows}
    assert by_lr["1e-09"]["state"] == "pruned" and summary["pruned"] == 1
    assert [by_lr[lr]["state"] for lr in ("0.003", "0.002")] == ["complete", "complete"]
    steps = {lr: max(int(float(m["step"])) for m in _rows(Path(r["run_dir"]) / "metrics.csv"))
             for lr, r in by_lr.items()}  # fmt: skip
    assert steps["1e-09"] < min(steps["0.003"], steps["0.002"])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["search=random"], "search=random has an empty space"),
        (["search=tpe", "optimizer.lr=interval(0.1,0.01)"], "has low above high; swap them"),
        (["search=random", "optimizer.lrr=interval(1e-4,1e-2)"], "unknown key 'optimizer.lrr'"),
        (["search=grid", "model.dropout=interval(0,0.5)"], "'model.dropout' is an interval"),
        (["search=random", "search.space={a: 1}"], "give the searched values as sweeps"),
        (["search=random", "optimizer.lr=interval(-1,0.1)"], "optimizer.lr=-1.0 must be"),
        (["search.sampler=anneal"], "search.sampler='anneal' must be one of none, grid"),
        (["search=random", "model.dropout=interval(0,0.5)", "optimized_metric=val/perplexity"],
         "set search.direction=maximize or minimize"),
    ],
)  # fmt: skip
def test_a_bad_search_stops_before_any_trial(cli, tmp_path, args, fragment):
    assert_one_line_error(cli("train", *args, "trainer.max_steps=2"), fragment)
    assert not (tmp_path / "runs").exists()


def test_launcher_presets_compose_for_a_cluster_and_parallel_trials(registry):
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from framework.config.compose import CONFIG_MODULE, publish

    publish(registry)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
            slurm = compose("train", ["hydra/launcher=slurm", "hydra.launcher.partition=gpu"],
                            return_hydra_config=True).hydra  # fmt: skip
            joblib = compose("train", ["hydra/launcher=joblib"], return_hydra_config=True).hydra
    finally:
        GlobalHydra.instance().clear()
    assert slurm.launcher._target_.endswith("SlurmLauncher")
    assert (slurm.launcher.partition, slurm.launcher.nodes) == ("gpu", 1)
    assert slurm.sweeper._target_.endswith("PlaitSweeper")
    assert joblib.launcher._target_.endswith("JoblibLauncher")


@pytest.mark.slow
def test_trials_run_as_jobs_of_submitits_local_executor(plait, tmp_path):
    proc = plait("train", "-m", *TINY, "optimizer.lr=0.003,0.001",
                 "hydra/launcher=submitit_local", "hydra.sweep.dir=runs/s")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary, rows = _report(tmp_path / "runs/s")
    assert summary["complete"] == 2
    assert all((Path(r["run_dir"]) / "metrics.csv").is_file() for r in rows)


TWEETS_SEARCH = [
    "recipe=tweets_textcnn", "model.embed_dim=32", "model.filters=16", "data.max_length=48",
    "trainer.max_steps=40", "trainer.val_every=40", "trainer.ckpt_every=40",
    "scheduler.warmup_steps=4", "optimized_metric=val/f1_macro", "search.direction=maximize",
    "search=random",
    "search.trials=8", "optimizer.lr=tag(log,interval(1e-5,1e-2))",
]  # fmt: skip


def test_a_search_of_8_trials_marks_the_trials_within_noise_of_the_best(plait, tmp_path):
    import torch
    from sklearn.metrics import f1_score

    proc = plait("train", *TWEETS_SEARCH, "hydra.sweep.dir=runs/s8")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary, rows = _report(tmp_path / "runs/s8")
    assert summary["complete"] == 8
    noise = summary["noise"]
    assert noise is not None and noise["split"] == "val" and noise["metric"] == "f1_macro"
    best = int(rows[0]["trial"])
    assert noise["best"] == best and len(noise["trials"]) == 7
    by_trial = {int(r["trial"]): r for r in rows}

    def f1(trial: int) -> float:
        preds = _rows(Path(by_trial[trial]["run_dir"]) / "eval-val" / "predictions.csv")
        return f1_score([p["true"] for p in preds], [p["predicted"] for p in preds],
                        average="macro")  # fmt: skip

    reused = []
    for r in rows:  # a trial whose best weights ran its last validation evaluated itself on
        run = Path(r["run_dir"])  # val from that pass's outputs; the report did the others
        doc = json.loads((run / "eval-val" / "eval.json").read_text())
        kept = torch.load(run / "checkpoints/best.ckpt", map_location="cpu", weights_only=True)
        last = max(int(x["step"]) for x in _rows(run / "metrics.csv") if x.get("val/f1_macro"))
        reused.append(doc.get("outputs_from_training") == ["val"])
        assert reused[-1] == (kept["global_step"] == last + 1), r["trial"]
    assert any(reused)

    for c in noise["trials"]:
        # the difference is the two trials' validation macro-F1, computed here from their
        # predictions; its interval comes from resampling the same records for both
        assert c["value"] == pytest.approx(f1(c["trial"]) - f1(best), abs=1e-9)
        assert c["low"] <= c["value"] <= c["high"]
        assert c["within_noise"] == (c["low"] <= 0 <= c["high"])
        assert by_trial[c["trial"]]["within_noise"] == str(c["within_noise"])
    tied = noise["within_noise"]
    assert tied[0] == best and set(tied[1:]) == {c["trial"] for c in noise["trials"]
                                                 if c["within_noise"]}  # fmt: skip
    assert any(not c["within_noise"] for c in noise["trials"])  # lr 1e-4 does not keep up
    assert noise["cheapest"] in tied
    assert noise["line"] in " ".join(proc.stdout.split())
