"""torch threads beside other work: the MiniLM fine-tuning recipe (``tweets_minilm_fast``, 30
steps) alone and beside a second busy process (one Python loop spinning on a core), with
torch's default thread count (one per core: the baseline, ``hardware.threads=<cores>``) and
with Plait's choice (``hardware.threads=null``: the usable CPUs less the busy ones), in one
invocation on the same machine. Reports examples per second (the logged
``train/samples_per_s``, median after the first log) and the ratio beside / alone.

    python bench/threads.py [--steps 30] [--precision 32-true]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def samples_per_s(run: Path) -> float:
    """Median logged ``train/samples_per_s`` after the first logged value."""
    with open(run / "metrics.csv", newline="") as fh:
        values = [float(r["train/samples_per_s"]) for r in csv.DictReader(fh)
                  if r.get("train/samples_per_s")]  # fmt: skip
    return statistics.median(values[1:] or values)


def train(threads: str, steps: int, work: Path, name: str, precision: str = "auto") -> Path:
    """One short ``plait train`` of the recipe in a fresh process; its run dir."""
    args = ["recipe=tweets_minilm_fast", f"trainer.max_steps={steps}", "trainer.log_every=5",
            f"trainer.val_every={steps}", "trainer.val_batches=1", "eval=false",
            f"hardware.threads={threads}", f"hydra.run.dir={name}",
            f"trainer.precision={precision}"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "framework", "train", *args], cwd=work,
                          env=env, capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"plait train failed:\n{proc.stderr[-3000:]}")
    return work / name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--precision", default="auto",
                        help="the recipe's (auto: bfloat16 where native) or 32-true")  # fmt: skip
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="plait-bench-threads-"))
    train("null", 5, work, "warm")  # the data cache and the model's files, once
    results = {}
    for label, threads in (("torch default", str(cores)), ("plait", "null")):
        name = label.replace(" ", "_")
        alone = samples_per_s(train(threads, args.steps, work, f"{name}-alone", args.precision))
        spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            run = train(threads, args.steps, work, f"{name}-beside", args.precision)
        finally:
            spin.kill()
        beside = samples_per_s(run)
        results[label] = (alone, beside)
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = {f for f in cpuinfo.split() if f.startswith(("avx512_bf16", "avx512f", "avx2", "amx"))}
    print(f"{cores} CPUs ({', '.join(sorted(flags)) or 'no AVX'}); tweets_minilm_fast, "
          f"{args.steps} steps, precision {args.precision}, examples per second:")  # fmt: skip
    for label, (alone, beside) in results.items():
        print(f"  {label:14s} alone {alone:6.1f}  beside a busy process {beside:6.1f}  "
              f"ratio {beside / alone:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
