"""Third-party packages as a third party lives them: plugins/plait-example installed with pip
into a fresh virtual environment trains its recipes with every one of its components, and
uninstalled it becomes a clear error; a broken plugin is reported and left out (a taken
name or a bad schema: tests/test_plugin_isolation.py); ``plait new-plugin`` writes a package
whose own tests pass once installed."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO, pip_install_target, run_plait, without_eval
from tests.test_plugin_isolation import _package

pytestmark = pytest.mark.xdist_group("plugins")  # one worker builds its module fixtures

EXAMPLE = REPO / "plugins/plait-example"


class Venv:
    """A fresh virtual environment that sees this environment's packages (Plait and its
    dependencies) through a site hook, with its own site-packages for what pip installs."""

    def __init__(self, root: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        self.python = root / "bin/python"
        site = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        ours = sysconfig.get_paths()["purelib"]
        Path(site, "_plait_parent.pth").write_text(f"import site; site.addsitedir({ours!r})\n")

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        """pip (this environment's) acting on the venv."""
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), *args],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    def plait(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        """``python -m framework ARGS`` with the venv's interpreter."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        env.pop("PYTHONPATH", None)
        return subprocess.run(
            [str(self.python), "-m", "framework", *without_eval(args)],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Venv:
    """A fresh venv with plugins/plait-example installed by pip (not editable)."""
    env = Venv(tmp_path_factory.mktemp("venv"))
    done = env.pip("install", "-q", "--no-deps", "--no-build-isolation", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    return env


def _names(config: dict) -> set[str]:
    """Every ``_name_`` in a composed config."""
    found = set()
    for value in config.values() if isinstance(config, dict) else config:
        if isinstance(value, (dict, list)):
            found |= _names(value)
    if isinstance(config, dict) and "_name_" in config:
        found.add(config["_name_"])
    return found


def test_the_example_trains_with_every_component_and_uninstalled_is_a_clear_error(venv, tmp_path):
    import yaml

    listed = venv.plait(["list", "--provider", "plait-example"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "plait_example (plait-example 0.1.0)" in listed.stdout
    assert "cross_entropy" not in listed.stdout  # only the plugin's own components
    titles = [line.split("  ")[0] for line in listed.stdout.splitlines() if "=NAME" in line]
    kinds = [t for t in titles if " " not in t]
    assert set(kinds) == {"source", "curate", "clean", "tokenizer", "text_augment",
                          "image_augment", "model", "loss", "metric", "regularizer",
                          "freeze", "callback"}  # fmt: skip
    # its YAML too, with the distribution that ships it, and only its own
    assert "recipes (recipe=NAME): complete experiments" in titles
    assert "model presets (model=NAME, YAML)" in titles
    rows = [[c.strip() for c in line.split("│")] for line in listed.stdout.splitlines()]
    assert ["", "example_docstrings", "plait-example 0.1.0"] in [r[:3] for r in rows]
    assert "fortunes" not in listed.stdout

    text = venv.plait(["train", "recipe=example_docstrings", "trainer.max_steps=40",
                       "hydra.run.dir=text"], tmp_path)  # fmt: skip
    assert text.returncode == 0, text.stderr[-3000:]
    run = tmp_path / "text"
    used = _names(yaml.safe_load((run / "config.yaml").read_text()))
    assert {"docstrings", "min_words", "strip_doctests", "lower_words", "random_repeat",
            "mean_bag", "poly1", "balanced_accuracy", "embedding_l2", "head_first",
            "step_times"} <= used  # fmt: skip
    steps = {s["name"]: s for s in json.loads((run / "data_report.json").read_text())["steps"]}
    assert steps["min_words"]["rows_out"] < steps["min_words"]["rows_in"]  # it filtered
    assert steps["strip_doctests"]["changed"] > 0  # it rewrote texts
    times = list(csv.DictReader((run / "step_times.csv").open()))
    assert len(times) == 40  # the callback saw every step
    with (run / "metrics.csv").open() as f:
        header = next(csv.reader(f))
    assert "val/balanced_accuracy" in header

    image = venv.plait(["train", "recipe=example_fashion_invert", "trainer.max_steps=4",
                        "data.source.max_train=300", "hydra.run.dir=image"], tmp_path)  # fmt: skip
    assert image.returncode == 0, image.stderr[-3000:]
    assert "invert" in _names(yaml.safe_load((tmp_path / "image/config.yaml").read_text()))

    lm = venv.plait(["train", "recipe=example_bigram", "trainer.max_steps=5",
                     "hydra.run.dir=lm"], tmp_path)  # fmt: skip
    assert lm.returncode == 0, lm.stderr[-3000:]
    assert "rank: 16" in (tmp_path / "lm/config.yaml").read_text()  # the plugin's preset

    gone = venv.pip("uninstall", "-y", "plait-example")
    assert gone.returncode == 0, gone.stderr
    recipe = venv.plait(["train", "recipe=example_docstrings"], tmp_path)
    assert recipe.returncode == 2
    assert recipe.stderr.strip().splitlines()[-1] == (
        "plait: error: unknown recipe 'example_docstrings'; it came from plait-example "
        "0.1.0, which is not installed: pip install plait-example"
    )
    model = venv.plait(["train", "model=mean_bag"], tmp_path)
    assert model.returncode == 2
    assert "unknown model 'mean_bag'; it came from plait-example 0.1.0" in model.stderr


def test_a_broken_plugin_is_reported_and_left_out_unless_strict(tmp_path):
    target = tmp_path / "site"
    half = _package(tmp_path, "half", """
        def stray(*, info):
            '''A model registered before the failure.'''
        def register(registry):
            registry.add("model", "stray", stray)
            raise RuntimeError("boom")
    """)  # fmt: skip
    missing = _package(tmp_path, "missing", "import not_a_module_anywhere\n")
    for pkg in (half, missing):
        pip_install_target(pkg, target)
    env = {"PYTHONPATH": str(target)}

    listed = run_plait(["list", "model"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "gpt" in listed.stdout and "stray" not in listed.stdout  # rolled back
    warnings = [line for line in listed.stderr.splitlines() if "warning" in line]
    assert any("plugin 'plait_half' failed to register: RuntimeError: boom" in w
               for w in warnings)  # fmt: skip
    assert any("plugin 'plait_missing'" in w and "failed to import: ModuleNotFoundError" in w
               for w in warnings)  # fmt: skip

    strict = run_plait(["list", "model"], tmp_path, env={**env, "PLAIT_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2 and "plait_half" in strict.stderr
    by_config = run_plait(["show", "strict_plugins=true"], tmp_path, env=env)
    assert by_config.returncode == 2
    assert "strict_plugins=true: plugin 'plait_half' failed to register" in by_config.stderr


def test_new_plugin_writes_a_package_whose_tests_pass_once_installed(tmp_path):
    made = run_plait(["new-plugin", "acme", "--kinds", "model,metric", "--out", "."], tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "plait-acme"
    pyproject = (root / "pyproject.toml").read_text()
    assert '"plait.plugins"' in pyproject and '"plait.conf"' in pyproject
    target = tmp_path / "site"
    pip_install_target(root, target)
    env = {**os.environ, "PYTHONPATH": str(target)}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "4 passed" in tests.stdout  # registration, the model, the metric, the recipe
    env = {"PYTHONPATH": str(target)}
    listed = run_plait(["list", "--provider", "plait_acme"], tmp_path, env=env)
    assert "acme_mean_bag" in listed.stdout and "acme_top2_accuracy" in listed.stdout

    again = run_plait(["new-plugin", "acme", "--kinds", "model,optimiser"], tmp_path)
    assert again.returncode == 2 and "no template for 'optimiser'" in again.stderr
