"""``plait new-plugin NAME --kinds model,metric``: write a plugin package that works as it is.

The package has a ``pyproject.toml`` with both entry points (``plait.plugins`` and
``plait.conf``), one component per requested kind following its contract, a YAML preset, a
recipe that uses the components, a README, and tests that pass once it is installed
(``pip install ./plait-NAME && pytest plait-NAME/tests``).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from framework.errors import PlaitError, did_you_mean
from framework.scaffold.templates import IMPORTS, RUNTIME, TEMPLATES


def _names(name: str) -> tuple[str, str]:
    """(distribution ``plait-acme``, package and provider ``plait_acme``)."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise PlaitError(f"plugin name '{name}': use lower case letters, digits, - or _")
    base = name.removeprefix("plait-").removeprefix("plait_").replace("-", "_")
    return f"plait-{base.replace('_', '-')}", f"plait_{base}"


def _kinds(spec: str) -> list[str]:
    kinds = [k.strip() for k in spec.split(",") if k.strip()]
    for k in kinds:
        if k not in TEMPLATES:
            raise PlaitError(
                f"--kinds: no template for '{k}'; {did_you_mean(k, TEMPLATES)} (one of "
                f"{', '.join(TEMPLATES)})"
            )
    if not kinds:
        raise PlaitError("--kinds is empty; name at least one, such as --kinds model,metric")
    return list(dict.fromkeys(kinds))


def _components(package: str, kinds: list[str], prefix: str) -> str:
    head = [
        f'"""Components of {package}: one per kind, each following its kind\'s contract."""',
        "",
        "from __future__ import annotations",
        "",
        "import re",
        "from pathlib import Path",
        "from typing import Any",
        "",
    ]
    head += sorted({IMPORTS[k] for k in kinds if k in IMPORTS})
    body = [TEMPLATES[k].code.format(c=prefix + TEMPLATES[k].name) for k in kinds]
    text = "\n".join(head) + "\n\n" + "\n\n".join(b.strip("\n") + "\n" for b in body)
    return text.replace("\n\n\n\n", "\n\n\n")


def _register(package: str, kinds: list[str], prefix: str) -> str:
    lines = [
        f'"""{package}: a Plait plugin. Plait calls :func:`register` through the entry point',
        "group ``plait.plugins``; the YAML in ``conf/`` joins the search path through",
        '``plait.conf``."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "",
        "def register(registry: Any) -> None:",
        '    """Add this package\'s components to Plait\'s registry, with their contracts."""',
        *(["    from framework.contract import scales", ""] if "model" in kinds else []),
        f"    from {package} import components",
        "",
    ]
    for k in kinds:
        t = TEMPLATES[k]
        c = prefix + t.name
        call = f'    registry.add("{k}", "{c}", components.{c}'
        if not t.register:
            lines.append(call + ")")
        else:
            lines += [call + ",", f"        {t.register.format(c=c)},", "    )"]
    return "\n".join(lines) + "\n"


def _recipe(package: str, kinds: list[str], prefix: str) -> str:
    lines = [
        "# @package _global_",
        f"# Text classification with {package}'s components: "
        + ", ".join(f"{k} {prefix}{TEMPLATES[k].name}" for k in kinds if TEMPLATES[k].override)
        + ".",
        "# Without its own source it reads the fortunes (apt-get install -y fortunes).",
        "defaults:",
    ]
    if "source" not in kinds:
        lines.append("  - override /data/source: fortunes")
    lines += ["  - override /data/tokenizer: wordpiece"] if "tokenizer" not in kinds else []
    lines += ["  - override /data/split: stratified", "  - override /task: text_classification"]
    if "model" not in kinds:
        lines.append("  - override /model: textcnn")
    for k in kinds:
        if TEMPLATES[k].override:
            lines.append("  - " + TEMPLATES[k].override.format(c=prefix + TEMPLATES[k].name))
    lines += ["  - _self_", "", f"name: {prefix}example", "data:", "  max_length: 64"]
    if "source" not in kinds:
        lines += ["  source:", "    min_records: 100"]
    if "tokenizer" not in kinds:
        lines += ["  tokenizer:", "    vocab_size: 4000"]
    lines += ["trainer:", "  max_steps: 200", "  batch_size: 32", "  val_every: 50"]
    return "\n".join(lines) + "\n"


def _image_recipe(package: str, prefix: str) -> str:
    return textwrap.dedent(f"""\
        # @package _global_
        # Plait's fashion_mnist_2k with {package}'s image augmentation.
        defaults:
          - /recipe/fashion_mnist_2k
          - override /data/image_augment: [{prefix}vflip]
          - _self_

        name: {prefix}images
        """)


def _preset(kinds: list[str], prefix: str) -> tuple[str, str] | None:
    if "model" not in kinds:
        return None
    return (
        f"model/{prefix}mean_bag_wide.yaml",
        f"# A wider {prefix}mean_bag.\ndefaults:\n  - {prefix}mean_bag\n  - _self_\n\ndim: 128\n",
    )


def _tests(package: str, kinds: list[str], prefix: str, recipes: list[str]) -> str:
    out = [
        f'"""{package}\'s components honour their contracts, and its recipes compose."""',
        "",
        "from __future__ import annotations",
        "",
        "import pytest",
        "",
        "from framework.registry import Registry",
        "from framework.testing import checked_recipe, plugin_registry, tiny_info",
        "",
        'INFO = tiny_info(target="class")',
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def registry() -> Registry:",
        '    """Plait and every installed plugin, this one included (strictly loaded)."""',
        "    return plugin_registry()",
        "",
        "",
        "def test_every_component_is_registered_by_this_plugin(registry):",
    ]
    out.append("    expected = [")
    out += [f'        ("{k}", "{prefix + TEMPLATES[k].name}"),' for k in kinds]
    out.append("    ]")
    out.append("    for kind, name in expected:")
    out.append(f'        assert registry.get(kind, name).provider == "{package}"')
    for k in kinds:
        c = prefix + TEMPLATES[k].name
        runtime = f", {RUNTIME[k]}" if k in RUNTIME else ""
        out += [
            "",
            "",
            f"def test_{c}(registry, tmp_path):",
            f'    built = registry.build("{k}", {{"_name_": "{c}"}}{runtime})',
            *TEMPLATES[k].check.strip("\n").splitlines(),
        ]
    for recipe in recipes:
        out += [
            "",
            "",
            f"def test_recipe_{recipe}_composes_and_validates(registry):",
            f'    cfg = checked_recipe(registry, ["recipe={recipe}"])',
            f'    assert cfg.name == "{recipe}"',
        ]
    return "\n".join(out) + "\n"


def _pyproject(dist: str, package: str) -> str:
    return textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "0.1.0"
        description = "A Plait plugin."
        requires-python = ">=3.10"
        dependencies = ["plait"]

        # Python components: Plait calls {package}.register(registry).
        [project.entry-points."plait.plugins"]
        {package} = "{package}:register"

        # YAML presets and recipes: {package}/conf joins Hydra's search path.
        [project.entry-points."plait.conf"]
        {package} = "{package}.conf"

        [tool.setuptools.packages.find]
        include = ["{package}*"]

        [tool.setuptools.package-data]
        "{package}.conf" = ["**/*.yaml"]
        """)


def new_plugin(name: str, kinds: str = "model", out: str = ".") -> int:
    """Write ``plait-NAME/`` under ``out`` with one component per kind; returns 0."""
    dist, package = _names(name)
    chosen = _kinds(kinds)
    prefix = package.removeprefix("plait_") + "_"
    root = Path(out) / dist
    if root.exists():
        raise PlaitError(f"{root} exists; choose another --out or remove it")
    text_kinds = [k for k in chosen if k != "image_augment"]
    recipes = [f"{prefix}example"] if text_kinds else []
    if "image_augment" in chosen:
        recipes.append(f"{prefix}images")
    written: dict[str, str] = {
        "pyproject.toml": _pyproject(dist, package),
        f"{package}/__init__.py": _register(package, chosen, prefix),
        f"{package}/components.py": _components(package, chosen, prefix),
        f"{package}/conf/__init__.py": "",
        "tests/test_components.py": _tests(package, chosen, prefix, recipes),
        "README.md": _readme(dist, package, chosen, prefix, recipes),
    }
    if text_kinds:
        written[f"{package}/conf/recipe/{prefix}example.yaml"] = _recipe(package, chosen, prefix)
    if "image_augment" in chosen:
        written[f"{package}/conf/recipe/{prefix}images.yaml"] = _image_recipe(package, prefix)
    preset = _preset(chosen, prefix)
    if preset:
        written[f"{package}/conf/{preset[0]}"] = preset[1]
    for rel, text in written.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    made = ", ".join(prefix + TEMPLATES[k].name for k in chosen)
    print(f"wrote {root} ({len(written)} files): {made}")
    print(f"next: pip install {root} && pytest {root}/tests && plait list --provider {package}")
    return 0


def _readme(dist: str, package: str, kinds: list[str], prefix: str, recipes: list[str]) -> str:
    rows = "\n".join(f"- `{k}`: `{prefix}{TEMPLATES[k].name}`" for k in kinds)
    runs = "\n".join(f"plait train recipe={r}" for r in recipes)
    return (
        f"# {dist}\n\nA Plait plugin. Components:\n\n{rows}\n\n"
        f"```bash\npip install .\npytest tests\nplait list --provider {package}\n{runs}\n```\n\n"
        "Publish it like any Python package: `python -m build` and `twine upload dist/*`.\n"
    )
