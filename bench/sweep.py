"""Sweep overhead and parallel trials, against named baselines in the same run.

    python bench/sweep.py [--trials 4] [--steps 60]

1. Per-trial overhead: ``plait train -m optimizer.lr=a,b,c,d`` (Plait's sweeper, trials in
   one process, a study and a report) against the same trials as separate ``plait train``
   commands, one after the other (baseline). Ratio: sweep wall / separate walls (<= 1.05
   is the bar).
2. Parallel trials: two trials through hydra-joblib-launcher (``n_jobs=2``, one torch thread
   each: Plait gives each trial its share of the cores) against the same two trials one
   after the other with one thread each (baseline). Ratio: throughput of the parallel pair /
   throughput of the sequential pair.

Both on the default recipe's data (the Python standard library) with a small GPT, the data
cache warmed first, every configuration a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIT = [sys.executable, "-m", "framework", "train"]
LRS = ["0.003", "0.002", "0.001", "0.0005", "0.0003", "0.0002"]


def trial_args(steps: int) -> list[str]:
    """One trial's settings: a small GPT on a slice of the default recipe's data."""
    return [
        "model=gpt_tiny", "data.source.max_chars=400000", "data.tokenizer.vocab_size=512",
        "data.max_length=64", "trainer.batch_size=16", f"trainer.max_steps={steps}",
        f"trainer.val_every={max(1, steps // 2)}", f"trainer.ckpt_every={steps}",
        "trainer.val_batches=4", "samples.max_new_tokens=8", "eval=false",
    ]  # fmt: skip


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one command (it must succeed)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=4, help="trials of the overhead comparison")
    p.add_argument("--steps", type=int, default=60, help="training steps per trial")
    p.add_argument("--out", type=Path, default=Path("bench/results/sweep.json"))
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="plait-bench-sweep-"))
    env = {**os.environ, "PLAIT_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
    base = trial_args(args.steps)
    lrs = LRS[: args.trials]
    timed([*PLAIT, *base, "hydra.run.dir=warm"], work, env)  # data cache filled

    separate = sum(
        timed([*PLAIT, *base, f"optimizer.lr={lr}", f"hydra.run.dir=sep{i}"], work, env)
        for i, lr in enumerate(lrs)
    )
    sweep = timed([*PLAIT, "-m", *base, f"optimizer.lr={','.join(lrs)}",
                   "hydra.sweep.dir=sweep"], work, env)  # fmt: skip

    one_thread = [*base, "hardware.threads=1"]
    sequential = sum(
        timed([*PLAIT, *one_thread, f"optimizer.lr={lr}", f"hydra.run.dir=seq{i}"], work, env)
        for i, lr in enumerate(lrs[:2])
    )
    parallel = timed([*PLAIT, "-m", *base, f"optimizer.lr={','.join(lrs[:2])}",
                      "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                      "hydra.sweep.dir=par"], work, env)  # fmt: skip

    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "trials": len(lrs),
        "steps": args.steps,
        "separate_commands_s": round(separate, 1),
        "sweep_s": round(sweep, 1),
        "ratio_sweep_over_separate": round(sweep / separate, 3),
        "per_trial_s": {
            "separate": round(separate / len(lrs), 2),
            "sweep": round(sweep / len(lrs), 2),
        },
        "two_sequential_one_thread_s": round(sequential, 1),
        "two_parallel_joblib_s": round(parallel, 1),
        "throughput_ratio_parallel_over_sequential": round(sequential / parallel, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
