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


def test_a_command_that_trains_or_reads_runs_keep_collection_on(monkeypatch, tmp_path):
    seen = recording(monkeypatch, "framework.cli.plot", "plot")
    assert main(["plot", str(tmp_path)]) == 0
    assert seen == [True]


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
    from framework.data.stage import DataStage

    computed = DataStage.compute
    seen: list[bool] = []

    def compute(self):
        seen.append(gc.isenabled())
        return computed(self)

    monkeypatch.setattr(DataStage, "compute", compute)
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = main(["show", "model=gpt_tiny", "data.tokenizer.vocab_size=500",
                       "data.max_length=32", "data.source.max_chars=100000",
                       "data.cache=false"])  # fmt: skip
    assert status == 0
    assert seen == [True]
    assert "32 tokens per example" in out.getvalue()
    assert gc.isenabled()
