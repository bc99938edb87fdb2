"""A plugin can fail only itself: a bad schema default, a name already taken, a preset two
packages ship, an exception inside its component at run time. Plait's own commands keep
working, each case is one line naming the distribution and the component, and
``PLAIT_STRICT_PLUGINS=1`` makes each an exit 2. Real distributions installed with pip."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import TINY_LM, pip_install_target, run_in_process

pytestmark = pytest.mark.xdist_group("plugin_isolation")  # one worker installs the plugins


def _package(root: Path, name: str, body: str, conf: dict[str, str] | None = None) -> Path:
    """A one-module distribution ``plait-NAME`` whose ``register`` is in ``body``; ``conf``:
    YAML files (``model/x.yaml`` -> text) shipped as its ``plait.conf`` folder."""
    pkg = root / name
    (pkg / f"plait_{name}").mkdir(parents=True)
    conf_entry = ""
    if conf:
        conf_entry = f'[project.entry-points."plait.conf"]\nplait_{name} = "plait_{name}.conf"'
        (pkg / f"plait_{name}/conf/__init__.py").parent.mkdir()
        (pkg / f"plait_{name}/conf/__init__.py").write_text("")
        for rel, text in conf.items():
            (pkg / f"plait_{name}/conf" / rel).parent.mkdir(parents=True, exist_ok=True)
            (pkg / f"plait_{name}/conf" / rel).write_text(textwrap.dedent(text))
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "plait-{name}"
        version = "0.0.1"
        [project.entry-points."plait.plugins"]
        plait_{name} = "plait_{name}:register"
        [tool.setuptools.package-data]
        "*" = ["*.yaml"]
    """)
        + conf_entry
        + "\n"
    )
    (pkg / f"plait_{name}/__init__.py").write_text(textwrap.dedent(body))
    return pkg


PRESET = """
    defaults: [gpt_tiny, _self_]
    n_layer: {layers}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    """Five plugins installed into one folder on PYTHONPATH: a bad schema, a taken name, two
    shipping the same preset, one whose loss raises."""
    root = tmp_path_factory.mktemp("plugins")
    target = root / "site"
    packages = [
        _package(root, "badschema", """
            from dataclasses import dataclass

            @dataclass
            class Wide:
                width: int = "eight"

            def wide(width=8, *, info):
                '''A model whose schema default is not its type.'''

            def fine(*, info):
                '''A metric that registers fine.'''
                from torchmetrics import MeanMetric
                return MeanMetric()

            def register(registry):
                registry.add("model", "wide", wide, schema=Wide)
                registry.add("metric", "fine_metric", fine)
        """),
        _package(root, "dup", """
            def gpt(*, info):
                '''A model that takes the built-in name.'''

            def register(registry):
                registry.add("model", "gpt", gpt)
                registry.add("curate", "dup_ok", lambda: (lambda ds: ds))
        """),
        _package(root, "presa", "def register(registry):\n    pass\n",
                 {"model/shared_tiny.yaml": PRESET.format(layers=1)}),
        _package(root, "presb", "def register(registry):\n    pass\n",
                 {"model/shared_tiny.yaml": PRESET.format(layers=3)}),
        _package(root, "boom", """
            from framework.errors import PluginError

            def boom(*, info):
                '''A loss that fails when it is called.'''
                def loss(logits, target):
                    raise ValueError("shapes do not agree")
                return loss

            def picky(minimum: int = 3):
                '''A loss that refuses its setting with its own one line.'''
                raise PluginError(f"minimum={minimum} is below 5; set loss.minimum=5 or more")

            def register(registry):
                registry.add("loss", "boom", boom)
                registry.add("loss", "picky", picky)
        """),
    ]  # fmt: skip
    for pkg in packages:
        pip_install_target(pkg, target)
    return {"PYTHONPATH": str(target)}


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("plait: warning:")]


def test_bad_schema_and_taken_name_disable_that_component_alone(site, tmp_path):
    listed = run_in_process(["list", "model"], tmp_path, env=site)
    assert listed.returncode == 0, listed.stderr
    cells = [line.split("│") for line in listed.stdout.splitlines() if line.startswith("│")]
    providers = {c[1].strip(): c[2].strip() for c in cells if c[1].strip()}
    assert "wide" not in providers  # disabled
    assert providers["gpt"].startswith("plait ")  # Plait keeps its name
    said = _warnings(listed.stderr)
    bad = [w for w in said if "model 'wide'" in w]
    assert len(bad) == 1 and "plugin plait_badschema (plait-badschema 0.0.1)" in bad[0]
    assert "bad schema (field 'width'" in bad[0] and "default of its declared type" in bad[0]
    taken = [w for w in said if "duplicate model 'gpt'" in w]
    assert len(taken) == 1
    assert (
        "registered by 'plait " in taken[0]
        and "again by 'plait_dup (plait-dup 0.0.1)'" in (taken[0])
    )
    assert "model 'gpt' of plait_dup is disabled" in taken[0]

    metrics = run_in_process(["list", "metric"], tmp_path, env=site)
    assert "fine_metric" in metrics.stdout  # the rest of the plugin registered
    curates = run_in_process(["list", "curate"], tmp_path, env=site)
    assert "dup_ok" in curates.stdout


def test_two_packages_shipping_one_preset_are_named_with_the_winner(site, tmp_path):
    shown = run_in_process(["show", "model=shared_tiny"], tmp_path, env=site)
    assert shown.returncode == 0, shown.stderr
    lines = [w for w in _warnings(shown.stderr) if "model/shared_tiny" in w]
    assert lines == [
        "plait: warning: model/shared_tiny is shipped by plait-presa 0.0.1 and by plait-presb "
        "0.0.1; plait-presa 0.0.1's is used (set PLAIT_STRICT_PLUGINS=1 or "
        "strict_plugins=true to stop instead)"
    ]
    assert "n_layer: 1" in shown.stdout  # the winner's, as said


def test_strict_mode_turns_each_case_into_exit_2(site, tmp_path):
    strict = run_in_process(["list", "model"], tmp_path, env={**site, "PLAIT_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2
    last = strict.stderr.strip().splitlines()[-1]
    assert last.startswith("plait: error:") and "plait_badschema" in last  # the first, by name
    by_config = run_in_process(["show", "strict_plugins=true"], tmp_path, env=site)
    assert by_config.returncode == 2
    assert "strict_plugins=true:" in by_config.stderr.strip().splitlines()[-1]


def test_an_exception_inside_a_plugin_component_is_one_line_naming_it(site, tmp_path):
    ran = run_in_process(["train", *TINY_LM, "loss=boom", "hydra.run.dir=boom"], tmp_path, env=site)
    assert ran.returncode == 2
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "plait: error: plugin plait_boom (plait-boom 0.0.1) failed in its loss 'boom' (plait_boom:"
    ), last
    assert "ValueError: shapes do not agree" in last and "Traceback" not in ran.stderr

    own = run_in_process(["train", *TINY_LM, "loss=picky"], tmp_path, env=site)
    assert own.returncode == 2
    assert own.stderr.strip().splitlines()[-1] == (
        "plait: error: plugin plait_boom (plait-boom 0.0.1), loss 'picky': "
        "minimum=3 is below 5; set loss.minimum=5 or more"
    )

    fine = run_in_process(["list", "loss"], tmp_path, env=site)  # Plait's own commands still work
    assert fine.returncode == 0 and "cross_entropy" in fine.stdout
