"""What ``plait new-plugin`` writes for each kind: one working component per kind, each
following its kind's contract, with the test that checks it (used by
:mod:`framework.cli.new_plugin`)."""

from __future__ import annotations

from dataclasses import dataclass


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
