"""Engine overhead: Plait's engine against a hand-written PyTorch loop.

Same GPT (6 layers, width 256, ~5.8M parameters, block 128), same packed data (CPython
stdlib, byte-level BPE 4096), same AdamW + cosine schedule, clipping and seed, same batch
size and thread count. Both run in this process, one after the other (raw, engine, raw), so
the ratio is measured on the same machine in the same run.

    python bench/engine_overhead.py [--steps 300] [--quick]

Prints steady-state steps/s (steps 50..N, after warm-up) and the whole-run wall time of
each, and their ratios (engine / raw loop). ``--quick`` is a smoke mode (40 steps).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from framework.config.compose import compose
from framework.data.pipeline import build_data
from framework.registry import default_registry

OVERRIDES = [
    "recipe=stdlib_gpt",
    "model=gpt_small",
    "model.n_layer=6",
    "data.source.max_chars=3000000",
    "trainer.batch_size=16",
    "data.max_length=128",
    "trainer.log_every=50",
    "callback=[step_timer]",
    "logger=[]",
]


class StepTimes:
    """Wall-clock time at the end of every optimizer step."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def steady_rate(self, skip: int) -> float:
        t = self.times[skip:]
        return (len(t) - 1) / (t[-1] - t[0])


def step_timer_component(times: StepTimes) -> Any:
    import lightning as L

    class StepTimer(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            times.times.append(time.perf_counter())

    def step_timer() -> Any:
        """Records the time of every training step (benchmark only)."""
        return StepTimer()

    return step_timer


def run_engine(cfg: Any, registry: Any, run_dir: Path, times: StepTimes) -> float:
    from framework.engine import train

    start = time.perf_counter()
    train(cfg, registry, run_dir)
    return time.perf_counter() - start


def run_raw(cfg: Any, registry: Any, data: Any, times: StepTimes) -> float:
    """The baseline: the loop a PyTorch user would write by hand."""
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, RandomSampler

    from framework.training.module import param_groups
    from framework.training.optim import cosine

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--quick", action="store_true", help="smoke mode: 40 steps")
    p.add_argument("--out", type=Path, default=Path("bench/results/engine_overhead.json"))
    args = p.parse_args()
    steps = 40 if args.quick else args.steps
    skip = 10 if args.quick else 50

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    registry = default_registry()
    engine_times = StepTimes()
    registry.load_provider(
        "bench", lambda r: r.add("callback", "step_timer", step_timer_component(engine_times))
    )
    cfg = compose(
        registry,
        [
            *OVERRIDES,
            f"trainer.max_steps={steps}",
            f"trainer.val_every={steps * 10}",
            f"trainer.ckpt_every={steps * 10}",
            "samples.prompts=[]",
        ],
    )
    data = build_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed, None)
    n_params = sum(
        p.numel() for p in registry.build("model", cfg.model, info=data.info).parameters()
    )
    print(
        f"model: {n_params / 1e6:.2f}M parameters, block {data.info.max_length}, "
        f"batch {cfg.trainer.batch_size}, {steps} steps, torch threads {torch.get_num_threads()}"
    )

    raw_a, raw_b = StepTimes(), StepTimes()
    wall_raw_a = run_raw(cfg, registry, data, raw_a)
    with tempfile.TemporaryDirectory() as tmp:
        wall_engine = run_engine(cfg, registry, Path(tmp) / "run", engine_times)
    wall_raw_b = run_raw(cfg, registry, data, raw_b)

    raw_rate = (raw_a.steady_rate(skip) + raw_b.steady_rate(skip)) / 2
    engine_rate = engine_times.steady_rate(skip)
    raw_wall = (wall_raw_a + wall_raw_b) / 2
    result = {
        "params_m": round(n_params / 1e6, 2),
        "steps": steps,
        "raw_steps_per_s": [round(raw_a.steady_rate(skip), 3), round(raw_b.steady_rate(skip), 3)],
        "engine_steps_per_s": round(engine_rate, 3),
        "steady_ratio": round(engine_rate / raw_rate, 3),
        "raw_wall_s": [round(wall_raw_a, 1), round(wall_raw_b, 1)],
        "engine_wall_s": round(wall_engine, 1),
        "wall_ratio": round(wall_engine / raw_wall, 3),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
