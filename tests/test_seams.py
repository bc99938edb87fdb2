"""The core's seams: the component contract is data the engine uses (a plugin's sized model
and streamable source), the catalogue of kinds matches the config tree, a run builds its task
and augmenter once, and the framework has no import cycle."""

from __future__ import annotations

import ast
import dataclasses
import logging
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from framework.contract import Contract, SizeKnobs, files_in_config, scales
from framework.errors import PlaitError
from framework.kinds import KINDS
from framework.registry import Registry
from tests.conftest import REPO, run_in_process

# the component contract ------------------------------------------------------------------


def plugin_mlp(width: int = 16, depth: int = 2, *, info):
    """A third party's per-text model: embeddings averaged, then an MLP."""
    from torch import nn

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.EmbeddingBag(info.vocab_size, width)
            layers = []
            for _ in range(depth):
                layers += [nn.Linear(width, width), nn.ReLU()]
            self.body = nn.Sequential(*layers, nn.Linear(width, info.num_outputs))

        def forward(self, x, lengths=None):
            return self.body(self.embed(x))

    return Mlp()


def test_a_plugin_model_declaring_size_knobs_gets_target_params(registry):
    from framework.datainfo import DataInfo
    from framework.models.sizing import build_model, count_params

    registry.add("model", "plugin_mlp", plugin_mlp, reads="tokens", fits=("class",),
                 size=scales("depth", "width"))  # fmt: skip
    info = DataInfo(vocab_size=500, max_length=32, num_classes=3, num_outputs=3, target="class")
    model, line = build_model(registry, {"_name_": "plugin_mlp", "target_params": "200k"}, info)
    assert abs(count_params(model) - 200_000) <= 20_000
    assert line.startswith("target_params 200k: depth=")
    fixed = Registry()
    fixed.add("model", "plugin_mlp", plugin_mlp)  # no size declared: a fixed size
    fixed.add("model", "sized", plugin_mlp, size=scales("depth", "width"))
    with pytest.raises(PlaitError, match=r"has a fixed size; .* size knobs \(sized\)"):
        build_model(fixed, {"_name_": "plugin_mlp", "target_params": "200k"}, info)


def test_a_plugin_model_declaring_its_targets_is_checked_against_the_task(registry, tmp_path):
    registry.add("model", "plugin_mlp", plugin_mlp, reads="tokens", fits=("class",))
    from framework.cli.spine import load

    with pytest.raises(PlaitError, match="model 'plugin_mlp' does not fit task causal_lm"):
        load(["model=plugin_mlp"], registry)
    listed = {c.name: c.contract.describe() for c in registry.components("model")}
    assert listed["plugin_mlp"] == "reads tokens; fits class"


def lines_source(path: str = "???", *, streaming: bool = False):
    """A third party's source: one document per line of a file, streamable."""
    from framework.records import dataset, iterable_source

    texts = [t for t in Path(path).read_text("utf-8").splitlines() if t.strip()]
    if streaming:
        return iterable_source(_lines, texts=texts)
    return dataset({"text": texts}, "lines")


def _lines(texts):
    for t in texts:
        yield {"text": t}


def data_cfg(source, **over):
    base = {
        "source": source,
        "curate": {},
        "clean": {"lowercase": {"_name_": "lowercase"}},
        "tokenizer": {"_name_": "char"},
        "split": {"_name_": "random", "val": 0.2},
        "balance": {"_name_": "none"},
        "max_length": 16,
        "num_proc": 1,
        "cache": True,
        "streaming": False,
        "stream_tokenizer_chars": 100_000,
        "stream_val_blocks": 10,
    }
    return OmegaConf.create({**base, **over})


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(f"Line {i} of a small corpus, said twice." for i in range(300)))
    return path


def test_a_plugin_source_declaring_streams_is_read_lazily(registry, corpus):
    from framework.data.stage import prepare_data
    from framework.tasks.causal_lm import causal_lm

    registry.add("source", "lines", lines_source, files=files_in_config, streams=True)
    data = prepare_data(
        data_cfg({"_name_": "lines", "path": str(corpus)}, streaming=True), causal_lm(), registry, 0
    )
    assert data.report.cache == "off (streaming)"
    x, y = next(iter(data.datasets["train"]))
    assert x.shape == (16,) and x[1:].tolist() == y[:-1].tolist()
    assert data.tokenizer.decode(x.tolist()) == data.tokenizer.decode(x.tolist()).lower()

    registry.add("source", "lines_eager", lines_source, files=files_in_config)  # no streams
    refused = r"source 'lines_eager' cannot stream \(sources that stream: gcide, jsonl, lines,"
    with pytest.raises(PlaitError, match=refused):
        prepare_data(
            data_cfg({"_name_": "lines_eager", "path": str(corpus)}, streaming=True),
            causal_lm(), registry, 0,
        )  # fmt: skip


def test_a_plugin_source_declaring_its_files_misses_the_cache_when_one_changes(
    registry, corpus, tmp_path, monkeypatch
):
    from framework.data.stage import prepare_data
    from framework.tasks.causal_lm import causal_lm

    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    fixed = tmp_path / "fixed.txt"  # a named set: its file is not in the config
    fixed.write_text(corpus.read_text())
    registry.add("source", "named", lambda: lines_source(str(fixed)),
                 files=lambda _params: [str(fixed)])  # fmt: skip
    cfg = data_cfg({"_name_": "named"})
    assert prepare_data(cfg, causal_lm(), registry, 0).report.cache == "miss"
    assert prepare_data(cfg, causal_lm(), registry, 0).report.cache == "hit"
    fixed.write_text("\n".join(f"Another line {i}, now edited." for i in range(300)))
    rebuilt = prepare_data(cfg, causal_lm(), registry, 0)
    assert rebuilt.report.cache == "miss"
    assert "edited" in rebuilt.tokenizer.decode(rebuilt.datasets["train"].stream[:400].tolist())


def test_a_source_that_declares_no_files_warns_that_the_cache_cannot_see_changes(
    registry, corpus, tmp_path, monkeypatch, caplog
):
    from framework.data.stage import prepare_data
    from framework.tasks.causal_lm import causal_lm

    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    registry.add("source", "silent", lambda: lines_source(str(corpus)))
    with caplog.at_level(logging.WARNING, logger="plait"):
        prepare_data(data_cfg({"_name_": "silent"}), causal_lm(), registry, 0)
    assert "data source 'silent' declares no files" in caplog.text
    assert "data.cache=false" in caplog.text


def test_capabilities_are_checked_at_registration():
    r = Registry()
    with pytest.raises(PlaitError, match="a loss cannot declare 'size'"):
        r.add("loss", "x", lambda: None, size=SizeKnobs("n", ("w",)))
    with pytest.raises(PlaitError, match="fits='words'; targets: tokens, class"):
        r.add("metric", "y", lambda: None, fits=("words",))
    with pytest.raises(PlaitError, match="unknown capability 'fast'"):
        r.add("model", "z", lambda: None, fast=True)


# the catalogue of kinds ------------------------------------------------------------------


CAPABILITIES = {f.name for f in dataclasses.fields(Contract)}


def test_root_schema_and_train_yaml_cover_every_kind():
    from framework.config.schema import PlaitConfig

    root = OmegaConf.structured(PlaitConfig)
    defaults = OmegaConf.load(REPO / "conf/train.yaml").defaults
    groups = {next(iter(d)) for d in defaults if not isinstance(d, str)}
    for kind, spec in KINDS.items():
        parent, _, leaf = spec.group.replace("/", ".").rpartition(".")
        node = OmegaConf.select(root, parent) if parent else root
        assert leaf in node.keys(), f"the root schema has no node for {kind}"
        assert spec.group in groups, f"conf/train.yaml selects no default for {kind}"
        assert spec.protocol.what, kind
        assert set(spec.capabilities) <= CAPABILITIES, kind


# built once per run ----------------------------------------------------------------------


def test_one_train_builds_the_task_and_the_augmenter_once(registry, tmp_path, monkeypatch):
    from framework.augment import text
    from framework.data import augmentation as build

    rows = ["text,label"] + [
        f"{'good fun film' if i % 2 else 'bad long plot'} number {i},{'pos' if i % 2 else 'neg'}"
        for i in range(80)
    ]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n", "utf-8")
    (tmp_path / "syn.csv").write_text("good,fine\nfilm,movie\nplot,story\n", "utf-8")
    built = {"task": 0, "augmenter": 0}
    real_build, real_augmenter = Registry.build, text.TextAugmenter.__init__

    def counting_build(self, kind, cfg, **runtime):
        built["task"] += kind == "task"
        return real_build(self, kind, cfg, **runtime)

    def counting_augmenter(self, *args, **kwargs):
        built["augmenter"] += 1
        real_augmenter(self, *args, **kwargs)

    monkeypatch.setattr(Registry, "build", counting_build)
    monkeypatch.setattr(text.TextAugmenter, "__init__", counting_augmenter)
    assert build.TextAugmenter is text.TextAugmenter
    proc = run_in_process(
        ["train", "~recipe", "data/source=csv", f"data.source.paths=[{tmp_path}/r.csv]",
         "data/tokenizer=char", "task=text_classification", "model=textcnn",
         "data/split=stratified", "data/text_augment=[synonym_replacement,random_swap]",
         "data/synonyms=table", f"data.synonyms.path={tmp_path}/syn.csv", "data.cache=false",
         "trainer.max_steps=2", "trainer.batch_size=8", "trainer.val_batches=1",
         "trainer.val_every=2", "trainer.ckpt_every=2", "trainer.log_every=1",
         "scheduler.warmup_steps=1", "hydra.run.dir=run"],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "run/results.json").is_file()
    assert built == {"task": 1, "augmenter": 1}


# layout ------------------------------------------------------------------------------------


def _imports(path: Path, package: str, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``path`` imports anywhere (module level or in a body):
    ``from pkg import mod`` counts ``pkg.mod`` alone when ``mod`` is a module."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative import
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            submodules = {f"{base}.{a.name}" for a in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in ``base`` itself
                found.add(base)
    return found & known


def _framework_modules() -> dict[str, Path]:
    """Every module of ``framework/`` by dotted name."""
    modules = {}
    for path in (REPO / "framework").rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        modules[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = path
    return modules


def test_no_import_cycle_inside_framework():
    modules = _framework_modules()
    known = set(modules)
    graph = {name: _imports(path, name, known) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError(
                    "import cycle: " + " -> ".join([*stack[stack.index(nxt) :], nxt])
                )
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_no_two_packages_import_each_other():
    """Layers: no pair of framework's packages (or top-level modules) imports each other both
    ways, anywhere in a module (``framework.data`` and ``framework.tasks``, the engine and the
    CLI, the registry and the config checks ...)."""
    modules = _framework_modules()
    known = set(modules)

    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])

    edges: dict[tuple[str, str], str] = {}
    for name, path in modules.items():
        for target in _imports(path, name, known) - {name}:
            if unit(name) != unit(target):
                edges.setdefault((unit(name), unit(target)), f"{name} -> {target}")
    both = sorted(f"{edges[(a, b)]} and {edges[(b, a)]}" for a, b in edges
                  if (b, a) in edges and a < b)  # fmt: skip
    assert both == [], both


def test_nothing_points_outside_the_repository():
    for folder in ("framework", "docs", "tests", "bench", "recipes", "conf"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".yaml") and path.name != "test_seams.py":
                text = path.read_text("utf-8")
                assert "DATA.md" not in text and "../shared" not in text, path


def test_no_module_but_rundir_joins_a_run_path():
    """RunDir owns every path of a run: no other module joins a run's file or folder name
    (``run / "checkpoints"``, ``Path(run, "eval.json")``, ``os.path.join(d, "last.ckpt")``)."""
    from framework import rundir

    names = {getattr(rundir, c) for c in ("CONFIG", "COMMAND", "DATA_REPORT", "DATA_INFO",
             "LABELS", "METRICS", "RESULTS", "SAMPLES", "CHECKPOINTS", "LAST_CKPT", "BEST_CKPT",
             "MERGED_CKPT", "EDA", "EVAL", "EVAL_JSON", "PREDICTIONS", "SWEEP_CONFIG", "COMPARE",
             "RUNS")}  # fmt: skip
    names |= {"best", "last", "merged"}  # checkpoint stems

    def joined(node: ast.AST) -> list[str]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = [node.right]
        elif isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "Path")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "join")
        ):
            parts = node.args[1:]
        else:
            return []
        return [p.value for p in parts if isinstance(p, ast.Constant) and p.value in names]

    found = []
    for path in (REPO / "framework").rglob("*.py"):
        if path.name == "rundir.py" or "scaffold" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            found += [f"{path.relative_to(REPO)}:{node.lineno} joins {n!r}" for n in joined(node)]
    assert found == [], found


def test_evaluation_reads_the_targets_analysis_instead_of_switching_on_the_target():
    """``eval``, ``predict``, ``compare`` and the report use the target's registered analysis:
    no module of evaluation or of the CLI compares a target or an analysis's name."""
    from framework.evaluate.analysis import TARGET_ANALYSES, analysis_named

    names = set(TARGET_ANALYSES) | {
        analysis_named(k).kind for k in ("classification", "multilabel", "regression", "language")
    }

    def switches(node: ast.AST) -> bool:
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "unit" for s in sides):
                return False  # what a task counts in (tokens or samples), not its target
            return any(isinstance(s, ast.Constant) and s.value in names for s in sides) or any(
                isinstance(s, (ast.Tuple, ast.Set, ast.List))
                and any(isinstance(e, ast.Constant) and e.value in names for e in s.elts)
                for s in sides
            )
        return False

    found = []
    places = [
        *(REPO / "framework" / "evaluate").glob("*.py"),
        *(REPO / "framework/cli").glob("*.py"),
    ]
    for path in places:
        if path.name == "analysis.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if switches(node):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == [], found


def test_every_target_has_an_analysis_with_each_part():
    from framework.contract import TARGETS
    from framework.evaluate.analysis import TARGET_ANALYSES, analysis_for

    assert set(TARGET_ANALYSES) == set(TARGETS)
    kinds = set()
    for target in TARGETS:
        a = analysis_for(type("Task", (), {"target": target})())
        assert callable(a.evaluate) and callable(a.predict) and callable(a.report)
        kinds.add(a.kind)
    assert len(kinds) == len(TARGETS)
