"""``plait eval run=DIR``: evaluate a trained run on its test split, another split, or new
records through any source; writes ``eval/`` (report.html, eval.json, predictions.csv)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.checks import COUNT
from framework.cli.command_config import (
    CommandSpec,
    HydraFlags,
    compose_command,
    compose_one,
    option,
)
from framework.evaluate.summary import print_summary


@dataclass
class EvalCommand:
    """``plait eval`` options."""

    run: str | None = option(None, "the run dir plait train wrote (runs/NAME/<time>)")
    ckpt: str | None = option(None, "a checkpoint to evaluate instead of the run's best")
    split: str = option("test", "the run's split to evaluate: train, val or test")
    out: str | None = option(None, "folder to write; null: the run's eval/ (or eval-<split>/)")
    overwrite: bool = option(False, "write into an out= folder holding files Plait did not write")
    batch_size: int = option(64, "records per forward pass", check=COUNT)
    slices: list[str] | None = option(
        None, "source columns to slice the metrics by; null: every numeric or categorical one"
    )
    seed: int = option(0, "seed of the bootstrap resampling")
    bootstrap: int = option(1000, "bootstrap resamples behind each 95% interval", check=COUNT)
    task: str | None = option(None, "the task you expect; a checkpoint of another task stops")


SPEC = CommandSpec(
    "eval", EvalCommand, "run=runs/tweets_sentiment/<time> split=test", ("data.", "data/")
)
"""How ``plait eval`` reads its command line."""


def evaluate_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait eval`` (once per combination with ``--multirun``); returns the exit status."""
    for opts, data_overrides in compose_command(SPEC, items, flags) or []:
        doc, out = evaluate_options(opts, data_overrides)
        print_summary(doc, out)
    return 0


def evaluate_items(items: list[str]) -> tuple[dict[str, Any], Path]:
    """``plait eval ITEMS`` without printing (``framework.api.eval``): the evaluation's
    document (``eval.json``) and the folder it wrote."""
    return evaluate_options(*compose_one(SPEC, items))


def evaluate_options(opts: Any, data_overrides: list[str]) -> tuple[dict[str, Any], Path]:
    """Evaluate with composed options; ``data_overrides`` change the run's source."""
    from framework.evaluate.of_run import evaluate_run

    return evaluate_run(
        opts.run, opts.split, data_overrides, ckpt=opts.ckpt, task=opts.task, out=opts.out,
        overwrite=opts.overwrite, batch_size=opts.batch_size, slices=opts.slices,
        seed=opts.seed, bootstrap=opts.bootstrap,
    )  # fmt: skip


def evaluated(run: str, split: str = "test", quiet: bool = False) -> Path:
    """The folder of ``run``'s evaluation on ``split``: the one it has, else one made now with
    the default options (its summary printed unless ``quiet``)."""
    from framework.evaluate.of_run import evaluation_of

    folder, doc = evaluation_of(run, split)
    if doc is not None and not quiet:
        print_summary(doc, folder)
    return folder
