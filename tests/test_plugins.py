"""Third-party packages: a plugin installed from its own pyproject adds a model, a preset and
a recipe through the two entry-point groups; a duplicate name fails naming both providers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, pip_install_target, run_plait


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory) -> Path:
    """plugins/plait-example installed (not editable) into a folder put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    pip_install_target(REPO / "plugins/plait-example", target)
    return target


def test_plugin_model_preset_and_recipe_are_listed_and_train(example_plugin, tmp_path):
    env = {"PYTHONPATH": str(example_plugin)}
    listed = run_plait(["list", "model"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "bigram" in listed.stdout and "plait_example" in listed.stdout

    proc = run_plait(["train", "recipe=example_bigram", "hydra.run.dir=run"], tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = (tmp_path / "run/config.yaml").read_text()
    assert "_name_: bigram" in cfg and "rank: 16" in cfg  # the plugin's preset was applied
    assert (tmp_path / "run/checkpoints/last.ckpt").is_file()

    without = run_plait(["train", "recipe=example_bigram"], tmp_path)
    assert without.returncode == 2 and "unknown recipe 'example_bigram'" in without.stderr


def test_duplicate_name_from_a_second_plugin_names_both_providers(tmp_path):
    pkg = tmp_path / "dup"
    (pkg / "plait_dup").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "plait-dup"
        version = "0.0.1"
        [project.entry-points."plait.plugins"]
        plait_dup = "plait_dup:register"
    """)
    )
    (pkg / "plait_dup/__init__.py").write_text(
        textwrap.dedent("""
        def gpt(*, info):
            '''A model that steals the built-in name.'''
        def register(registry):
            registry.add("model", "gpt", gpt)
    """)
    )
    target = tmp_path / "site"
    pip_install_target(pkg, target)
    proc = run_plait(["list", "model"], tmp_path, env={"PYTHONPATH": str(target)})
    assert proc.returncode == 2
    assert "duplicate model 'gpt': registered by 'plait'" in proc.stderr
    assert "again by 'plait_dup'" in proc.stderr
