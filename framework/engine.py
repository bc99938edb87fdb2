"""The engine: one run, read top to bottom like the data-flow picture in DESIGN.md.

config -> data (DataInfo) -> model -> TaskModule -> Trainer.fit -> artifacts

What is printed and written around the run (the data report, EDA, the model's tables,
samples, the evaluation, the summary panel) is :mod:`framework.run_output`'s.
"""

from __future__ import annotations

import logging
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework import collector, manifest
from framework import run_output as output
from framework.errors import PlaitError
from framework.finetune.frozen_base import FrozenBase
from framework.finetune.param_groups import LR_KEYS, LrScales
from framework.kinds import NAME_KEY, builder_node
from framework.models.assemble import build_trained_model
from framework.registry import Registry
from framework.rundir import RunDir, find_resume, stored_config
from framework.training.hardware import (
    global_batch_accumulation,
    ranks,
    run_precision,
    settle_threads,
    trainer_arguments,
)
from framework.training.optim import fused_setting

log = logging.getLogger("plait")


@dataclass
class TaskParts:
    """What the task trains: the model and the objects built around it."""

    model: Any
    """The network (frozen in part by the freeze policy, regularizers applied)."""
    size: str | None
    """The line saying what ``model.target_params`` chose, or None without a budget."""
    loss: Any
    """The training objective."""
    metrics: dict[str, Any]
    """torchmetrics by name."""
    metric_logs: dict[str, str]
    """What each metric logs, by name: its ``logs`` capability (number, per_class, artifact)."""
    regularizers: list[Any]
    """Penalties added to the loss (and settings applied to the model)."""
    callbacks: list[Any]
    """Lightning callbacks of the freeze policies (gradual unfreezing, merging adapters)."""
    init: Any = None
    """What ``model.init`` loaded (an :class:`framework.models.init.InitReport`), or None."""
    frozen_base: Any = None
    """The frozen base checkpoints leave out (a :class:`framework.finetune.frozen_base.
    FrozenBase`), or None: checkpoints hold every weight."""


def build_task_parts(cfg: DictConfig, registry: Registry, task: Any, info: Any) -> TaskParts:
    """Model, loss and metrics for ``task`` as ``cfg`` selects them, given the data's DataInfo."""
    built = build_trained_model(cfg, registry, info)
    loss_cfg = cfg.loss if cfg.loss is not None else {NAME_KEY: task.default_loss}
    metric_cfgs = cfg.metric or {name: {NAME_KEY: name} for name in task.default_metrics}
    return TaskParts(
        model=built.model,
        size=built.size,
        loss=registry.build("loss", loss_cfg, info=info),
        metrics={
            name: registry.build("metric", node, info=info) for name, node in metric_cfgs.items()
        },
        metric_logs={
            name: registry.contract("metric", node).logs for name, node in metric_cfgs.items()
        },
        regularizers=built.regularizers,
        callbacks=built.callbacks,
        init=built.init,
        frozen_base=FrozenBase.of(built.model) if built.leaves_base_out else None,
    )


def build_trainer(
    cfg: DictConfig,
    registry: Registry,
    run: RunDir,
    monitor: tuple[str, str],
    extra_callbacks: Sequence[Any] = (),
    hardware: dict[str, Any] | None = None,
    precision: str | None = None,
) -> Any:
    """A Lightning Trainer from the hardware preset (``hardware``: the preset's arguments,
    already built; None: built here), loggers, callbacks and loop settings. ``precision``:
    the run's, already resolved (:func:`~framework.training.hardware.run_precision`; None:
    resolved here)."""
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint

    from framework.training.checkpoint import AtomicCheckpointIO
    from framework.training.curves_callback import CurvesCallback
    from framework.training.progress import PlaitProgressBar
    from framework.training.summary import ProgressLines

    t = cfg.trainer
    ckpt_dir, run_dir = run.checkpoints, run.path
    callbacks = [
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="step{step}",
            auto_insert_metric_name=False,
            every_n_train_steps=t.ckpt_every,
            save_top_k=0,
            save_last=True,
        ),
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="best" if t.keep_best <= 1 else "best-step{step}",
            auto_insert_metric_name=False,
            monitor=monitor[0],
            mode=monitor[1],
            save_top_k=max(1, t.keep_best),
            save_last=False,
            enable_version_counter=False,
        ),
        CurvesCallback(run_dir),
        ProgressLines(run_dir, t.log_every * 5),
    ]
    if sys.stdout.isatty():  # a terminal gets the live bar; a file gets the lines above
        callbacks.append(PlaitProgressBar(metrics_every=t.log_every, leave=True))
    callbacks += [registry.build("callback", node) for node in cfg.callback.values()]
    callbacks += list(extra_callbacks)
    loggers = [registry.build("logger", node, run_dir=str(run_dir)) for node in cfg.logger.values()]
    if hardware is None:
        hardware = registry.build("hardware", builder_node("hardware", cfg.hardware))
    precision = precision or run_precision(t.precision, hardware)
    accumulate = global_batch_accumulation(t.accumulate, hardware, cfg.hardware.keep_global_batch)
    if accumulate != t.accumulate:
        log.info("hardware.keep_global_batch: trainer.accumulate=%d on %d ranks keeps the "
                 "effective batch of %d", accumulate, ranks(hardware),
                 t.batch_size * t.accumulate)  # fmt: skip
    if precision != t.precision:
        log.info("trainer.precision=%s: %s on this machine", t.precision or "null (the "
                 "hardware preset's)", precision)  # fmt: skip
    return L.Trainer(
        **trainer_arguments(hardware),
        max_steps=t.max_steps,
        max_epochs=-1,
        accumulate_grad_batches=accumulate,
        gradient_clip_val=t.grad_clip,
        precision=precision,
        val_check_interval=t.val_every * accumulate,
        check_val_every_n_epoch=None,
        limit_val_batches=t.val_batches if t.val_batches > 0 else 1.0,
        log_every_n_steps=t.log_every,
        deterministic=t.deterministic,
        callbacks=callbacks,
        logger=loggers or False,
        plugins=[AtomicCheckpointIO()],
        use_distributed_sampler=False,
        default_root_dir=str(run_dir),
        num_sanity_val_steps=0,
        inference_mode=False,  # metric states must stay usable between validate() and fit()
        enable_model_summary=False,
        enable_progress_bar=sys.stdout.isatty(),
    )


def freeze_changes(cfg: Any, registry: Registry) -> bool:
    """Whether a freeze policy of the run changes what trains during it (``gradual``)."""
    from framework.finetune.freeze import freeze_policies

    return any(registry.contract("freeze", p).changes_during_run for p in freeze_policies(cfg))


def training_records_read(
    cfg: DictConfig, hardware: dict[str, Any], train: Any, weights: list[float] | None
) -> list[int] | None:
    """The training records a run reads from the start to ``trainer.max_steps``, when that
    is fewer reads than the split has records (less than an epoch); None otherwise, or for
    a split without a length (a stream)."""
    from framework.training.datamodule import records_read

    if not hasattr(train, "__len__"):
        return None
    t = cfg.trainer
    world = ranks(hardware)
    batches = t.max_steps * global_batch_accumulation(t.accumulate, hardware,
                                                      cfg.hardware.keep_global_batch)  # fmt: skip
    if batches * t.batch_size * world >= len(train):
        return None
    lengths = train.lengths() if t.bucket_by_length and hasattr(train, "lengths") else None
    return records_read(len(train), t.batch_size, cfg.seed, batches, world, weights, lengths)


def _settle_threads(cfg: DictConfig, hardware: dict[str, Any], resumed: Any, load: Any) -> bool:
    """Choose and set a CPU run's torch threads (:func:`settle_threads`) and log the choice;
    whether there was one to make."""
    said = settle_threads(cfg, hardware, resumed, load)
    if said:
        log.info(said)
    return said is not None


def train(
    cfg: DictConfig,
    registry: Registry,
    run_dir: str | Path,
    task: Any = None,
    augmenter: Any = None,
    callbacks: Sequence[Any] = (),
    command: str | None = None,
    keep_prefix: bool = True,
) -> dict[str, float]:
    """Train the run ``cfg`` describes, writing every artifact to ``run_dir``; return metrics.

    ``task`` and ``augmenter``: what validation built (``framework.config.validate``), used as
    they are; None: built here. ``callbacks``: more Lightning callbacks (a sweep's pruning).
    ``command``: the command line that trains it again (None: ``plait train`` with Hydra's
    overrides). ``keep_prefix=False``: the frozen-prefix outputs of the training records a
    run shorter than an epoch reads are computed and not kept (the estimate's short trial,
    whose records are not the run's).
    """
    import lightning as L
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    from framework.data.stage import DataStage
    from framework.models.features import with_features
    from framework.paths import plait_cache
    from framework.training.allocator import keep_freed_memory
    from framework.training.datamodule import PlaitDataModule
    from framework.training.kept_outputs import OutputKeeper
    from framework.training.module import TaskModule
    from framework.training.prefix_cache import frozen_blocks, with_cached_prefix
    from framework.training.process_group import end_process_group
    from framework.training.quantized_prefix import quantize_prefix
    from framework.training.threads import LoadWatch

    warnings.filterwarnings("ignore", message=".*exists and is not empty.*")
    warnings.filterwarnings("ignore", message=".*isinstance.treespec, LeafSpec.*")
    # a metric's value is logged after torchmetrics reduced it across ranks (its compute())
    warnings.filterwarnings("ignore", message=".*when logging on epoch level in distributed.*")
    for noisy in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    run = RunDir(run_dir)
    writer = rank_zero_only.rank == 0  # under DDP every rank runs this function
    ckpt = find_resume(cfg.resume, run, cfg)  # fail fast, before any data work
    hardware = registry.build("hardware", builder_node("hardware", cfg.hardware))
    resumed = stored_config(Path(ckpt)) if ckpt else None
    # CPU threads follow the machine's load while the data stage runs; where Ray's workers or
    # the other DDP ranks run beside it, they are chosen before it, as everything starts
    alone = cfg.data.engine.name == "local" and hardware.get("strategy") != "ddp"
    load = LoadWatch() if alone else None
    if load is None:
        _settle_threads(cfg, hardware, resumed, None)
    if writer:
        run.write_config(cfg)
        command = run.write_command(command)
    L.seed_everything(cfg.seed, workers=True, verbose=False)

    # data
    if cfg.eda and cfg.data.streaming:
        raise PlaitError("eda: true analyses data held in memory; set data.streaming=false")
    task = task if task is not None else registry.build("task", cfg.task)
    stage = DataStage(cfg.data, task, registry, cfg.seed, augmenter)
    data = stage.prepare()
    if "val" not in data.datasets:
        raise PlaitError("data.split produced no validation split; set data.split.val above 0")
    if load is not None and _settle_threads(cfg, hardware, resumed, load) and writer:
        run.write_config(cfg)  # with the thread count
    if writer:
        lineage = data.tables.lineage if data.tables is not None else None
        run.write_data(data.report, data.tokenizer, data.info.labels, lineage)
        run.write_info(data.info)
        output.data_ready(cfg, task, data, run)

    # model, loss, metrics, optimizer
    parts = build_task_parts(cfg, registry, task, data.info)
    if writer:
        output.model_ready(cfg, parts)
    if cfg.trainer.compile:
        parts.model.compile()
    optimizer_node = {k: v for k, v in OmegaConf.to_container(cfg.optimizer, resolve=True).items()
                      if k not in LR_KEYS}  # fmt: skip
    precision = run_precision(cfg.trainer.precision, hardware)
    optimizer_node = fused_setting(optimizer_node, precision, cfg.trainer.grad_clip)

    def make_optimizer(groups: Any) -> Any:
        return registry.build("optimizer", optimizer_node, params=groups)

    module = TaskModule(
        task=task,
        model=parts.model,
        loss=parts.loss,
        metrics=parts.metrics,
        metric_logs=parts.metric_logs,
        make_optimizer=make_optimizer,
        lr_scales=LrScales.from_config(cfg.optimizer),
        make_scheduler=lambda opt: registry.build(
            "scheduler", cfg.scheduler, optimizer=opt, total_steps=cfg.trainer.max_steps
        ),
        log_every=cfg.trainer.log_every,
        regularizers=parts.regularizers,
        check_every=math.gcd(cfg.trainer.log_every, cfg.trainer.ckpt_every, cfg.trainer.val_every),
        frozen_base=parts.frozen_base,
        payload={
            "config": OmegaConf.to_container(cfg, resolve=True),
            "data_info": data.info.to_dict(),
            "tokenizer": data.tokenizer.to_str() if data.tokenizer is not None else None,
        },
    )
    if cfg.eval or output.compared_by_its_sweep(cfg, task):
        module.keeper = OutputKeeper()
    datasets, collate = with_features(parts.model, data.datasets, task.collate)
    if cfg.trainer.cache_frozen and not freeze_changes(cfg, registry):
        read = (training_records_read(cfg, hardware, datasets.get("train"),
                                      data.sample_weights)
                if frozen_blocks(parts.model) else None)  # fmt: skip
        datasets, collate = with_cached_prefix(parts.model, datasets, collate,
                                               cfg.trainer.batch_size, plait_cache("prefix"),
                                               read, keep_prefix)  # fmt: skip
    if cfg.trainer.quantize_frozen:
        quantize_prefix(parts.model, datasets.get("train"), collate)
    datamodule = PlaitDataModule(
        datasets,
        cfg.trainer.batch_size,
        cfg.seed,
        cfg.trainer.num_workers,
        collate,
        data.sample_weights,
        cfg.trainer.bucket_by_length,
    )

    # fit
    trainer = build_trainer(cfg, registry, run, (task.monitor, task.monitor_mode),
                            [*parts.callbacks, *callbacks], hardware, precision)  # fmt: skip
    if writer:
        run.write_manifest(
            manifest.build(cfg, hardware.get("accelerator", "cpu"), str(trainer.precision),
                           {"fingerprint": data.report.fingerprint,
                            "files": manifest.data_files(stage.declared_files())},
                           command)
        )  # fmt: skip
    if ckpt:
        log.info("resuming from %s", ckpt)
    if cfg.trainer.keep_freed_memory and keep_freed_memory():
        log.debug("malloc: freed memory kept for reuse (trainer.keep_freed_memory)")
    collector.resume()  # the set-up is done; the steps run as they would anywhere
    if cfg.trainer.val_at_start and not ckpt:
        trainer.validate(module, datamodule=datamodule, verbose=False)
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    module.weights_step = trainer.global_step
    results = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if task.monitor not in results and "val" in data.datasets:
        # a run shorter than trainer.val_every ends validated, so it has figures to report
        for row in trainer.validate(module, datamodule=datamodule, verbose=False):
            results.update({k: float(v) for k, v in row.items()})
    keeper = next(c for c in trainer.checkpoint_callbacks if c.monitor)
    best = keeper.best_model_path
    if "test" in data.datasets:
        for row in trainer.test(
            module,
            datamodule=datamodule,
            ckpt_path=best or None,
            verbose=False,
            weights_only=True,
        ):
            results.update({k: float(v) for k, v in row.items()})

    # artifacts
    if trainer.is_global_zero:
        run.write_results(results)
        score = float(keeper.best_model_score) if keeper.best_model_score is not None else None
        ended = output.RunEnd(module, data, results, (task.monitor, score, best),
                              time.perf_counter() - started, trainer.precision,
                              module.kept_outputs(datamodule))  # fmt: skip
        output.run_finished(cfg, registry, task, run, ended)
    end_process_group()  # under DDP, on every rank: nothing is sent after this
    return results
