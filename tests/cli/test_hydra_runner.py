"""Hydra's runner behind `plait train`: the one call into Hydra's private API, and what a
sweep optimizes."""

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


def test_the_sweep_objective_is_the_monitored_metric_or_the_one_named():
    from framework.cli.train import objective

    results = {"val/loss": 0.9, "val/f1_macro": 0.7, "test/f1_macro": 0.68}
    assert objective(results, OmegaConf.create({"optimized_metric": None}), _Task()) == 0.7
    named = OmegaConf.create({"optimized_metric": "test/f1_macro"})
    assert objective(results, named, _Task()) == 0.68
    with pytest.raises(PlaitError, match=r"'val/acc' is not among the run's results \(test/f1"):
        objective(results, OmegaConf.create({"optimized_metric": "val/acc"}), _Task())
