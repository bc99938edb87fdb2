"""Hydra's runner behind `plait train`: the one call into Hydra's private API, and what a
sweep optimizes (the best of a trial's validations)."""

from __future__ import annotations

import os

import pytest
from omegaconf import OmegaConf

from framework.errors import PlaitError


def test_run_with_hydra_composes_each_job_in_its_own_run_dir(registry, tmp_path, monkeypatch):
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from framework.cli.hydra_runner import run_with_hydra
    from framework.config.compose import publish

    monkeypatch.chdir(tmp_path)
    publish(registry)
    seen = []

    def job(cfg):
        seen.append((cfg.seed, cfg.trainer.max_steps, HydraConfig.get().runtime.output_dir))
        return float(cfg.seed)

    run_with_hydra(job, ["trainer.max_steps=7", "hydra.run.dir=one"], multirun=False)
    GlobalHydra.instance().clear()
    run_with_hydra(job, ["seed=1,2", "trainer.max_steps=3", "hydra.sweep.dir=many"], multirun=True)
    GlobalHydra.instance().clear()
    assert [s[:2] for s in seen] == [(1234, 7), (1, 3), (2, 3)]
    dirs = [os.path.relpath(s[2], tmp_path) for s in seen]
    assert dirs == ["one", os.path.join("many", "0"), os.path.join("many", "1")]


class _Task:
    monitor = "val/f1_macro"
    monitor_mode = "max"


def _cfg(metric=None, direction=None):
    return OmegaConf.create({"optimized_metric": metric, "search": {"direction": direction}})


def test_the_sweep_objective_is_the_monitored_metric_or_the_one_named(tmp_path):
    from framework.search.objective import Objective, objective_of, trial_value

    assert objective_of(_cfg(), _Task()) == Objective("val/f1_macro", "maximize")
    assert objective_of(_cfg("test/f1_macro"), _Task()) == Objective("test/f1_macro", "maximize")
    assert objective_of(_cfg("val/loss"), _Task()).direction == "minimize"
    with pytest.raises(PlaitError, match="set search.direction=maximize or minimize"):
        objective_of(_cfg("val/accuracy"), _Task())
    assert objective_of(_cfg("val/accuracy", "maximize"), _Task()).direction == "maximize"
    # the best of the validations, not the last; a test metric from the results
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,val/f1_macro,val/loss\n9,0.5,0.9\n19,0.7,0.8\n29,0.6,0.85\n")
    results = {"val/f1_macro": 0.6, "test/f1_macro": 0.68}
    assert trial_value(csv, results, Objective("val/f1_macro", "maximize")) == 0.7
    assert trial_value(csv, results, Objective("val/loss", "minimize")) == 0.8
    assert trial_value(csv, results, Objective("test/f1_macro", "maximize")) == 0.68
    with pytest.raises(PlaitError, match="logged no 'val/acc'"):
        trial_value(csv, results, Objective("val/acc", "maximize"))
    csv.write_text("step,val/loss\n9,0.9\n19,nan\n")
    with pytest.raises(PlaitError, match="became NaN or infinite"):
        trial_value(csv, {}, Objective("val/loss", "minimize"))
