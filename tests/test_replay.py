"""``manifest.json``, ``plait replay`` and ``plait diff`` on real runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.evaluate.test_eval_runs import _run_dir, _train_fortunes

pytestmark = pytest.mark.xdist_group("fortunes-replay")

TIMING = "train/samples_per_s"
"""The one logged value that is a wall-clock speed, not a number the model computed."""


@pytest.fixture(scope="module")
def fortunes_run(tmp_path_factory):
    """The shared tiny fortunes classifier (trained once per session, with its evaluation)."""
    return _run_dir(shared(tmp_path_factory, "fortunes", _train_fortunes), "fortunes")


def _metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="", encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != TIMING} for row in csv.DictReader(fh)]


def _results(run: Path) -> dict[str, float]:
    found = json.loads((run / "results.json").read_text("utf-8"))
    return {k: v for k, v in found.items() if k != TIMING}


def test_the_manifest_records_config_command_versions_data_and_hardware(fortunes_run):
    doc = json.loads((fortunes_run / "manifest.json").read_text("utf-8"))
    config = doc["config"]
    assert config["trainer"]["max_steps"] == 40 and doc["seed"] == config["seed"]
    assert doc["command"].startswith("plait train recipe=fortunes")
    assert "model.filters=16" in doc["hydra"]["overrides"]
    assert doc["packages"]["torch"].startswith("2.13.0") and doc["plait"]
    files = doc["data"]["files"]
    assert files and all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files)
    assert doc["data"]["fingerprint"]
    assert doc["hardware"]["accelerator"] == "cpu"
    assert doc["threads"] == config["hardware"]["threads"]
    assert doc["hydra"]["recipe_file"].endswith("recipes/fortunes.yaml")


def test_the_manifests_package_versions_are_what_importlib_metadata_parses():
    from importlib.metadata import distributions

    from framework.manifest import install_paths, packages

    parsed = {}
    for dist in distributions(path=install_paths()):
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        parsed.setdefault(name, dist.version)
    listed = packages()
    assert len(listed) > 50 and listed == {k: v for k, v in sorted(parsed.items()) if k}


def test_a_packages_vendored_folder_on_sys_path_is_not_an_installation(tmp_path, monkeypatch):
    from framework.manifest import packages

    site = tmp_path / "site-packages"
    vendored = site / "ray" / "thirdparty_files"  # Ray puts this on sys.path when imported
    for folder, name, version in ((site, "installed", "1.0"), (vendored, "vendored", "2.0")):
        info = folder / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    monkeypatch.setattr("sys.path", [str(site), str(vendored)])
    assert packages() == {"installed": "1.0"}


def test_a_replay_of_a_finished_cpu_run_gives_exactly_its_metrics(fortunes_run, plait, tmp_path):
    proc = plait("replay", str(fortunes_run), "out=again")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "nothing that changes the numbers differs" in proc.stdout
    again = tmp_path / "again"
    assert _metrics(again) == _metrics(fortunes_run)
    assert _results(again) == _results(fortunes_run)
    assert (again / "command.txt").read_text().strip() == f"plait replay {fortunes_run} out=again"
    first = (fortunes_run / "eval" / "predictions.csv").read_text("utf-8")
    assert (again / "eval" / "predictions.csv").read_text("utf-8") == first


def test_diff_of_two_runs_differing_in_one_override_shows_it_and_the_paired_interval(
    fortunes_run, plait, tmp_path
):
    proc = plait("replay", str(fortunes_run), "out=faster", "optimizer.lr=0.01")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "overrides change the run" in proc.stdout
    proc = plait("diff", str(fortunes_run), "faster", "json=true")
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = json.loads(proc.stdout)
    assert [row["key"] for row in d["config"]] == ["optimizer.lr"]
    assert d["config"][0]["b"] == 0.01 and d["config"][0]["a"] != 0.01
    assert d["overrides"] == {"a": [], "b": ["optimizer.lr=0.01"]}  # the recipe's overrides
    assert d["data"] == {"fingerprint": None, "files": []} and d["environment"] == []
    a = json.loads((fortunes_run / "eval" / "eval.json").read_text())["classification"]["metrics"]
    b = json.loads((tmp_path / "faster/eval/eval.json").read_text())["classification"]["metrics"]
    paired = d["paired"]["metrics"]
    assert paired, d["paired"]
    for key, iv in paired.items():
        assert iv["value"] == pytest.approx(b[key]["value"] - a[key]["value"], abs=1e-9)
        assert iv["low"] <= iv["value"] <= iv["high"]
    table = plait("diff", str(fortunes_run), "faster")
    assert table.returncode == 0
    assert "optimizer.lr" in table.stdout and "paired bootstrap" in table.stdout


def _tiny_lm_on(corpus: Path) -> list[str]:
    return [
        "model=gpt_tiny",
        "data/source=text_files",
        f"data.source.paths=[{corpus}]",
        "data.source.records=separator",
        "data.tokenizer.vocab_size=300",
        "data.max_length=32",
        "trainer.batch_size=8",
        "trainer.max_steps=4",
        "trainer.val_every=2",
        "trainer.ckpt_every=2",
        "samples.prompts=[]",
        "hardware.threads=1",
    ]


@pytest.fixture
def corpus_run(plait, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(Path("/usr/share/games/fortunes/cookie").read_text("utf-8")[:40000])
    proc = plait("train", *_tiny_lm_on(corpus), "hydra.run.dir=first")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return corpus, tmp_path / "first"


def test_a_replay_after_a_data_file_changed_names_that_file_before_training(corpus_run, plait):
    corpus, run = corpus_run
    corpus.write_text(corpus.read_text("utf-8") + "\nOne more fortune, added after the run.\n")
    proc = plait("replay", str(run), "out=second")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    said = out.index(f"differs: data {corpus.resolve()}")
    assert said < out.index("data report")  # named before any data work or training
    assert "the replay can differ from the original: data differ" in out


def test_a_replay_whose_data_file_is_gone_stops_naming_it(corpus_run, plait, tmp_path):
    corpus, run = corpus_run
    corpus.unlink()
    proc = plait("replay", str(run), "out=second")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(corpus.resolve()) in lines[0] and "is gone" in lines[0]
    assert not (tmp_path / "second").exists()


def test_replaying_what_is_not_a_run_or_a_newer_manifest_is_one_line_exit_2(
    fortunes_run, plait, tmp_path
):
    (tmp_path / "empty").mkdir()
    cases = {"empty": "is not a run dir", "nowhere": "no such folder"}
    newer = tmp_path / "newer"
    newer.mkdir()
    doc = json.loads((fortunes_run / "manifest.json").read_text("utf-8"))
    (newer / "manifest.json").write_text(json.dumps({**doc, "format": 99}))
    cases["newer"] = "newer than this Plait reads"
    old = tmp_path / "old"
    old.mkdir()
    (old / "config.yaml").write_text((fortunes_run / "config.yaml").read_text())
    cases["old"] = "has no manifest.json"
    for folder, said in cases.items():
        proc = plait("replay", folder)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and said in lines[0], (folder, lines)
    proc = plait("diff", str(fortunes_run), "empty")
    assert proc.returncode == 2 and "is not a run dir" in proc.stderr
    proc = plait("replay", str(fortunes_run), "model=lstm", "dry_run=true")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
