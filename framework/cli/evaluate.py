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
    from framework.evaluate.analysis import analysis_for
    from framework.evaluate.loading import eval_folder, load_model
    from framework.evaluate.records import new_source, run_split
    from framework.evaluate.run import EvalOptions, evaluate
    from framework.outputs import output_folder
    from framework.registry import default_registry

    given = output_folder(opts.out, "out", opts.overwrite) if opts.out else None
    registry = default_registry()
    m, run = load_model(opts.run, opts.ckpt, opts.task, registry)
    labels = m.info.labels
    if data_overrides:
        evalset = new_source(m.cfg, m.task, registry, data_overrides, labels)
    else:
        evalset = run_split(m.cfg, m.task, registry, opts.split, labels)
    asked = "" if data_overrides else opts.split
    output = given or output_folder(eval_folder(run, evalset.name, asked), "out", False,
                                    default=True)  # fmt: skip
    out = output.path
    samples = _samples(m) if analysis_for(m.task).samples else []
    options = EvalOptions(
        batch_size=opts.batch_size,
        slices=list(opts.slices) if opts.slices is not None else None,
        seed=opts.seed,
        replicates=opts.bootstrap,
        samples=samples,
        metrics_csv=run.metrics if run is not None else None,
    )
    doc = evaluate(m, evalset, registry, out, options)
    output.seal("plait eval")
    return doc, out


def evaluated(run: str, split: str = "test", quiet: bool = False) -> Path:
    """The folder of ``run``'s evaluation on ``split``: the one it has, else one made now with
    the default options (its summary printed unless ``quiet``)."""
    from omegaconf import OmegaConf

    from framework.rundir import RunDir

    folder = RunDir(run)
    if not folder.eval_json(split).is_file():
        doc, out = evaluate_options(OmegaConf.structured(EvalCommand(run=run, split=split)), [])
        if not quiet:
            print_summary(doc, out)
    return folder.eval_dir(split)


def _samples(m: Any) -> list[str]:
    """Continuations of the run's ``samples.prompts``, as training wrote them."""
    from framework.models.generate import sample

    s = m.cfg.get("samples") or {}
    prompts = list(s.get("prompts") or [])
    if not prompts:
        return []
    return sample(
        m.model,
        m.tokenizer,
        prompts,
        m.info.max_length,
        int(s.get("max_new_tokens", 100)),
        float(s.get("temperature", 0.8)),
        s.get("top_k"),
        seed=int(m.cfg.get("seed", 0)),
    )
