"""The wheel ships conf/ and recipes/: build it, install it (not editable) in a fresh venv,
and compose every recipe from there."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.conftest import REPO, pip_install_target

RECIPES = sorted(p.stem for p in (REPO / "recipes").glob("*.yaml"))

COMPOSE_ALL = """
import sys
import framework
from framework.config.compose import compose
from framework.config.validate import validate
from framework.registry import default_registry
assert "site-packages" in framework.__file__, framework.__file__
registry = default_registry()
from framework.errors import PlaitError
for recipe in sys.argv[1:]:
    cfg = compose(registry, [f"recipe={recipe}"])
    try:
        validate(cfg, registry)
    except PlaitError as exc:  # a recipe starting from the user's run names what to set
        assert "set model.init=" in str(exc), exc
    print("composed", recipe, cfg.model._name_)
"""


def test_wheel_installs_and_composes_every_recipe(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wheel = next((tmp_path / "dist").glob("plait-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "framework/conf/train.yaml" in names
    assert "framework/conf/model/gpt_small.yaml" in names
    assert {f"framework/conf/recipe/{r}.yaml" for r in RECIPES} <= names
    assert "hydra_plugins/plait_searchpath/plait_searchpath.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin/python"
    site = Path(
        subprocess.check_output(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # dependencies come from this environment's site-packages, after the venv's own
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip_install_target(wheel, site)
    proc = subprocess.run(
        [py, "-c", COMPOSE_ALL, *RECIPES], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("composed") == len(RECIPES)
