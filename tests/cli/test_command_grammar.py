"""One grammar for every command: ``eval``, ``predict``, ``compare``, ``export`` and
``generate`` compose their typed options with Hydra (the same override syntax and checks as
``plait train``), take Hydra's own flags, and list their options in ``--help``."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import yaml

from framework.cli.command_config import quoted
from framework.cli.main import COMPOSED
from tests.conftest import run_in_process


def _spec(name: str):
    return importlib.import_module(COMPOSED[name][0]).SPEC


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_help_lists_every_option_of_the_schema_with_its_default(name, tmp_path):
    proc = run_in_process([name, "--help"], tmp_path)
    assert proc.returncode == 0
    for f in dataclasses.fields(_spec(name).schema):
        line = next((ln for ln in proc.stdout.splitlines() if ln.strip().startswith(f"{f.name}:")),
                    None)  # fmt: skip
        assert line is not None, (name, f.name, proc.stdout)
        assert f.metadata["help"][:30] in " ".join(proc.stdout.split())


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_cfg_job_prints_the_composed_options_with_the_overrides(name, tmp_path):
    field = next(f for f in dataclasses.fields(_spec(name).schema) if f.type == "str | None")
    proc = run_in_process([name, "--cfg", "job", f"{field.name}=somewhere/else"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    printed = yaml.safe_load(proc.stdout)
    assert printed[field.name] == "somewhere/else"
    assert set(printed) == {f.name for f in dataclasses.fields(_spec(name).schema)}


def test_eval_options_compose_like_train_overrides(tmp_path):
    proc = run_in_process(
        ["eval", "run=runs/a/1", "split=val", "bootstrap=2000", "slices=[confidence,source]",
         "--cfg", "job"], tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    printed = yaml.safe_load(proc.stdout)
    assert printed["split"] == "val" and printed["bootstrap"] == 2000
    assert printed["slices"] == ["confidence", "source"]
    # a flag before the options works as well as after them, and ~key deletes nothing typed
    before = run_in_process(["eval", "--cfg", "job", "run=runs/a/1", "split=val",
                             "bootstrap=2000", "slices=[confidence,source]"], tmp_path)  # fmt: skip
    assert yaml.safe_load(before.stdout) == printed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["eval", "bogus=1"], "unknown option 'bogus'"),
        (["eval", "bootstrp=10"], "did you mean 'bootstrap'"),
        (["eval", "batch_size=many"], "'batch_size'"),
        (["generate", "temperature=hot"], "'temperature'"),
        (["eval", "split=val,test"], "add --multirun"),
        (["export", "run=[a"], "cannot parse"),
        (["eval", "--config-dir", "/no/such/folder", "--cfg", "job"], "no such folder"),
        (["eval", "--config-name", "mine", "--cfg", "job"], "needs --config-dir"),
        (["predict", "new.csv"], "expected key=value"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args, said, tmp_path):
    proc = run_in_process(args, tmp_path)
    assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
    assert said in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_multirun_composes_once_per_combination(tmp_path):
    proc = run_in_process(
        ["eval", "--multirun", "run=runs/a/1", "split=val,test", "seed=1,2", "--cfg", "job"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout.replace("\nrun:", "\n---\nrun:")))
    assert [(d["split"], d["seed"]) for d in docs] == [
        ("val", 1), ("val", 2), ("test", 1), ("test", 2)]  # fmt: skip


def test_config_dir_and_config_name_start_from_the_users_yaml(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mine.yaml").write_text("split: val\nbatch_size: 8\n")
    (tmp_path / "conf" / "typo.yaml").write_text("splitt: val\n")
    args = ["eval", "--config-dir", "conf", "--config-name", "mine", "--cfg", "job"]
    printed = yaml.safe_load(run_in_process([*args, "batch_size=16"], tmp_path).stdout)
    assert printed["split"] == "val" and printed["batch_size"] == 16  # the command line wins
    proc = run_in_process(["eval", "--config-dir", "conf", "--config-name", "typo"], tmp_path)
    assert proc.returncode == 2 and "typo.yaml: unknown option 'splitt'" in proc.stderr
    assert "did you mean 'split'" in proc.stderr


def test_info_is_hydras_own(tmp_path):
    proc = run_in_process(["eval", "--info", "defaults"], tmp_path)
    assert proc.returncode == 0
    assert "Defaults List" in proc.stdout and "plait_eval" in proc.stdout


def test_train_takes_a_config_dir_of_the_users_recipes_and_a_primary_config(tmp_path):
    (tmp_path / "conf" / "recipe").mkdir(parents=True)
    (tmp_path / "conf" / "recipe" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /recipe/fortunes\nname: mine\n"
    )
    (tmp_path / "conf" / "lab.yaml").write_text("defaults:\n  - train\n  - _self_\nseed: 7\n")
    proc = run_in_process(["train", "--config-dir", "conf", "recipe=mine", "--cfg", "job"],
                          tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load(proc.stdout)
    shipped = yaml.safe_load(run_in_process(["train", "recipe=fortunes", "--cfg", "job"],
                                            tmp_path).stdout)  # fmt: skip
    assert cfg["name"] == "mine" and cfg["model"] == shipped["model"]
    proc = run_in_process(
        ["train", "--config-dir", "conf", "--config-name", "lab", "--cfg", "job"], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["seed"] == 7


@pytest.mark.parametrize(
    "path", ["runs/a b/c=d,e[1]", "it's", "C:\\runs\\x", "end\\", "${oc.env:HOME}", "a'b\\'c"]
)
def test_a_quoted_value_reaches_the_command_as_it_is(path):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    assert OverridesParser.create().parse_override(f"run={quoted(path)}").value() == path


def test_an_option_named_like_a_train_group_is_an_option(tmp_path):
    """``task=`` is ``plait eval``'s option even after ``plait train``'s groups (``task/``)
    were published in this process."""
    assert run_in_process(["train", "--cfg", "job"], tmp_path).returncode == 0
    proc = run_in_process(["eval", "task=causal_lm", "--cfg", "job"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["task"] == "causal_lm"
    assert run_in_process(["train", "task=causal_lm", "--cfg", "job"], tmp_path).returncode == 0


def test_free_text_is_taken_as_typed(tmp_path):
    for prompt in ("def ", "print(f(x)): # a, b", "  two  spaces"):
        proc = run_in_process(["generate", f"prompt={prompt}", "--cfg", "job"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert yaml.safe_load(proc.stdout)["prompt"] == prompt


def test_train_shows_a_sweeps_first_job_with_cfg(tmp_path):
    proc = run_in_process(["train", "-m", "optimizer.lr=1e-3,3e-4", "--cfg", "job"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["optimizer"]["lr"] == 1e-3
    assert "2 configs checked" in proc.stderr
