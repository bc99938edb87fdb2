"""What a run will cost on this machine, measured before it: a short trial of the recipe
itself (the engine, at the recipe's batch, precision and hardware, a few steps, one short
validation, the test pass and evaluation as configured) timed part by part, then scaled to
the recipe's steps, validations and checkpoints (``plait show --estimate``,
``plait doctor --estimate``).

The trial runs in a temporary folder and is deleted; the data stage it needs is built (and
cached) first, so the trial and the run it predicts both read it from the cache."""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import math
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

from omegaconf import OmegaConf

from framework import collector

TRIAL_STEPS = 20
"""Optimizer steps of the trial (fewer when the recipe has fewer)."""

WARMUP_STEPS = 2
"""Trial steps left out of the step time (first-step allocation, lazy set-up)."""

TRIAL_VAL_BATCHES = 4
"""Validation batches the trial times (fewer when the recipe's validation has fewer)."""

LOCAL_LOGGERS = ("csv", "tensorboard")
"""Loggers the trial keeps (they write into its temporary folder)."""

GPU_PEAK_FLOPS = {
    "H200": (989e12, 67e12),
    "H100": (989e12, 67e12),
    "A100": (312e12, 19.5e12),
    "L40S": (362e12, 91.6e12),
    "L4": (121e12, 30.3e12),
    "A10": (125e12, 31.2e12),
    "T4": (65e12, 8.1e12),
    "V100": (125e12, 15.7e12),
}
"""Dense peak FLOP/s of data-centre GPUs by name: (16-bit tensor cores, float32), from the
vendors' data sheets (SXM parts where there are several)."""


@dataclass
class Estimate:
    """The predicted wall time of a run, part by part, from a timed trial."""

    recipe: str
    steps: int
    """The recipe's optimizer steps."""
    step_s: float
    """Mean seconds per optimizer step (data, forward, backward, optimizer) after warm-up."""
    units_per_s: float
    """Examples (or tokens, for a language model) per second while training."""
    unit: str
    data_cached: bool
    """Whether the data stage came from the cache before the estimate (False: the estimate
    built it, and the run will read it from the cache)."""
    data_build_s: float
    """Seconds the estimate spent building the data stage (0 when it was cached)."""
    setup_s: float
    """Start-up: interpreter, imports, config, the data stage read from its cache, model,
    Trainer."""
    validations: int
    validation_s: float
    """Seconds of one whole validation."""
    checkpoints: int
    checkpoint_s: float
    """Seconds of one checkpoint event (best and last written)."""
    after_s: float
    """The curves drawn at the end of training, the test pass, evaluation and report, as
    the trial measured them."""
    total_s: float
    """Predicted wall time of the whole ``plait train``."""
    mfu: float | None = None
    """Model FLOPs utilisation against the GPU's peak (None on a CPU or an unknown GPU)."""
    threads: int = 0
    """torch's intra-op threads the trial ran with (a run chooses its own as it starts, from
    the machine's load then: ``framework.training.threads``)."""
    prefix_s: float = 0.0
    """Seconds of computing the frozen prefix's outputs for the training records the run
    reads, before its first step (0: nothing frozen to compute, or in the cache already)."""
    prefix_cached: bool | None = None
    """Whether those outputs are in the cache already (None: the run computes no frozen
    prefix once)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def _prefix_row(self) -> list[tuple[str, str]]:
        if self.prefix_cached is None:
            return []
        said = "read from the cache" if self.prefix_cached else f"{self.prefix_s:.1f} s"
        return [("frozen prefix, computed once", said)]

    def rows(self) -> list[tuple[str, str]]:
        """(part, predicted time and how) rows for a table."""
        data = (
            "read from the cache"
            if self.data_cached
            else (f"built now in {self.data_build_s:.1f} s, then read from the cache")
        )
        rate = f"{self.units_per_s:,.0f} {self.unit}/s"
        if self.threads:
            rate += f", {self.threads} threads"
        out = [
            ("start-up (imports, config, data, model, Trainer)", f"{self.setup_s:.1f} s"),
            ("data stage", data),
            *self._prefix_row(),
            (f"training: {self.steps:,} steps", f"{self.steps * self.step_s:.1f} s "
             f"({self.step_s * 1000:.1f} ms a step, {rate})"),
            (f"validation: {self.validations} x", f"{self.validations * self.validation_s:.1f} s "
             f"({self.validation_s:.2f} s each)"),
            (f"checkpoints: {self.checkpoints} x", f"{self.checkpoints * self.checkpoint_s:.1f} s"),
            ("test and evaluation", f"{self.after_s:.1f} s"),
        ]  # fmt: skip
        if self.mfu is not None:
            out.append(("model FLOPs utilisation", f"{self.mfu:.1%} of the GPU's peak"))
        out.append(("whole run", f"{self.total_s:.1f} s ({self.total_s / 60:.1f} min)"))
        return out


def process_age() -> float:
    """Seconds since this process started (from ``/proc``; 0 where there is none)."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return max(0.0, time.time() - (boot + start_ticks / os.sysconf("SC_CLK_TCK")))
    except (OSError, ValueError, StopIteration, IndexError):
        return 0.0


def count_validations(max_steps: int, val_every: int, at_start: bool) -> int:
    """Validations a run of ``max_steps`` makes: every ``val_every`` steps, one at the start
    when asked, and one at the end of a run shorter than ``val_every``."""
    return max_steps // val_every + int(at_start) + int(max_steps < val_every)


def reuses_validation(cfg: Any) -> bool:
    """Whether the run's evaluation will read its validation outputs from its last
    validation (``framework.training.kept_outputs``): that validation reads the whole split
    at the last step. It then also holds the best weights only when the last validation is
    the best; the estimate takes it that it is."""
    steps, every = int(cfg.trainer.max_steps), int(cfg.trainer.val_every)
    ends_validated = steps % every == 0 or steps < every
    return bool(cfg.eval) and int(cfg.trainer.val_batches) <= 0 and ends_validated


def trial_scoring_s(run_dir: str) -> float:
    """Seconds the trial's evaluation spent running the model (``eval/eval.json``): its
    short validation cannot be reused, so this is the validation split scored afresh."""
    import json

    from framework.rundir import RunDir

    doc = RunDir(run_dir).eval_json()  # the test split's, or the validation's without one
    if not doc.is_file():
        return 0.0
    return float(json.loads(doc.read_text("utf-8")).get("seconds", {}).get("model", 0.0))


def gpu_peak(name: str, sixteen_bit: bool) -> float | None:
    """Dense peak FLOP/s of the GPU called ``name`` at 16-bit or float32, if known."""
    for key, (half, single) in GPU_PEAK_FLOPS.items():
        if key in name.upper().replace("NVIDIA ", ""):
            return half if sixteen_bit else single
    return None


def _clock() -> Any:
    """A Lightning callback that timestamps the trial's steps and validations."""
    import lightning as L
    import torch

    class Clock(L.Callback):
        def __init__(self) -> None:
            self.fit_start = self.fit_end = 0.0
            self.steps: list[float] = []
            self.validations: list[tuple[float, int]] = []
            self._val_start = 0.0
            self._val_batches = 0
            self.end_draw_s = 0.0
            self.threads = 0
            self.model: Any = None
            self.datasets: dict[str, Any] = {}
            self.sample_weights: Any = None

        def on_train_start(self, trainer: Any, module: Any) -> None:
            from framework.datainfo import DataInfo

            self.fit_start, self.age_at_fit_start = time.perf_counter(), process_age()
            val = trainer.datamodule.datasets.get("val")
            self.val_records = len(val) if hasattr(val, "__len__") else 1
            self.info = DataInfo.from_dict(module.payload["data_info"])
            self.max_length = int(self.info.max_length or 1)
            self.precision = str(trainer.precision)
            self.threads = torch.get_num_threads()
            self.model = module.model
            self.datasets = trainer.datamodule.datasets
            self.sample_weights = trainer.datamodule.sample_weights

        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            self.steps.append(time.perf_counter())

        def on_validation_start(self, trainer: Any, module: Any) -> None:
            self._val_start, self._val_batches = time.perf_counter(), 0

        def on_validation_batch_end(self, trainer: Any, *args: Any) -> None:
            self._val_batches += 1

        def on_validation_end(self, trainer: Any, module: Any) -> None:
            elapsed = time.perf_counter() - self._val_start
            self.validations.append((elapsed, self._val_batches))

        def on_train_end(self, trainer: Any, module: Any) -> None:
            from framework.training.curves_callback import CurvesCallback

            self.fit_end = time.perf_counter()
            # the curves drawn at the end ran before this (a run draws them once, not at
            # each checkpoint)
            drawn = [c.draw_s for c in trainer.callbacks if isinstance(c, CurvesCallback)]
            self.end_draw_s = drawn[0] if drawn else 0.0

    return Clock()


def trial_config(cfg: Any, steps: int, val_batches: int) -> Any:
    """The recipe with a short fit: ``steps`` steps, validated and checkpointed once at the
    end on ``val_batches`` batches, nothing resumed, no logger outside its folder."""
    trial = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    trial.trainer.max_steps = steps
    trial.trainer.val_every = steps
    trial.trainer.ckpt_every = steps
    trial.trainer.log_every = max(1, min(int(cfg.trainer.log_every), steps))
    trial.trainer.val_batches = val_batches
    trial.trainer.val_at_start = False
    trial.resume = None
    loggers = trial.get("logger") or {}
    # files in the trial's own folder only: no trial run in a shared MLflow store
    trial.logger = {k: v for k, v in loggers.items() if k in LOCAL_LOGGERS}
    return trial


def _stage(loaded: Any) -> Any:
    """The recipe's data stage."""
    from framework.data.stage import DataStage

    cfg = loaded.cfg
    return DataStage(cfg.data, loaded.task, loaded.registry, cfg.seed, loaded.augmenter)


def data_cached(loaded: Any) -> bool:
    """Whether the recipe's data stage is in the cache (or is not cached at all)."""
    from framework.data import cache

    if not loaded.cfg.data.cache:
        return True
    data_stage = _stage(loaded)
    return cache.read_info(data_stage.fingerprint(), data_stage._info_key()) is not None


def estimate(loaded: Any, spent: float = 0.0, built: float | None = None) -> Estimate:
    """Time a short trial of ``loaded``'s recipe on this machine and predict the whole run.
    Start-up is what this process has taken until the trial's first step (interpreter,
    imports, config, the data stage read from its cache, model, Trainer), less ``spent``
    (seconds the caller spent on what a run does not do) and less the time of building the
    data stage when it was not cached yet: ``built`` seconds if the caller built it, else
    it is built here first."""
    cfg = loaded.cfg
    cached = built is None and data_cached(loaded)
    build_s = built or 0.0
    if built is None and not cached:  # build it now: the run will read it from the cache
        began = time.perf_counter()
        _stage(loaded).prepare()
        build_s = time.perf_counter() - began
    if not collector.paused():  # a data stage built here or by the caller turned it on
        began = time.perf_counter()
        gc.collect()  # the build's garbage, which a run reading the cache never makes
        collector.pause_again()  # the run's set-up runs paused; the engine resumes it
        spent += time.perf_counter() - began
    t = cfg.trainer
    steps = max(1, min(TRIAL_STEPS, int(t.max_steps)))
    clock = _clock()
    run_dir = tempfile.mkdtemp(prefix="plait-estimate-")
    quiet = [logging.getLogger(n) for n in ("plait", "framework", "lightning", "lightning.pytorch")]
    levels = [lg.level for lg in quiet]
    try:
        for lg in quiet:
            lg.setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()):
            from framework.engine import train

            trial = trial_config(cfg, steps, TRIAL_VAL_BATCHES)
            train(trial, loaded.registry, run_dir, task=loaded.task, augmenter=loaded.augmenter,
                  callbacks=[clock], keep_prefix=False)  # fmt: skip
            t_end = time.perf_counter()
            rescored = trial_scoring_s(run_dir) if reuses_validation(cfg) else 0.0
    finally:
        collector.resume()  # nothing when the trial reached its steps; else set-up paused it
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)
        shutil.rmtree(run_dir, ignore_errors=True)
    gaps = [b - a for a, b in zip(clock.steps, clock.steps[1:], strict=False)]
    measured = gaps[WARMUP_STEPS - 1 :] if len(gaps) >= WARMUP_STEPS else gaps
    step_s = statistics.fmean(measured) if measured else (clock.fit_end - clock.fit_start)
    val_s, val_n = clock.validations[-1] if clock.validations else (0.0, 1)
    per_val = _val_batches(clock.val_records, int(t.batch_size), int(t.val_batches))
    validation_s = val_s / max(val_n, 1) * per_val
    first_extra = max(0.0, (clock.steps[0] - clock.fit_start) - step_s) if clock.steps else 0.0
    trial_prefix_s, prefix_s, prefix_cached = prefix_forecast(loaded, clock)
    setup_s = clock.age_at_fit_start + first_extra - build_s - spent - trial_prefix_s
    validations = count_validations(int(t.max_steps), int(t.val_every), bool(t.val_at_start))
    checkpoints = max(1, int(t.max_steps) // int(t.ckpt_every))
    saves_s = _save_time(clock, val_s)
    # the run reads what the trial scored again; it draws its curves once, at the end
    after_s = t_end - clock.fit_end - rescored + clock.end_draw_s
    total = (setup_s + prefix_s + int(t.max_steps) * step_s + validations * validation_s
             + checkpoints * saves_s + after_s)  # fmt: skip
    unit = loaded.task.unit
    per_step = int(t.batch_size) * int(t.accumulate)
    if unit == "tokens":
        per_step *= clock.max_length
    return Estimate(
        recipe=str(cfg.get("name") or "train"), steps=int(t.max_steps), step_s=step_s,
        units_per_s=per_step / step_s if step_s > 0 else 0.0, unit=unit, data_cached=cached,
        data_build_s=build_s, setup_s=max(0.0, setup_s), validations=validations,
        validation_s=validation_s, checkpoints=checkpoints, checkpoint_s=saves_s,
        after_s=after_s, total_s=total, mfu=_mfu(loaded, clock, per_step, step_s),
        threads=clock.threads, prefix_s=prefix_s, prefix_cached=prefix_cached,
    )  # fmt: skip


def prefix_forecast(loaded: Any, clock: Any) -> tuple[float, float, bool | None]:
    """(seconds the trial spent on frozen-prefix outputs before its first step, seconds the
    run will, whether the run's are cached already; None: no frozen prefix computed once).
    The trial computes those of its own few training records and reads or computes the
    validation split's (and keeps them: the run reads them); the run's records' cost what
    the trial's did per token."""
    from framework.training.prefix_cache import CachedStates

    cached = {n: d for n, d in clock.datasets.items() if isinstance(d, CachedStates)}
    trial_s = sum(d.seconds for d in cached.values())
    train = cached.get("train")
    if train is None:
        return trial_s, 0.0, None
    from framework.engine import training_records_read
    from framework.kinds import builder_node
    from framework.paths import plait_cache
    from framework.training.prefix_cache import run_prefix

    cfg = loaded.cfg
    hardware = loaded.registry.build("hardware", builder_node("hardware", cfg.hardware))
    read = training_records_read(cfg, hardware, train.dataset, clock.sample_weights)
    tokens, present = run_prefix(clock.model, train.dataset, read, plait_cache("prefix"))
    if present:
        return trial_s, 0.0, True
    timed = [d for d in cached.values() if d.computed and d.tokens]
    per_token = sum(d.seconds for d in timed) / sum(d.tokens for d in timed) if timed else 0.0
    return trial_s, per_token * tokens, False


def _val_batches(records: int, batch_size: int, limit: int) -> int:
    """Batches of one whole validation (``trainer.val_batches`` > 0 caps it)."""
    full = max(1, math.ceil(records / batch_size))
    return min(full, limit) if limit > 0 else full


def _save_time(clock: Any, val_s: float) -> float:
    """Seconds of one checkpoint event (the best and last checkpoints written after a
    step): from the trial's last step to the end of its fit, less the validation and the
    curves drawn at the end there."""
    if not clock.steps:
        return 0.0
    return max(0.0, clock.fit_end - clock.steps[-1] - val_s - clock.end_draw_s)


def _mfu(loaded: Any, clock: Any, per_step: int, step_s: float) -> float | None:
    """Model FLOPs utilisation on a GPU: 3 x forward FLOPs of the step's examples over the
    step time, against the device's peak; None on a CPU or an unknown GPU."""
    import torch

    if not torch.cuda.is_available() or step_s <= 0:
        return None
    from framework.models.facts import cached_model_facts

    facts = cached_model_facts(loaded.cfg, loaded.registry, clock.info)
    peak = gpu_peak(torch.cuda.get_device_name(), not clock.precision.startswith("32"))
    if peak is None or not facts.flops:
        return None
    examples = per_step / (clock.max_length if loaded.task.unit == "tokens" else 1)
    return 3 * facts.flops * examples / step_s / peak
