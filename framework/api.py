"""Plait from Python: the CLI's commands as functions that return objects.

Each function takes the same ``key=value`` overrides its command does and runs the same
code (the CLI is a thin printing layer over it); bad input raises the same one-line
:class:`framework.errors.PlaitError`, and a library's or a plugin's failure is raised as
that one line too (the original exception is its ``__cause__``)::

    from framework import api

    run = api.train("fortunes", ["trainer.max_steps=200"])
    print(run.results["test"])                       # final metrics
    report = api.eval(run, split="val")              # metrics with intervals
    rows = api.predict(run, "new.csv").rows          # one dict per input record
    folder = api.export(run, format="safetensors")   # a folder other tools load
    again = api.replay(run)                           # trained again from its manifest
    print(api.diff(run, again)["config"])             # what differs, key by key
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from framework.errors import PlaitError, explain


@dataclass
class Run:
    """A run folder ``plait train`` wrote."""

    path: Path
    """The run dir (``runs/NAME/<time>``)."""
    config: dict[str, Any]
    """Its composed config, as stored (``config.yaml``, read as data: nothing resolved)."""
    results: dict[str, Any] = field(default_factory=dict)
    """Final validation and test metrics (``results.json``; empty until the run ends)."""

    def __fspath__(self) -> str:
        return str(self.path)


@dataclass
class Evaluation:
    """What ``api.eval`` computed."""

    metrics: dict[str, Any]
    """Each metric with its bootstrap interval, and the per-class figures (``eval.json``)."""
    path: Path
    """The folder written (``eval.json``, ``report.html``, predictions)."""


@dataclass
class Predictions:
    """What ``api.predict`` wrote."""

    path: Path
    """The output file (CSV or JSONL, as the input)."""
    rows: list[dict[str, Any]]
    """One row per input record, in order: its prediction, or its ``error``."""


@contextlib.contextmanager
def _one_line() -> Iterator[None]:
    """Any failure as the one-line PlaitError the CLI prints (a bug in Plait as it is)."""
    try:
        yield
    except PlaitError:
        raise
    except SystemExit as exc:
        raise PlaitError(f"stopped with exit status {exc.code}") from exc
    except Exception as exc:
        said = explain(exc)
        if said is None:
            raise
        raise said from exc


def _items(run: Run | str | Path | None, options: dict[str, Any]) -> list[str]:
    """``key=value`` items of a command from keyword arguments (``run=`` first). A path, and
    a text for one of the command's own options, is quoted, so any character it holds reaches
    the command as it is; a list (``"[a,b]"``) and an override of the run's config
    (``data.source.paths``) stay in the override grammar."""
    from framework.cli.command_config import quoted

    items = [f"run={quoted(str(Path(run)))}"] if run is not None else []
    for key, value in options.items():
        grammar = isinstance(value, str) and (value.startswith("[") or "." in key or "/" in key)
        if isinstance(value, bool):
            items.append(f"{key}={str(value).lower()}")
        elif isinstance(value, Path) or (isinstance(value, str) and not grammar):
            items.append(f"{key}={quoted(str(value))}")
        elif value is not None:
            items.append(f"{key}={value}")
    return items


def load_run(path: str | Path) -> Run:
    """The run in folder ``path``: its stored config and final results (read as data)."""
    import yaml

    from framework.rundir import CONFIG, RESULTS

    folder = Path(path)
    if not (folder / CONFIG).is_file():
        raise PlaitError(
            f"{folder}: not a run dir (no {CONFIG}); give a folder plait train wrote, such "
            "as runs/NAME/<time>"
        )
    config = yaml.safe_load((folder / CONFIG).read_text(encoding="utf-8")) or {}
    results_file = folder / RESULTS
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else {}
    return Run(folder, config, results)


def train(
    recipe: str | None = None, overrides: Sequence[str] = (), run_dir: str | Path | None = None
) -> Run:
    """Train ``recipe`` (a name, as ``recipe=NAME``; None: the default recipe) with
    ``overrides`` as ``plait train`` does, into ``run_dir`` (default: ``runs/NAME/<time>``);
    returns the finished :class:`Run`. Sweeps (``-m``, ``search``) stay on the CLI."""
    from framework.cli.train import train as train_command
    from framework.rundir import RUNS

    items = [*([f"recipe={recipe}"] if recipe else []), *overrides]
    given = next((o.split("=", 1)[1] for o in items if o.startswith("hydra.run.dir=")), None)
    if run_dir is None and given is None:
        name = recipe or "plait"
        run_dir = Path(RUNS) / name / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if run_dir is not None:
        items = [o for o in items if not o.startswith("hydra.run.dir=")]
        items.append(f"hydra.run.dir={run_dir}")
    with _one_line():
        train_command(items, multirun=False, verbose=True)
    return load_run(run_dir if run_dir is not None else str(given))


def eval(run: Run | str | Path, split: str = "test", **options: Any) -> Evaluation:
    """Evaluate ``run`` on ``split`` (``plait eval run=R split=S KEY=VALUE...``; ``options``
    as its keys: ``batch_size``, ``bootstrap``, ``out``, ``data.source.paths`` ...)."""
    from framework.cli.evaluate import evaluate_items

    items = _items(run, {"split": split, **options})
    with _one_line():
        doc, out = evaluate_items(items)
    return Evaluation(doc, Path(out))


def predict(run: Run | str | Path, input: str | Path, **options: Any) -> Predictions:
    """Predict every record of ``input`` (CSV, JSONL or text lines) with ``run``
    (``plait predict run=R input=F KEY=VALUE...``); returns the rows written."""
    from framework.cli.predict import predict_items

    items = _items(run, {"input": input, **options})
    with _one_line():
        out, _inputs, _good = predict_items(items)
    out = Path(out)
    with out.open(encoding="utf-8", newline="") as fh:
        if out.suffix == ".jsonl":
            rows = [json.loads(line) for line in fh if line.strip()]
        else:
            rows = list(csv.DictReader(fh))
    return Predictions(out, rows)


def export(
    run: Run | str | Path, format: str = "hf", out: str | Path | None = None, **options: Any
) -> Path:
    """Export ``run``'s model (``plait export run=R format=F out=DIR``); returns the folder."""
    from framework.cli.export import export_items

    items = _items(run, {"format": format, "out": out, **options})
    with _one_line():
        _ckpt, _fmt, folder = export_items(items)
    return Path(folder)


def replay(
    run: Run | str | Path, overrides: Sequence[str] = (), out: str | Path | None = None
) -> Run:
    """Train ``run`` again from its ``manifest.json`` alone (``plait replay RUN [overrides]``),
    into ``out`` (default: ``runs/NAME/<time>``); returns the new :class:`Run`."""
    from framework.cli.command_config import compose_one
    from framework.cli.replay import SPEC, replay_options

    items = _items(run, {"out": out})
    with _one_line():
        opts, passthrough = compose_one(SPEC, [*items, *overrides])
        folder = replay_options(opts, passthrough)
    assert folder is not None
    return load_run(folder)


def diff(a: Run | str | Path, b: Run | str | Path, paired: bool = True, seed: int = 0) -> dict:
    """What differs between two runs (``plait diff A B --json``): config keys, overrides,
    data, environment, results and the paired bootstrap of the test metrics."""
    from framework.cli.diff import diff_between

    with _one_line():
        return diff_between(str(Path(a)), str(Path(b)), seed, paired)
