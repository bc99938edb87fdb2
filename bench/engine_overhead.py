"""Engine overhead: Plait's engine against a hand-written PyTorch loop.

Same GPT (6 layers, width 256, ~5.8M parameters, block 128), same packed data (CPython
stdlib, byte-level BPE 4096), same AdamW + cosine schedule, clipping and seed, same batch
size and thread count. Each run is a fresh process, in the order raw, engine, engine, raw
(so that drift of the machine cancels out), all in one invocation on the same machine;
``--pairs N`` runs N such pairs, alternating which goes first.

    python bench/engine_overhead.py [--steps 300] [--pairs 2] [--quick] [--raw-keeps-memory]

Prints steady-state steps/s (steps 50..N, after warm-up) and the whole-run wall time (the
whole process: imports, data, tokenizer, model, loop; validation, checkpoints and samples
off in both; the engine's closing validation of a run that never validated is one batch) of
each run, and the ratios engine / raw loop. ``--quick`` is a smoke mode
(40 steps). The engine keeps the memory a step frees (``trainer.keep_freed_memory``, glibc's
``mallopt``); the raw loop runs with glibc's defaults, as a hand-written loop does, unless
``--raw-keeps-memory`` gives it the same setting (the engine's own overhead alone). The
engine's process starts with Python's garbage collector paused until its first step, as
``plait train`` does (``framework/collector.py``); the raw loop runs with Python's defaults.
The engine's AdamW takes torch's fused update where torch has it (``optimizer.fused=null``,
Plait's default: on a CPU 4x faster than torch's default per-tensor loop); the raw loop
takes torch's default, as a hand-written loop does, unless ``--override
optimizer.fused=true`` gives both sides the fused update (the engine's own overhead alone).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OVERRIDES = [
    "recipe=stdlib_gpt",
    "model=gpt_small",
    "model.n_layer=6",
    "data.source.max_chars=3000000",
    "trainer.batch_size=8",
    "data.max_length=128",
    "trainer.log_every=50",
    "callback=[step_timer]",
    "logger=[]",
    "trainer.val_at_start=false",
    "trainer.val_batches=1",  # the one validation batch a run that never validated ends with
    "eval=false",  # the raw loop evaluates nothing either
    "data.cache=false",  # both sides prepare their data in every run
]


class StepTimes:
    """Wall-clock time at the end of every optimizer step."""

    def __init__(self) -> None:
        self.times: list[float] = []

    @staticmethod
    def rate_of(times: list[float], skip: int) -> float:
        """Steps per second after the first ``skip`` steps."""
        t = times[skip:]
        return (len(t) - 1) / (t[-1] - t[0])


def step_timer_component(times: StepTimes) -> Any:
    """A callback builder recording into ``times``; Lightning is imported only when built."""

    def step_timer() -> Any:
        """Records the time of every training step (benchmark only)."""
        import lightning as L

        class StepTimer(L.Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
                times.times.append(time.perf_counter())

        return StepTimer()

    return step_timer


def run_engine(cfg: Any, registry: Any, run_dir: Path, times: StepTimes) -> float:
    from framework.engine import train

    start = time.perf_counter()
    train(cfg, registry, run_dir)
    return time.perf_counter() - start


def run_raw(cfg: Any, registry: Any, data: Any, times: StepTimes) -> float:
    """The baseline: the loop a PyTorch user would write by hand."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, RandomSampler

    from framework.finetune.param_groups import param_groups
    from framework.training.schedulers import cosine

    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = registry.build("model", cfg.model, info=data.info)
    model.train()
    opt = torch.optim.AdamW(
        param_groups(model),
        lr=cfg.optimizer.lr,
        betas=tuple(cfg.optimizer.betas),
        eps=cfg.optimizer.eps,
        weight_decay=cfg.optimizer.weight_decay,
        fused=cfg.optimizer.fused or None,  # null (Plait's default): torch's default, a loop
    )
    sched = cosine(
        cfg.scheduler.warmup_steps,
        cfg.scheduler.min_lr_ratio,
        optimizer=opt,
        total_steps=cfg.trainer.max_steps,
    )
    g = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        data.datasets["train"],
        batch_size=cfg.trainer.batch_size,
        sampler=RandomSampler(data.datasets["train"], generator=g),
        drop_last=True,
    )
    step = 0
    while step < cfg.trainer.max_steps:
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.trainer.grad_clip)
            opt.step()
            sched.step()
            times.times.append(time.perf_counter())
            step += 1
            if step == cfg.trainer.max_steps:
                break
    return time.perf_counter() - start


def measure(variant: str, steps: int, extra: Sequence[str] = ()) -> dict[str, Any]:
    """One run of ``variant`` (raw or engine) in this process: step times and wall time."""
    import torch

    from framework.config.compose import compose
    from framework.data.stage import prepare_data
    from framework.registry import default_registry

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    registry = default_registry()
    times = StepTimes()
    registry.load_provider(
        "bench", lambda r: r.add("callback", "step_timer", step_timer_component(times))
    )
    cfg = compose(
        registry,
        [
            *OVERRIDES,
            f"trainer.max_steps={steps}",
            f"trainer.val_every={steps * 10}",
            f"trainer.ckpt_every={steps * 10}",
            "samples.prompts=[]",
            *extra,
        ],
    )
    if variant in ("raw", "raw_kept"):
        if variant == "raw_kept":
            from framework.training.allocator import keep_freed_memory

            keep_freed_memory()
        data = prepare_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed)
        wall = run_raw(cfg, registry, data, times)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            wall = run_engine(cfg, registry, Path(tmp) / "run", times)
    return {"times": times.times, "wall": wall, "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--quick", action="store_true", help="smoke mode: 40 steps")
    p.add_argument(
        "--pairs",
        type=int,
        default=2,
        help="raw/engine pairs, in alternating order (2: raw, engine, engine, raw)",
    )
    p.add_argument(
        "--raw-keeps-memory",
        action="store_true",
        help="the raw loop keeps freed memory as the engine does (trainer.keep_freed_memory)",
    )
    p.add_argument(
        "--override",
        action="append",
        default=[],
        help="a config override for both sides (the raw loop reads only model, data, "
        "optimizer and scheduler), e.g. trainer.keep_freed_memory=false; repeatable",
    )
    p.add_argument("--variant", choices=["raw", "raw_kept", "engine"], help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=Path("bench/results/engine_overhead.json"))
    args = p.parse_args()
    steps = 40 if args.quick else args.steps
    skip = 10 if args.quick else 50
    if args.variant:  # child process: one run, JSON on the last line of stdout
        if args.variant == "engine":  # as `plait train` starts, before torch is imported
            from framework import collector

            collector.pause(own_process=True)
        print(json.dumps(measure(args.variant, steps, args.override)))
        return

    child = {"raw": "raw_kept" if args.raw_keeps_memory else "raw", "engine": "engine"}
    runs: dict[str, list[dict[str, Any]]] = {"raw": [], "engine": []}
    order = [v for k in range(args.pairs) for v in (("raw", "engine"), ("engine", "raw"))[k % 2]]
    for variant in order:
        start = time.perf_counter()
        out = (
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    child[variant],
                    "--steps",
                    str(steps),
                    *(f"--override={o}" for o in args.override),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        run = json.loads(out)
        run["process_wall"] = time.perf_counter() - start
        run["rate"] = StepTimes.rate_of(run["times"], skip)
        runs[variant].append(run)
        print(f"{variant:6s} {run['rate']:.3f} steps/s, process {run['process_wall']:.1f} s")

    def mean(key: str, variant: str) -> float:
        return sum(r[key] for r in runs[variant]) / len(runs[variant])

    result = {
        "model": "gpt 6x256, 5.8M parameters, block 128, batch 8",
        "steps": steps,
        "torch_threads": runs["raw"][0]["threads"],
        "raw_keeps_freed_memory": args.raw_keeps_memory,
        "overrides": args.override,
        "raw_steps_per_s": [round(r["rate"], 3) for r in runs["raw"]],
        "engine_steps_per_s": [round(r["rate"], 3) for r in runs["engine"]],
        "steady_ratio": round(mean("rate", "engine") / mean("rate", "raw"), 3),
        "steady_pair_ratios": sorted(
            round(e["rate"] / r["rate"], 3) for e, r in zip(runs["engine"], runs["raw"])
        ),
        "raw_process_s": [round(r["process_wall"], 1) for r in runs["raw"]],
        "engine_process_s": [round(r["process_wall"], 1) for r in runs["engine"]],
        "wall_ratio": round(mean("process_wall", "engine") / mean("process_wall", "raw"), 3),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
