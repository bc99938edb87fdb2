"""Docs that cannot drift: every ``plait ...`` command shown in README.md and docs/ runs here.

- Commands that read a trained run (``eval``, ``predict``, ``compare``, ``export``,
  ``generate``, ``plot``) run in full against small real runs standing in for
  ``runs/NAME/<time>``.
- ``train`` commands compose and check every value as a run does (``--cfg job``: the same
  checks, every value of a sweep included) without training (where the docs show what
  training prints before it starts, ``plait show`` of the same overrides prints it);
  ``show``, ``doctor``, ``data``, ``eda`` and ``augment-preview`` compose and check their
  recipe before any data work.
- ``list``, ``new-plugin``, ``--help`` and ``--version`` run as written.
- Where the docs show what a command prints (``$ plait ...`` followed by its output), the
  program must print that (``...`` ends a shortened line).
- Usage lines (``DIR``, ``FILE``, ``[out=DIR]``, ``...``) name a real command, and each
  ``key=`` is one of its options.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY_LM, run_in_process, run_plait, shared, train_tiny_lm

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

NOT_RUN = {
    "plait train recipe=stdlib_gpt data/engine=ray data.engine.address=auto": "needs the Ray "
    "cluster `ray start --head` starts; tests/data/test_ray_engine.py uses a two-node one",
    "plait train hardware=multi_node hardware.num_nodes=2 hardware.devices=4": "needs 8 GPUs "
    "under SLURM; the hardware check's refusal on this machine is in tests/training",
}
"""Doc commands that cannot run here, with where their behaviour is tested instead."""


@dataclass
class DocCommand:
    """One command in the docs."""

    where: str
    """file:line."""
    text: str
    """The command as written (continuations joined, comment dropped)."""
    shown: list[str]
    """The output the docs show under it (``$ plait ...`` blocks), if any."""

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)[1:]

    @property
    def usage(self) -> bool:
        """A line of syntax rather than a command: placeholders such as DIR or [out=DIR]."""
        words = r"\b(?:[A-Z]+_)?(?:DIR|FILE|FOLDER|PATH|RUN|RUN_[A-Z]|NAME|KEY)\b"
        return bool(re.search(r"\.\.\.|\[\w+=|\$[A-Za-z]|" + words, self.text))


def doc_commands() -> list[DocCommand]:
    """Every ``plait`` command line inside a fenced code block of the docs."""
    found = []
    for path in DOCS:
        lines = path.read_text("utf-8").splitlines()
        fence = None
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.lstrip().startswith("```"):
                fence = None if fence is not None else line.strip()[3:]
                i += 1
                continue
            stripped = line.strip()
            prompt = stripped.startswith("$ plait")
            if fence is None or not (prompt or stripped.startswith("plait ")):
                i += 1
                continue
            start, text = i, stripped.removeprefix("$ ")
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1].rstrip() + " " + lines[i].strip()
            shown = []
            while prompt and i + 1 < len(lines):
                nxt = lines[i + 1]
                if nxt.strip().startswith(("$ ", "```")) or not nxt.strip():
                    break
                shown.append(nxt.strip())
                i += 1
            if fence in ("", "bash", "sh", "console", "shell"):
                found.append(DocCommand(f"{path.name}:{start + 1}", _unquoted(text), shown))
            i += 1
    return found


def _unquoted(text: str) -> str:
    """The command as the shell hands it on, re-quoted for shlex (comments dropped)."""
    return shlex.join(["plait", *shlex.split(text, comments=True)[1:]])


COMMANDS = doc_commands()


def test_the_docs_show_commands_of_every_kind_and_the_not_run_list_is_current():
    texts = {c.text for c in COMMANDS}
    names = {c.argv[0] for c in COMMANDS if c.argv}
    assert {"train", "eval", "predict", "compare", "export", "generate", "list"} <= names
    assert {_unquoted(t) for t in [*NOT_RUN, *PLUGIN_LINES]} <= texts, "a list here is stale"


def _work(tmp_path_factory) -> Path:
    """A folder whose ``runs/`` holds small real runs for the docs' placeholders: two
    fortunes classifiers, a tweets classifier and a tiny language model, copied (the
    commands write into them), and the ``new.csv`` the docs predict on."""
    from tests.evaluate.test_eval_runs import _run_dir, _train_fortunes, _train_tweets

    fortunes = _run_dir(shared(tmp_path_factory, "fortunes", _train_fortunes), "fortunes")
    tweets_root = shared(tmp_path_factory, "tweets", _train_tweets)
    tweets = _run_dir(tweets_root, "tweets_sentiment")

    lm = shared(tmp_path_factory, "docs-lm", train_tiny_lm) / "run"

    def search(root: Path) -> None:
        proc = run_in_process(["train", *TINY_LM, "trainer.max_steps=4", "trainer.val_every=2",
                          "search=tpe", "search.trials=2", "optimizer.lr=interval(1e-4,1e-2)",
                          "hydra.sweep.dir=search"], root)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]

    sweep = shared(tmp_path_factory, "docs-search", search) / "search"
    work = tmp_path_factory.mktemp("docs")
    for name, run in (("fortunes/a", fortunes), ("fortunes/b", fortunes),
                      ("tweets_sentiment/t", tweets), ("stdlib_gpt/t", lm),
                      ("fortunes/search", sweep)):  # fmt: skip
        shutil.copytree(run, work / "runs" / name, symlinks=True)
    with open(tweets_root / "new.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:40]
    with open(work / "new.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return work


PLACES = {
    "runs/<name>/search_tpe_<hash>": "runs/fortunes/search",
    "runs/tweets_textcnn_search/search_tpe_<hash>": "runs/fortunes/search",
    "runs/fortunes/<time-a>": "runs/fortunes/a",
    "runs/fortunes/<time-b>": "runs/fortunes/b",
    "runs/fortunes/<a>": "runs/fortunes/a",
    "runs/fortunes/<b>": "runs/fortunes/b",
    "runs/fortunes/<time>": "runs/fortunes/a",
    "runs/tweets_sentiment/<time>": "runs/tweets_sentiment/t",
    "runs/stdlib_gpt/<time>": "runs/stdlib_gpt/t",
}
"""The docs' placeholders and the small runs standing in for them."""


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return _work(tmp_path_factory)


PLUGIN_LINES = ("plait list --provider plait_acme", "plait train recipe=acme_example")
"""Lines that need the plugin ``plait new-plugin acme`` writes, installed."""


@pytest.fixture(scope="module")
def acme(tmp_path_factory) -> dict[str, str]:
    """The environment of a Plait with the plugin of plugins.md's walk-through installed."""
    from tests.conftest import pip_install_target

    root = tmp_path_factory.mktemp("acme")
    made = run_in_process(["new-plugin", "acme", "--kinds", "model,metric", "--out", str(root)],
                          root)  # fmt: skip
    assert made.returncode == 0, made.stderr
    pip_install_target(root / "plait-acme", root / "site")
    return {"PYTHONPATH": str(root / "site")}


BOX = re.compile("[\u2500-\u257f]")
"""Box-drawing characters: a table's rules, whatever its width."""


def _words(text: str) -> str:
    """Printed text as its words: table rules and line breaks dropped, durations blanked
    (``(3.3 s)``: they vary run to run)."""
    text = re.sub(r"\d+(?:\.\d+)? s\b", "N s", BOX.sub(" ", text))
    return " ".join(text.split())


def _options(command: str) -> set[str] | None:
    """A composed command's options (None for the others)."""
    from framework.cli.main import COMPOSED

    if command not in COMPOSED:
        return None
    spec = importlib.import_module(COMPOSED[command][0]).SPEC
    return {f.name for f in dataclasses.fields(spec.schema)}


def _passthrough(command: str) -> tuple[str, ...]:
    """The prefixes of the run config's keys a composed command passes on (``data.`` for
    ``eval``, every key of the run's config for ``replay``)."""
    from framework.cli.main import COMPOSED

    if command not in COMPOSED:
        return ()
    return importlib.import_module(COMPOSED[command][0]).SPEC.passthrough


@pytest.mark.parametrize("doc", COMMANDS, ids=[c.where for c in COMMANDS])
def test_every_command_in_the_docs_runs(doc, work, registry, request):
    from framework.cli.main import COMMANDS as CLI

    if doc.text in {_unquoted(t) for t in NOT_RUN}:
        return  # see NOT_RUN: tested elsewhere, and the list is checked for staleness
    if doc.text in {_unquoted(t) for t in PLUGIN_LINES}:
        env = request.getfixturevalue("acme")
        argv = [*doc.argv, *(["--cfg", "job"] if doc.argv[0] == "train" else [])]
        proc = run_plait(argv, work, env=env)
        assert proc.returncode == 0, f"{doc.where}: {doc.text}\n{proc.stderr[-2000:]}"
        assert "acme" in proc.stdout
        return
    argv = doc.argv
    assert argv and argv[0] in CLI, f"{doc.where}: '{argv[:1]}' is no plait command"
    known = _options(argv[0])
    passed = ("data.", "data/", *_passthrough(argv[0]))
    if doc.usage:
        for item in argv[1:]:
            key = item.strip("[]").partition("=")[0]
            if known is not None and "=" in item and not key.startswith(passed):
                assert key in known, f"{doc.where}: {argv[0]} has no option '{key}'"
        return
    text = doc.text
    for place, real in PLACES.items():
        text = text.replace(place, real)
    if "postgresql://plait@127.0.0.1:5433/plait" in text:  # the server the docs start
        text = text.replace("postgresql://plait@127.0.0.1:5433/plait",
                            request.getfixturevalue("postgres_url"))  # fmt: skip
    assert "<" not in text, f"{doc.where}: a placeholder with no run standing in: {text}"
    argv = shlex.split(text)[1:]
    if doc.shown:  # the docs show what it prints: it must print that
        if argv[0] == "train" and not doc.shown[0].startswith("plait: error"):
            argv = ["show", *argv[1:]]  # what training prints before it starts, without training
        proc = run_in_process(argv, work)
        printed = _words(proc.stdout + proc.stderr)  # as one text: a narrow terminal wraps
        for want in doc.shown:
            if not BOX.sub("", want).strip() or "\u2503" in want:
                continue  # a table's border or header (its cells wrap in a narrow terminal)
            shown = _words(want.removesuffix("..."))
            assert shown in printed, f"{doc.where}: the docs show '{want}'; plait printed {printed}"
        return
    if argv[0] == "train":
        argv = [*argv, "--cfg", "job"]
    elif argv[0] == "replay":  # as train: every check and difference, without training
        argv = [*argv, "dry_run=true"]
    elif argv[0] in ("show", "doctor", "data", "eda", "augment-preview"):
        from framework.cli.preview import _options as preview_options
        from framework.cli.spine import load

        overrides = [a for a in argv[1:] if "=" in a]
        if argv[0] == "augment-preview":
            overrides = preview_options(overrides)[2]  # n= and out= are its own
        load(overrides, registry)  # its recipe, composed and checked
        return
    elif argv[0] == "new-plugin":
        argv = [*argv, "--out", str(work / "scaffold")]
    proc = run_in_process(argv, work)
    assert proc.returncode == 0, f"{doc.where}: {text}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr
