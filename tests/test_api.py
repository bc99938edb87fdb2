"""``framework.api``: train, eval, predict, export, replay, diff and load a run from Python, on
the same code as the CLI, returning objects and raising the CLI's one-line PlaitError."""

from __future__ import annotations

import csv
import json

import pytest

from framework import api
from framework.errors import PlaitError

FORTUNES = ["model=textcnn", "model.embed_dim=16", "model.filters=8", "data.max_length=32",
            "trainer.max_steps=10", "trainer.val_every=10", "trainer.ckpt_every=10",
            "eval=false"]  # fmt: skip


def test_a_notebook_trains_evaluates_predicts_and_exports_a_run(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = api.train("fortunes", FORTUNES, run_dir=tmp_path / "run")
    assert run.path == tmp_path / "run" and run.config["name"] == "fortunes"
    stored = json.loads((run.path / "results.json").read_text())
    assert run.results == stored and stored  # the final metrics, as written

    again = api.load_run(run.path)
    assert again.config == run.config

    report = api.eval(run, split="val")
    on_disk = json.loads((report.path / "eval.json").read_text())
    assert report.metrics == on_disk and report.path.parent == run.path

    new = tmp_path / "new.csv"
    with new.open("w", newline="") as fh:
        csv.writer(fh).writerows([["text"], ["A fool and his money are soon parted."], [""]])
    predicted = api.predict(run, new, output=tmp_path / "out.csv", bad_records="skip")
    assert len(predicted.rows) == 2 and predicted.path == tmp_path / "out.csv"
    assert predicted.rows[0]["error"] == "" and predicted.rows[1]["error"]  # the empty one

    folder = api.export(run, format="safetensors", out=tmp_path / "exported")
    assert (folder / "model.safetensors").is_file() and folder == tmp_path / "exported"

    replayed = api.replay(run, ["trainer.max_steps=5"], out=tmp_path / "replayed")
    assert replayed.path == tmp_path / "replayed" and replayed.config["trainer"]["max_steps"] == 5
    found = api.diff(run, replayed, paired=False)
    assert [c["key"] for c in found["config"]] == ["trainer.max_steps"]
    rows = {r["metric"]: r for r in found["results"]}  # a is the run, b the replay
    assert rows["val/loss"]["a"] == stored["val/loss"]
    assert rows["val/loss"]["b"] == replayed.results["val/loss"] != stored["val/loss"]


def test_bad_input_raises_the_cli_one_line_error(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlaitError) as exc:
        api.train("fortunes", ["model=textcnnn"])
    assert "unknown model 'textcnnn'; did you mean 'textcnn'" in str(exc.value)
    assert "\n" not in str(exc.value)
    with pytest.raises(PlaitError, match="not a run dir"):
        api.load_run(tmp_path)
    with pytest.raises(PlaitError, match="no such run dir"):
        api.export(tmp_path / "missing")


def test_keyword_arguments_become_the_commands_items_as_given():
    """Paths and texts are quoted (a comma or bracket in a folder name survives); lists and
    overrides of the run's config stay in the override grammar."""
    from pathlib import Path

    from framework.api import _items
    from framework.cli.command_config import quoted

    items = _items(Path("runs/a,b[1]"), {"split": "val", "slices": "[confidence]",
                                          "data.source.paths": "[new.csv]", "batch_size": 8,
                                          "out": Path("x y")})  # fmt: skip
    assert items == [f"run={quoted('runs/a,b[1]')}", "split='val'", "slices=[confidence]",
                     "data.source.paths=[new.csv]", "batch_size=8",
                     f"out={quoted('x y')}"]  # fmt: skip
