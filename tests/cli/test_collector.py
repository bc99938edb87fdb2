"""The garbage collector paused while a short command starts (framework.collector)."""

from __future__ import annotations

import contextlib
import gc
import io

import pytest

from framework.cli.main import main


def recording(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> list[bool]:
    """Replace ``module.name`` by a command that records whether collection is on."""
    import importlib

    seen: list[bool] = []

    def command(*args, **kwargs) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(importlib.import_module(module), name, command)
    return seen


def test_a_brief_command_runs_paused_and_turns_collection_on_as_it_ends(monkeypatch):
    seen = recording(monkeypatch, "framework.cli.listing", "list_components")
    assert main(["list"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_a_composed_command_runs_paused(monkeypatch, tmp_path):
    seen = recording(monkeypatch, "framework.cli.diff", "diff_command")
    assert main(["diff", f"a={tmp_path}", f"b={tmp_path}"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_a_command_that_reads_runs_keeps_collection_on(monkeypatch, tmp_path):
    seen = recording(monkeypatch, "framework.cli.plot", "plot")
    assert main(["plot", str(tmp_path)]) == 0
    assert seen == [True]


def test_train_sets_up_paused_and_steps_with_collection_on(monkeypatch, tmp_path):
    import lightning.pytorch as lp

    from framework.data.stage import DataStage
    from tests.conftest import TINY_LM

    tables, fitted = DataStage.tables, lp.Trainer.fit
    seen: dict[str, bool] = {}

    def read(self):
        seen["set-up"] = gc.isenabled()
        return tables(self)

    def fit(self, *args, **kwargs):
        seen["steps"] = gc.isenabled()
        return fitted(self, *args, **kwargs)

    monkeypatch.setattr(DataStage, "tables", read)
    monkeypatch.setattr(lp.Trainer, "fit", fit)
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["data", *TINY_LM]) == 0  # cached: the run computes no data stage
    frozen = gc.get_freeze_count()
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["train", *TINY_LM, "trainer.max_steps=2", "eval=false",
                       "hydra.run.dir=run"])  # fmt: skip
    assert status == 0
    assert seen == {"set-up": False, "steps": True}
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # called by another program: nothing frozen


def test_a_sweep_turns_collection_on_before_its_trials(monkeypatch, tmp_path):
    import framework.cli.train as train

    seen = recording(monkeypatch, "framework.cli.train", "run_hydra")
    monkeypatch.setattr(train, "claim_dirs", lambda pre: [])
    monkeypatch.chdir(tmp_path)
    assert main(["train", "-m", "optimizer.lr=0.001,0.002"]) == 0
    assert seen == [True]


def test_a_command_of_its_own_process_freezes_what_start_up_made():
    from framework import collector

    frozen = gc.get_freeze_count()
    collector.pause(own_process=True)
    try:
        made = [[] for _ in range(1000)]  # noqa: F841  (tracked objects made while paused)
        assert collector.paused()
    finally:
        collector.resume()
    try:
        assert gc.isenabled() and not collector.paused()
        assert gc.get_freeze_count() >= frozen + 1000
    finally:
        gc.unfreeze()


def test_a_caller_that_turned_collection_off_keeps_it_off(monkeypatch):
    seen = recording(monkeypatch, "framework.cli.listing", "list_components")
    gc.disable()
    try:
        assert main(["list"]) == 0
        assert not gc.isenabled()  # not turned on behind the caller's back
    finally:
        gc.enable()
    assert seen == [False]


def test_show_computes_its_data_stage_with_collection_on(monkeypatch, tmp_path):
    import framework.data.stage as stage

    built = stage.build_steps
    seen: list[bool] = []

    def build_steps(*args):
        seen.append(gc.isenabled())
        return built(*args)

    monkeypatch.setattr(stage, "build_steps", build_steps)
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = main(["show", "model=gpt_tiny", "data.tokenizer.vocab_size=500",
                       "data.max_length=32", "data.source.max_chars=100000",
                       "data.cache=false"])  # fmt: skip
    assert status == 0
    assert seen == [True]
    assert "32 tokens per example" in out.getvalue()
    assert gc.isenabled()


def test_a_resume_that_may_not_freeze_leaves_the_garbage_collectable():
    from framework import collector

    frozen = gc.get_freeze_count()
    collector.pause(own_process=True)
    collector.resume(freeze=False)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_estimates_trial_sets_up_paused_after_building_the_data_with_collection_on(
    monkeypatch, tmp_path
):
    """``--estimate`` on an uncached recipe builds its data stage with collection on; its
    trial then sets up paused and steps with collection on, as the run it predicts does
    (which reads that stage from the cache)."""
    import lightning.pytorch as lp

    import framework.data.stage as stage
    from tests.conftest import TINY_LM

    built, fitted, tables = stage.build_steps, lp.Trainer.fit, stage.DataStage.tables
    seen: list[tuple[str, bool]] = []

    def build_steps(*args):
        seen.append(("build", gc.isenabled()))
        return built(*args)

    def read(self):
        seen.append(("set-up", gc.isenabled()))
        return tables(self)

    def fit(self, *args, **kwargs):
        seen.append(("steps", gc.isenabled()))
        return fitted(self, *args, **kwargs)

    monkeypatch.setattr(stage, "build_steps", build_steps)
    monkeypatch.setattr(stage.DataStage, "tables", read)
    monkeypatch.setattr(lp.Trainer, "fit", fit)
    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))  # nothing cached yet
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["doctor", "--estimate", "--json", *TINY_LM, "eval=false"]) == 0
    assert ("build", True) in seen
    assert seen[seen.index(("steps", True)) - 1] == ("set-up", False)
    assert gc.isenabled()
