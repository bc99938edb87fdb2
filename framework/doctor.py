"""``plait doctor``'s reasoning: what a recipe needs (weights, gradients, optimizer state and
activations at the run's precision and batch) against what this machine has, and the
settings that follow (device, precision, strategy, the largest batch that fits, DataLoader
workers, accumulation that keeps the effective batch)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from framework.machine import Machine

HEADROOM = {"gpu": 0.9, "cpu": 0.8}
"""Share of device memory (GPU) or of the available RAM (CPU) a run may plan to use."""
HALF_ACTIVATIONS = ("bf16-mixed", "16-mixed", "bf16-true", "16-true")
"""Precisions whose activations are 16-bit (half of what float32 keeps)."""


@dataclass
class Needs:
    """A recipe's memory at its precision and batch."""

    params: int
    """Parameters (tied weights once)."""
    trainable: int
    """Parameters that train."""
    precision: str
    """The precision the run resolves to on this machine."""
    weights: int
    """Bytes of weights."""
    gradients: int
    """Bytes of gradients."""
    optimizer: int
    """Bytes of optimizer state."""
    activations_per_example: int
    """Bytes of activations one example keeps for the backward pass."""
    batch: int
    """Examples per device per step (``trainer.batch_size``)."""

    @property
    def state(self) -> int:
        """Weights, gradients and optimizer state."""
        return self.weights + self.gradients + self.optimizer

    @property
    def total(self) -> int:
        """Everything, at the configured batch."""
        return self.state + self.activations_per_example * self.batch


@dataclass
class Advice:
    """What ``plait doctor`` recommends for the recipe on this machine."""

    hardware: str
    """The preset and its settings (``hardware=cpu``, ``hardware=gpu hardware.devices=2``)."""
    accelerator: str
    """``cpu`` or ``gpu``."""
    devices: int
    """Devices (GPUs, or 1 CPU process)."""
    strategy: str
    """Lightning strategy: ``auto`` (one device) or ``ddp``."""
    precision: str
    """``trainer.precision`` to use."""
    budget: int
    """Bytes a run may plan to use per device."""
    max_batch: int
    """Largest per-device batch whose memory fits the budget."""
    workers: int
    """``trainer.num_workers``."""
    accumulate: int
    """``trainer.accumulate`` that keeps the recipe's effective batch."""
    notes: list[str]
    """Why, in words."""
    data_engine: str = "data/engine=local"
    """Where the data stage should run (``data/engine=local`` or ``ray``)."""
    data_note: str = ""
    """Why, from the corpus size and this machine."""

    def to_dict(self) -> dict[str, Any]:
        """As plain data."""
        return asdict(self)


RAY_MEMORY_FACTOR = 6
"""The local engine holds the source, the curated records and their hashes in memory: about
this many times the corpus's text (bench/ray_data.py: 2.0 GB more peak memory for 360 MB more
text, 1x to 10x GCIDE). Compressed files hold more text than their size says."""
RAY_CORES = 8
"""Below this many cores the local engine is taken to beat Ray at any size that fits in
memory: on 2 cores Ray with one worker node took 1.36x (1x GCIDE) and 1.47x (10x) the local
engine's time (bench/ray_data.py), and a second node on the same cores was slower still, so
Ray needs cores the local engine leaves idle (it already uses several for tokenization) to
catch up; 8 is a cautious guess beyond what one 2-core machine can measure."""


def corpus_bytes(cfg: Any, registry: Any) -> int | None:
    """Bytes on disk of the files the recipe's source declares (None: it declares none)."""
    import glob
    import os

    from framework.data.steps_loop import plain

    contract = registry.contract("source", cfg.data.source)
    if contract.files is None:
        return None
    paths = contract.files(plain(cfg.data.source))
    total = 0
    for p in paths:
        for hit in glob.glob(os.path.expanduser(p), recursive=True):
            if os.path.isfile(hit):
                total += os.path.getsize(hit)
            else:
                for root, _dirs, files in os.walk(hit):
                    total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total or None


def engine_advice(size: int | None, machine: Machine) -> tuple[str, str]:
    """(``data/engine=...``, why) for a corpus of ``size`` bytes on this machine."""
    from framework.models.footprint import human

    if size is None:
        return "data/engine=local", "the source declares no files, so its size is unknown"
    need = size * RAY_MEMORY_FACTOR
    if need > machine.available_memory:
        return ("data/engine=ray data.engine.address=auto",
                f"the corpus ({human(size, 'B')}) needs about {human(need, 'B')} of memory on "
                f"the local engine, more than the {human(machine.available_memory, 'B')} "
                "available: run it on a Ray cluster (docs/scale.md)")  # fmt: skip
    if machine.usable_cores < RAY_CORES:
        return ("data/engine=local",
                f"the corpus ({human(size, 'B')}) fits in memory, and on "
                f"{machine.usable_cores} cores the local engine is faster than Ray")  # fmt: skip
    return ("data/engine=local",
            f"the corpus ({human(size, 'B')}) fits in memory; data/engine=ray pays off when a "
            "cluster adds cores or the corpus outgrows this machine")  # fmt: skip


def needs(facts: Any, cfg: Any, machine: Machine, registry: Any) -> Needs:
    """The recipe's memory at the precision ``trainer.precision`` resolves to here."""
    from framework.kinds import NAME_KEY
    from framework.models.footprint import memory_of
    from framework.training.hardware import PRESET_PRECISION, run_precision

    accelerator = "gpu" if machine.gpus else "cpu"
    precision = run_precision(cfg.trainer.precision, PRESET_PRECISION[accelerator]
                              | {"accelerator": accelerator})  # fmt: skip
    states = registry.contract("optimizer", cfg.optimizer).state_tensors
    mem = memory_of(facts.total, facts.trainable, precision, cfg.optimizer[NAME_KEY], states)
    scale = 0.5 if precision in HALF_ACTIVATIONS else 1.0
    return Needs(
        params=facts.total,
        trainable=facts.trainable,
        precision=precision,
        weights=mem.weights,
        gradients=mem.gradients,
        optimizer=mem.optimizer,
        activations_per_example=int(facts.activations * scale),
        batch=cfg.trainer.batch_size,
    )


def advise(need: Needs, cfg: Any, machine: Machine) -> Advice:
    """Device, precision, strategy, largest batch, workers and accumulation for the recipe."""
    notes = []
    if machine.gpus:
        accelerator, devices = "gpu", len(machine.gpus)
        budget = int(min(g.memory for g in machine.gpus) * HEADROOM["gpu"])
        strategy = "ddp" if devices > 1 else "auto"
        hardware = "hardware=gpu" + (f" hardware.devices={devices}" if devices > 1 else "")
        per_device = max(1, machine.usable_cores // devices)
        workers = min(8, max(0, per_device - 1))
        notes.append(f"{devices} GPU(s): {machine.gpus[0].name}")
    else:
        accelerator, devices, strategy, hardware = "cpu", 1, "auto", "hardware=cpu"
        budget = int(machine.available_memory * HEADROOM["cpu"])
        # on a few cores, loader workers take cores from the model's own threads
        workers = 0 if machine.usable_cores <= 4 else min(4, machine.usable_cores // 4)
        notes.append("no GPU: one process on the CPU, torch using every core")
    left = budget - need.state
    per_example = max(1, need.activations_per_example)
    max_batch = max(0, left // per_example)
    effective = cfg.trainer.batch_size * cfg.trainer.accumulate
    if max_batch == 0:
        accumulate = cfg.trainer.accumulate
        notes.append("the weights, gradients and optimizer state alone exceed the budget: "
                     "freeze layers (freeze=...), use LoRA, or a smaller model")  # fmt: skip
    elif max_batch < cfg.trainer.batch_size:
        accumulate = math.ceil(effective / max_batch)
        notes.append(f"trainer.batch_size={cfg.trainer.batch_size} does not fit: "
                     f"trainer.batch_size={max_batch} trainer.accumulate={accumulate} keeps "
                     f"the effective batch of {effective}")  # fmt: skip
    else:
        accumulate = cfg.trainer.accumulate
    if need.precision != "32-true" or cfg.trainer.precision == "auto":
        notes.append(f"precision {need.precision}"
                     + (" (native bfloat16)" if need.precision.startswith("bf16") else
                        " (bfloat16 is not native here)"))  # fmt: skip
    return Advice(hardware, accelerator, devices, strategy, need.precision, budget,
                  int(max_batch), workers, accumulate, notes)  # fmt: skip
