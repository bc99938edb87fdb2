"""Fine-tuning speed: full fine-tuning against the cheaper policies, in one invocation on the
same machine, each run a fresh ``plait train`` process.

    python bench/finetune.py [--part minilm|smollm2|all] [--steps 400] [--lora-steps 10]

``minilm``: all-MiniLM-L6-v2 on the tweets (recipe ``tweets_minilm``), macro-F1 on the
whole validation split (3,608 tweets) every 50 steps; reports the steps and the training seconds
(steps x the logged step time, validation left out on both sides) until val macro-F1 first
reaches 0.75, for full fine-tuning (float32, the baseline), full fine-tuning under bfloat16
autocast (only on a CPU with native bfloat16: emulated, it is 20x slower), and the recipe
``tweets_minilm_fast`` (embeddings and the first two blocks frozen, layer-wise decay,
``trainer.precision=auto``); the ratios full / each.

``smollm2``: SmolLM2-135M continuing pretraining on the Python docs (recipe
``docs_smollm2``): seconds per step (median of the logged steps after the first) and peak
resident memory of the process, full fine-tuning against LoRA (rank 8); the ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.75
"""Validation macro-F1 the tweets runs race to."""


PEAK = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: print('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF)"
    ".ru_maxrss, file=sys.stderr))\n"
    "sys.argv = ['plait', *sys.argv[1:]]\n"
    "runpy.run_module('framework', run_name='__main__')\n"
)
"""Runs ``plait`` and prints the process's peak resident memory at exit."""


def plait(args: list[str], cwd: Path) -> tuple[float, int]:
    """Run ``plait train ARGS`` in a fresh process; (wall seconds, peak RSS bytes)."""
    start = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", PEAK, "train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"plait train {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    peak = int(proc.stderr.rsplit("PEAK_KIB", 1)[1].split()[0]) * 1024
    return wall, peak


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def step_seconds(run: Path, batch: int) -> list[tuple[int, float]]:
    """(step, seconds per step) from the logged throughput."""
    out = []
    for r in rows(run):
        rate = r.get("train/samples_per_s") or r.get("train/tokens_per_s")
        if rate:
            per = batch if r.get("train/samples_per_s") else None
            out.append((int(r["step"]), (per or 1) / float(rate)))
    return out


def time_to_target(run: Path, batch: int) -> tuple[int | None, float | None]:
    """First step whose validation macro-F1 reaches TARGET, and the training seconds to it."""
    logged = [r for r in rows(run) if r.get("val/f1_macro")]
    scores = [(int(r["step"]), float(r["val/f1_macro"])) for r in logged]
    reached = next((step for step, f1 in scores if f1 >= TARGET), None)
    if reached is None:
        return None, None
    per = statistics.median(s for _, s in step_seconds(run, batch))
    return reached + 1, (reached + 1) * per


def minilm(work: Path, steps: int) -> dict[str, object]:
    common = [f"trainer.max_steps={steps}", "trainer.val_every=50", "trainer.val_batches=0",
              "trainer.ckpt_every=1000", "trainer.val_at_start=false", "trainer.log_every=10",
              "eval=false"]  # fmt: skip
    from framework.training.hardware import native_bf16

    policies = {"full fine-tuning": ["recipe=tweets_minilm"]}
    if native_bf16("cpu"):  # emulated bfloat16 is 20x slower: only where it is native
        policies["full fine-tuning, bf16 autocast"] = [
            "recipe=tweets_minilm",
            "trainer.precision=bf16-mixed",
        ]
    # embeddings and blocks 0-1 frozen, lr_decay 0.9, lr 2e-4, precision auto
    policies["tweets_minilm_fast"] = ["recipe=tweets_minilm_fast"]
    out: dict[str, object] = {}
    for i, (name, extra) in enumerate(policies.items()):
        run = work / f"minilm_{i}"
        wall, _ = plait([*extra, *common, f"hydra.run.dir={run}"], work)
        step, seconds = time_to_target(run, 32)
        out[name] = {"steps to target": step, "training s to target": seconds, "wall s": wall}
        print(f"{name:42s} steps to F1 {TARGET}: {step}  training s: {seconds}  wall: {wall:.0f}")
    full = out["full fine-tuning"]["training s to target"]  # type: ignore[index]
    for name in list(policies)[1:]:
        fast = out[name]["training s to target"]  # type: ignore[index]
        if full and fast:
            out[f"ratio full / ({name})"] = full / fast
            print(f"time to val macro-F1 {TARGET}: full / ({name}) = {full / fast:.2f}")
    return out


def smollm2(work: Path, steps: int) -> dict[str, object]:
    common = ["recipe=docs_smollm2", f"trainer.max_steps={steps}", "trainer.log_every=1",
              "trainer.val_every=1000", "trainer.ckpt_every=1000", "trainer.val_at_start=false",
              "samples.prompts=[]", "data.source.max_chars=200000", "eval=false"]  # fmt: skip
    out: dict[str, object] = {}
    for name, extra in {"full": [], "lora": ["freeze=[lora]", "optimizer.lr=3e-4"]}.items():
        run = work / f"smol_{name}"
        wall, peak = plait([*common, *extra, f"hydra.run.dir={run}"], work)
        tokens = [(s, t) for s, t in step_seconds(run, 1)][1:]
        per_step = statistics.median(t for _, t in tokens) * 4 * 128  # tokens_per_s -> s/step
        out[name] = {"s per step": per_step, "peak RSS GiB": peak / 2**30, "wall s": wall}
        print(f"SmolLM2 {name:5s} {per_step:6.2f} s/step  peak RSS {peak / 2**30:5.2f} GiB")
    full, lora = out["full"], out["lora"]
    out["ratio step time lora / full"] = lora["s per step"] / full["s per step"]  # type: ignore[index]
    out["ratio peak memory lora / full"] = lora["peak RSS GiB"] / full["peak RSS GiB"]  # type: ignore[index]
    print(f"LoRA / full: step time {out['ratio step time lora / full']:.2f}, "
          f"peak memory {out['ratio peak memory lora / full']:.2f}")  # fmt: skip
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("minilm", "smollm2", "all"), default="all")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--lora-steps", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("bench/results/finetune.json"))
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="plait-finetune-"))
    results: dict[str, object] = {}
    if args.part in ("minilm", "all"):
        results["minilm"] = minilm(work, args.steps)
    if args.part in ("smollm2", "all"):
        results["smollm2"] = smollm2(work, args.lora_steps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
