"""What a run prints and writes around training, kept out of the engine so that
``engine.train`` is the run alone: the data report and EDA once the data is ready, the
model's tables once it is built, and at the end the samples, the evaluation and the summary
panel with the commands that come next."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig

from framework.registry import Registry
from framework.rundir import RunDir

log = logging.getLogger("plait")


@dataclass
class RunEnd:
    """What a finished run hands its end-of-run output."""

    module: Any
    """The trained TaskModule (its model holds the last weights)."""
    data: Any
    """The data stage's result (tables, tokenizer, DataInfo)."""
    results: dict[str, float]
    """Final validation and test metrics."""
    best: tuple[str, float | None, str]
    """The monitored metric, its best value (None: never measured) and the best checkpoint."""
    seconds: float
    """Training time."""
    precision: str
    """The precision the run trained in."""
    outputs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """The model's (outputs, targets) from the run's own validation and test passes with the
    weights the module holds, by split (``framework.training.kept_outputs``): the evaluation
    reads them rather than computing them again."""


def data_ready(cfg: DictConfig, task: Any, data: Any, run: RunDir) -> None:
    """The data report, and with ``eda: true`` the analysis of the data stage."""
    data.report.print()
    if cfg.eda:
        _write_eda(cfg, task, data.tables, run)


def model_ready(cfg: DictConfig, parts: Any) -> None:
    """What ``model.target_params`` chose, what ``model.init`` loaded and what trains."""
    if parts.size:
        log.info("%s", parts.size)
    if parts.init is None and not cfg.freeze:
        return
    from rich.console import Console

    from framework.finetune.structure import trainable_table

    if parts.init is not None:
        Console().print(parts.init.table())
    Console().print(trainable_table(parts.model))


def run_finished(cfg: DictConfig, registry: Registry, task: Any, run: RunDir, end: RunEnd) -> None:
    """Samples (causal LMs), the evaluation (``eval: true``) and the summary panel."""
    from rich.console import Console

    from framework.training.summary import summary

    samples = _write_samples(cfg, task, end.module.model, end.data, run)
    compared = compared_by_its_sweep(cfg, task)
    texts = None  # the training split's, for both evaluations
    if cfg.eval or compared:
        best = end.best[2]
        if best and "test" not in end.data.datasets:  # test() did not load the best weights
            held = end.module.weights_step
            _load_weights(end.module, best)
            if end.module.weights_step != held:
                end.outputs = {}  # the kept outputs were those of other weights
        texts = _train_texts(end) if end.data.tables is not None else None
    if cfg.eval:
        _write_eval(cfg, registry, task, end, run, samples, texts)
    if compared:
        _write_val_eval(cfg, registry, task, end, run, texts)
    Console().print(summary(run, end.results, end.best, end.seconds, task.generative))


def _write_eda(cfg: DictConfig, task: Any, tables: Any, run: RunDir) -> None:
    """``eda: true``: the analysis of the data stage training uses, into ``<run>/eda/``."""
    from framework.eda.run import print_summary, run_eda

    report = run_eda(tables, task, cfg.data, run.eda, f"plait eda: {cfg.name}")
    print_summary(report, run.eda)


def _load_weights(module: Any, path: str) -> None:
    """Put a checkpoint's weights into the module (a frozen base it left out restored)."""
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"])


def _write_eval(cfg: DictConfig, registry: Registry, task: Any, end: RunEnd, run: RunDir,
                samples: list[str], texts: list[str] | None) -> None:  # fmt: skip
    """``eval: true``: the best checkpoint's evaluation on the test split (without one: the
    validation split, said in the report), into ``<run>/eval/``, in the run's ``precision``;
    the data stage's own tables, nothing is read again (``texts``: the training split's)."""
    from framework.evaluate.records import NO_TEST, EvalSet
    from framework.evaluate.run import EvalOptions, evaluate
    from framework.evaluate.summary import print_summary

    tables = end.data.tables
    if tables is None:  # streaming: no stored split
        log.info("eval: the data streamed, so there is no stored test split; run plait eval "
                 "run=%s data.source.paths=[FILE] to evaluate it on a file", run.path)  # fmt: skip
        return
    split = "test" if "test" in tables.splits else "val"
    evalset = EvalSet(split, tables.splits[split], tables.splits.get("val"), texts)
    if split == "val":
        evalset.notes.append(NO_TEST)
    options = EvalOptions(batch_size=max(cfg.trainer.batch_size, 64), samples=samples,
                          metrics_csv=run.metrics, seed=cfg.seed)  # fmt: skip
    doc = evaluate(_evaluated(cfg, task, end), evalset, registry, run.eval_dir(), options)
    print_summary(doc, run.eval_dir())


def _write_val_eval(cfg: DictConfig, registry: Registry, task: Any, end: RunEnd, run: RunDir,
                    texts: list[str] | None) -> None:  # fmt: skip
    """A sweep's trial: the evaluation on the validation split that the sweep's report
    compares its best trials by (``search.compare_best``), into ``<run>/eval-val/``, from the
    outputs the last validation pass kept; left to the report when that pass ran other
    weights (nothing is computed again here)."""
    from framework.evaluate.records import EvalSet
    from framework.evaluate.run import evaluate
    from framework.search.winners import val_options

    tables = end.data.tables
    if tables is None or "val" not in end.outputs:
        return
    val = tables.splits["val"]
    evaluate(_evaluated(cfg, task, end), EvalSet("val", val, val, texts), registry,
             run.eval_dir("val"), val_options())  # fmt: skip


def _train_texts(end: RunEnd) -> list[str] | None:
    """The training split's texts (the near-duplicate slice), or None (images)."""
    from framework.records import TEXT, column

    train = end.data.tables.splits["train"]
    return column(train, TEXT) if TEXT in train.column_names else None


def _evaluated(cfg: DictConfig, task: Any, end: RunEnd) -> Any:
    """The model as the evaluation takes it, with the outputs its last passes kept."""
    from framework.evaluate.inference import Outputs
    from framework.evaluate.run import Model

    known = {split: Outputs(out, target, 0.0)
             for split, (out, target) in end.outputs.items()}  # fmt: skip
    return Model(cfg, end.module.model, end.data.tokenizer, end.data.info, task, end.precision,
                 known)  # fmt: skip


def compared_by_its_sweep(cfg: DictConfig, task: Any) -> bool:
    """Whether this run is a trial of a sweep whose report compares its best trials on the
    validation split (``search.compare_best``; a target with a paired test)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from framework.errors import PlaitError
    from framework.evaluate.analysis import analysis_for

    if cfg.search.compare_best < 2 or not HydraConfig.initialized():
        return False
    if HydraConfig.get().mode != RunMode.MULTIRUN:
        return False
    try:
        return analysis_for(task).paired is not None
    except PlaitError:  # a plugin's target without an evaluation
        return False


def _write_samples(cfg: DictConfig, task: Any, model: Any, data: Any, run: RunDir) -> list[str]:
    """Causal LMs: continue the configured prompts into ``samples.txt`` and print them;
    returns the texts."""
    if not task.generative:
        return []
    from framework.models.generate import sample

    s = cfg.samples
    texts = sample(
        model,
        data.tokenizer,
        list(s.prompts),
        data.info.max_length,
        s.max_new_tokens,
        s.temperature,
        s.top_k,
        seed=cfg.seed,
    )
    run.write_samples(list(s.prompts), texts)
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    for prompt, text in zip(s.prompts, texts):
        console.print(Panel(Text(text), title=f"sample: {prompt!r}", expand=False))
    return texts
