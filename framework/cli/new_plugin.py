"""``plait new-plugin NAME --kinds model,metric``: write a plugin package that works as it is.

The package has a ``pyproject.toml`` with both entry points (``plait.plugins`` and
``plait.conf``), one component per requested kind following its contract, a YAML preset, a
recipe that uses the components, a README, and tests that pass once it is installed
(``pip install ./plait-NAME && pytest plait-NAME/tests``).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from framework.errors import PlaitError, did_you_mean


@dataclass(frozen=True)
class Template:
    """What the scaffold writes for one kind."""

    name: str
    """The component's name (``NAME_`` is prefixed)."""
    code: str
    """The builder (and its class), in ``components.py``."""
    register: str
    """The ``registry.add`` call's arguments after the builder (its contract)."""
    override: str
    """The recipe's defaults line selecting it (``{c}`` is the component's name)."""
    check: str
    """Test body: ``built`` is the component built from its defaults."""


TEMPLATES: dict[str, Template] = {
    "source": Template(
        "docstrings",
        '''
def {c}(packages: list[str] = ["json", "email", "unittest"]) -> Any:  # noqa: B006
    """Docstrings of standard-library packages, labelled with the package.

    Args:
        packages: Standard-library packages; each is a class.
    """
    import ast
    import sysconfig

    import datasets

    texts, labels = [], []
    for package in packages:
        folder = Path(sysconfig.get_paths()["stdlib"]) / package
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
                    texts.append(ast.get_docstring(node))
                    labels.append(package)
    return datasets.Dataset.from_dict({{"text": texts, "label": labels}})


def {c}_files(params: dict[str, Any]) -> list[str]:
    """The folders {c} reads (the data cache's fingerprint)."""
    import sysconfig

    root = Path(sysconfig.get_paths()["stdlib"])
    return [str(root / p) for p in params.get("packages", ["json", "email", "unittest"])]
''',
        "files=components.{c}_files",
        "override /data/source: {c}",
        """
    assert set(built["label"]) == {"json", "email", "unittest"} and len(built) > 50
""",
    ),
    "curate": Template(
        "min_words",
        '''
class MinWords(RowFilter):
    """Keep texts of at least ``n`` words."""

    def __init__(self, n: int) -> None:
        self.n = n

    def keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        """One flag per record."""
        return [len((t or "").split()) >= self.n for t in batch["text"]]


def {c}(n: int = 3) -> MinWords:
    """Drop texts shorter than ``n`` words.

    Args:
        n: Fewest words a kept text has.
    """
    return MinWords(n)
''',
        "streams=True",
        "override /data/curate: [{c}]",
        """
    assert built.keep({"text": ["one two three", "one"]}) == [True, False]
""",
    ),
    "clean": Template(
        "strip_urls",
        '''
def {c}(replacement: str = "") -> TextMap:
    """Replace web addresses in each text.

    Args:
        replacement: What an address becomes.
    """
    pattern = re.compile(r"https?://\\S+")
    return TextMap(lambda t: pattern.sub(replacement, t))
''',
        "streams=True",
        "override /data/clean: [{c}]",
        """
    assert built.batch({"text": ["see https://x.org now"]})["text"] == ["see  now"]
""",
    ),
    "tokenizer": Template(
        "lower_words",
        '''
def {c}(max_vocab: int = 2000) -> TextTokenizer:
    """Lower-cased words and punctuation, the most frequent ``max_vocab`` kept.

    Args:
        max_vocab: Vocabulary size, special tokens included.
    """

    def build() -> tuple[Any, Any]:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        return tok, trainers.WordLevelTrainer(vocab_size=max_vocab, special_tokens=SPECIALS)

    return TextTokenizer(build, max_vocab)
''',
        "",
        "override /data/tokenizer: {c}",
        """
    built.train(["Hello world", "hello there"])
    ids = built.encode_batch(["HELLO world"])[0]
    assert built.decode(ids) == "hello world"
""",
    ),
    "text_augment": Template(
        "random_upper",
        '''
class RandomUpper(TextOperation):
    """Upper-case n random words."""

    def apply(self, words: list[str], ctx: Any) -> list[str]:
        """The words, some upper-cased."""
        out = list(words)
        for _ in range(max(1, int(self.alpha * len(words)))):
            i = ctx.rng.randrange(len(out))
            out[i] = out[i].upper()
        return out


def {c}(alpha: float = 0.1) -> RandomUpper:
    """Upper-case n = alpha x words random words (at least one).

    Args:
        alpha: Changes per word of the text.
    """
    return RandomUpper("{c}", alpha)
''',
        "",
        "override /data/text_augment: [{c}]",
        """
    import random
    from types import SimpleNamespace

    ctx = SimpleNamespace(rng=random.Random(0), synonyms=lambda w: [], stop_words=frozenset())
    out = built.apply(["a", "b", "c"], ctx)
    assert [w.lower() for w in out] == ["a", "b", "c"] and out != ["a", "b", "c"]
""",
    ),
    "image_augment": Template(
        "vflip",
        '''
def {c}(p: float = 0.5) -> ImageAugment:
    """Flip images upside down with probability ``p``.

    Args:
        p: Probability of a flip.
    """
    return ImageAugment([{{"name": "VerticalFlip", "p": p}}])
''',
        "",
        "",
        """
    (flip,) = built.transforms(1, 28, 28)
    assert type(flip).__name__ == "VerticalFlip"
""",
    ),
    "model": Template(
        "mean_bag",
        '''
def {c}(dim: int = 64, dropout: float = 0.1, *, info: Any) -> Any:
    """Mean of the token embeddings, then a linear classifier.

    Args:
        dim: Embedding width.
        dropout: Dropout on the mean embedding.
    """
    import torch
    from torch import nn

    class MeanBag(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size, dim)
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(dim, info.num_outputs)

        def forward(self, x: Any, lengths: Any = None) -> Any:
            emb = self.embed(x)
            if lengths is None:
                return self.head(self.drop(emb.mean(1)))
            mask = torch.arange(x.size(1), device=x.device)[None, :] < lengths[:, None]
            pooled = (emb * mask[..., None]).sum(1) / lengths.clamp(min=1)[:, None]
            return self.head(self.drop(pooled))

    return MeanBag()
''',
        'reads="tokens", fits=("class", "multilabel", "value"), size=scales(None, "dim")',
        "override /model: {c}_wide",
        """
    import torch

    assert built(torch.randint(0, 50, (4, 9)), torch.tensor([9, 3, 1, 5])).shape == (4, 3)
""",
    ),
    "loss": Template(
        "smoothed_ce",
        '''
class SmoothedCE:
    """Cross-entropy with label smoothing."""

    def __init__(self, smoothing: float) -> None:
        self.smoothing = smoothing

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        return F.cross_entropy(preds, target, label_smoothing=self.smoothing)


def {c}(smoothing: float = 0.1) -> SmoothedCE:
    """Cross-entropy with ``smoothing`` of the target's probability spread over all classes.

    Args:
        smoothing: Share of probability mass spread evenly.
    """
    return SmoothedCE(smoothing)
''',
        'fits=("class",)',
        "override /loss: {c}",
        """
    import torch

    sure = torch.tensor([[20.0, 0.0, 0.0]])
    assert built(sure, torch.tensor([0])) > 0.05  # smoothing keeps a confident hit above 0
""",
    ),
    "metric": Template(
        "top2_accuracy",
        '''
def {c}(*, info: Any) -> Any:
    """Share of records whose label is among the two top-scored classes."""
    import torch
    from torchmetrics import Metric

    class TopKAccuracy(Metric):
        def __init__(self, k: int) -> None:
            super().__init__()
            self.k = k
            self.add_state("hits", torch.tensor(0.0), dist_reduce_fx="sum")
            self.add_state("total", torch.tensor(0.0), dist_reduce_fx="sum")

        def update(self, preds: Any, target: Any) -> None:
            top = preds.topk(min(self.k, preds.size(-1)), dim=-1).indices
            self.hits += (top == target[:, None]).any(-1).sum()
            self.total += target.numel()

        def compute(self) -> Any:
            return self.hits / self.total.clamp(min=1)

    return TopKAccuracy(2)
''',
        'fits=("class",)',
        "override /metric: [accuracy, {c}]",
        """
    import torch

    built.update(torch.tensor([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]]), torch.tensor([1, 2]))
    assert float(built.compute()) == 0.5
""",
    ),
    "regularizer": Template(
        "embedding_l2",
        '''
class EmbeddingL2:
    """``coefficient x sum(w^2)`` over the embedding tables."""

    name = "{c}"

    def __init__(self, coefficient: float) -> None:
        self.coefficient = coefficient

    def penalty(self, model: Any) -> Any:
        """The penalty, a scalar tensor added to the training loss."""
        from torch import nn

        tables = [m.weight for m in model.modules() if isinstance(m, nn.Embedding)]
        return self.coefficient * sum(w.pow(2).sum() for w in tables)


def {c}(coefficient: float = 1e-5) -> EmbeddingL2:
    """L2 penalty on the embedding tables alone.

    Args:
        coefficient: Weight of the penalty in the loss.
    """
    return EmbeddingL2(coefficient)
''',
        "",
        "override /regularizer: [{c}]",
        """
    from torch import nn

    emb = nn.Embedding(3, 2)
    nn.init.ones_(emb.weight)
    assert abs(float(built.penalty(nn.Sequential(emb)).detach()) - 6e-5) < 1e-9
""",
    ),
    "freeze": Template(
        "freeze_embeddings",
        '''
def {c}(pattern: str = "embed") -> Any:
    """Freeze the parameters whose name contains ``pattern``.

    Args:
        pattern: Regex searched in parameter names.
    """

    def policy(model: Any) -> list[Any]:
        for name, p in model.named_parameters():
            if re.search(pattern, name):
                p.requires_grad_(False)
        return []  # Lightning callbacks that change the frozen set later: none

    return policy
''',
        "",
        "override /freeze: [{c}]",
        """
    from torch import nn

    model = nn.ModuleDict({"embed": nn.Embedding(3, 2), "head": nn.Linear(2, 2)})
    assert built(model) == []
    assert not model["embed"].weight.requires_grad and model["head"].weight.requires_grad
""",
    ),
    "callback": Template(
        "count_steps",
        '''
def {c}(file: str = "steps.txt") -> Any:
    """Write the number of optimizer steps trained to a file of the run folder.

    Args:
        file: File name, in the run folder.
    """
    from lightning.pytorch.callbacks import Callback

    class CountSteps(Callback):
        def on_train_end(self, trainer: Any, *args: Any) -> None:
            if trainer.is_global_zero:
                Path(trainer.default_root_dir, file).write_text(f"{{trainer.global_step}}\\n")

    return CountSteps()
''',
        "",
        "override /callback: [{c}]",
        """
    from types import SimpleNamespace

    trainer = SimpleNamespace(is_global_zero=True, default_root_dir=str(tmp_path), global_step=7)
    built.on_train_end(trainer, None)
    assert (tmp_path / "steps.txt").read_text() == "7\\n"
""",
    ),
}
"""One component per kind a plugin commonly adds, each following its kind's contract."""

IMPORTS = {
    "curate": "from framework.data.steps import RowFilter",
    "clean": "from framework.data.steps import TextMap",
    "tokenizer": "from framework.data.tokenizers import SPECIALS, UNK, TextTokenizer",
    "text_augment": "from framework.augment.text import TextOperation",
    "image_augment": "from framework.augment.images import ImageAugment",
}
RUNTIME = {"model": "info=INFO", "metric": "info=INFO"}
"""Runtime values a kind's builder receives (the tests pass a small DataInfo)."""


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
        "from framework.config.compose import compose",
        "from framework.config.validate import validate",
        "from framework.data.info import DataInfo",
        "from framework.registry import Registry, default_registry",
        "",
        "INFO = DataInfo(vocab_size=50, max_length=16, num_outputs=3, num_classes=3, "
        'target="class")',
        "",
        "",
        '@pytest.fixture(scope="module")',
        "def registry() -> Registry:",
        '    """Plait and every installed plugin, this one included."""',
        "    return default_registry(strict=True)",
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
            f'    cfg = compose(registry, ["recipe={recipe}"])',
            "    validate(cfg, registry)",
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
