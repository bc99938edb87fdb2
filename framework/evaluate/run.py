"""One evaluation: score the records with the trained model, analyse them with the task
target's analysis (``framework.evaluate.analysis``), and write ``eval/`` (``eval.json``,
``predictions.csv``, the charts and ``report.html``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.evaluate.analysis import analysis_for
from framework.evaluate.records import EvalSet
from framework.rundir import EVAL_JSON


@dataclass
class EvalOptions:
    """What an evaluation does beyond scoring."""

    batch_size: int = 64
    """Records per forward pass."""
    slices: list[str] | None = None
    """Source columns to slice the metrics by; None: every numeric or categorical one."""
    seed: int = 0
    """Seed of the bootstrap resampling."""
    replicates: int = 1000
    """Bootstrap resamples behind each interval."""
    samples: list[str] = field(default_factory=list)
    """Language models: texts sampled from the recipe's prompts, shown in the report."""
    metrics_csv: Path | None = None
    """The run's ``metrics.csv``: its training curves go into the report."""
    report: bool = True
    """Draw the charts and write ``report.html``; false: the numbers and the predictions
    only (a sweep report comparing its trials)."""


@dataclass
class Model:
    """A trained model and what it was trained with."""

    cfg: Any
    """The run's config."""
    model: Any
    """The network, with the weights to evaluate."""
    tokenizer: Any
    """The run's tokenizer (None for images)."""
    info: Any
    """The run's DataInfo."""
    task: Any
    """The run's task, built from its config."""
    precision: str | None = None
    """The precision the run trained in (``trainer.precision`` or what it resolved to); the
    forward passes follow it where this machine runs it natively (None: float32)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Outputs these weights already gave on whole splits, by split name (``test``,
    ``val``): the passes at the end of ``plait train``; read instead of computed again."""
    reused: list[str] = field(default_factory=list)
    """The splits whose outputs this evaluation read from ``outputs``."""


def scoring_precision(m: Model) -> str:
    """What the forward passes compute in: ``float32``, ``bfloat16`` or ``float16``."""
    from framework.evaluate.inference import autocast_dtype

    dtype = autocast_dtype(m.precision, next(m.model.parameters()).device)
    return str(dtype).removeprefix("torch.") if dtype is not None else "float32"


def evaluate(
    m: Model, evalset: EvalSet, registry: Any, out: Path, opts: EvalOptions
) -> dict[str, Any]:
    """Evaluate ``m`` on ``evalset`` into the folder ``out``; returns every number."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    analysis = analysis_for(m.task)
    doc: dict[str, Any] = {
        "kind": analysis.kind,
        "records_from": evalset.name,
        "notes": evalset.notes,
        "checkpoint_config": m.cfg.get("name"),
        "precision": scoring_precision(m),
    }
    chart_files: dict[str, str] = {}
    doc.update(analysis.evaluate(m, evalset, registry, opts, out, chart_files))
    if opts.report and opts.metrics_csv is not None and Path(opts.metrics_csv).is_file():
        from framework.rundir import RunDir
        from framework.training.curves import plot_curves

        drawn = RunDir(Path(opts.metrics_csv).parent).curves  # training's, when the same
        if plot_curves(opts.metrics_csv, out / "curves.png", drawn):
            chart_files["Training curves (train and validation)"] = "curves.png"
    doc["charts"] = chart_files
    if m.reused:
        doc["outputs_from_training"] = sorted(set(m.reused))
    if opts.report:
        from framework.evaluate.report import write_report

        write_report(doc, out, evalset)
    doc["seconds"] = {**doc.get("seconds", {}), "total": time.perf_counter() - started}
    (out / EVAL_JSON).write_text(json.dumps(doc, indent=1, ensure_ascii=False), "utf-8")
    return doc
