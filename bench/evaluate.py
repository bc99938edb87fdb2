"""Evaluation speed: ``plait eval`` on the tweets' test split against the raw forward pass
over the same batches, in one invocation on the same machine.

    python bench/evaluate.py [--steps 100] [--repeats 3]

Trains a small classifier once (recipe ``tweets_textcnn``, ``--steps`` steps: the speed of a
forward pass does not depend on how well it was trained), then measures:

- the whole ``plait eval run=DIR`` command in a fresh process (start-up, data stage from the
  cache, scoring, analysis, charts, report), against the bar of 20 s;
- Plait's scoring (``predict_records``: collation, forward passes, outputs gathered in record
  order) against the raw loop ``model(x, lengths=...)`` over the same pre-collated batches
  under ``torch.inference_mode``: the ratio raw / Plait (best of ``--repeats`` each), bar 0.8;
- the model's share of the command (the seconds ``eval.json`` says the forward passes took,
  over the command's wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def plait(args: list[str], cwd: Path) -> float:
    """Run ``plait ARGS`` in a fresh process; its wall seconds."""
    start = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "framework", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"plait {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def scoring(run: Path, repeats: int) -> dict[str, float]:
    """Raw forward loop against Plait's scoring, on the same model and batches."""
    import torch

    from framework.evaluate.inference import predict_records
    from framework.evaluate.loading import load_model
    from framework.evaluate.records import prepared, run_split, tokenized
    from framework.registry import default_registry
    from framework.training.batch_order import eval_batches

    m, _ = load_model(str(run), None)
    evalset = run_split(m.cfg, m.task, default_registry(), "test", m.info.labels)
    ds = tokenized(evalset.records, m.tokenizer, False, m.info.max_length)
    data = prepared(m.task, ds, m.tokenizer, m.info)
    batches = [m.task.collate([data[i] for i in idx])
               for idx in eval_batches(data.lengths(), 64, seed=0)]  # fmt: skip

    def raw() -> float:
        t0 = time.perf_counter()
        with torch.inference_mode():
            for x, lengths, _ in batches:
                m.model(x, lengths=lengths)
        return time.perf_counter() - t0

    def ours() -> float:
        return predict_records(m.model, m.task, data, 64).seconds

    raw(), ours()  # warm-up
    best_raw = min(raw() for _ in range(repeats))
    best_ours = min(ours() for _ in range(repeats))
    return {"records": len(data), "raw forward s": best_raw, "plait scoring s": best_ours,
            "ratio raw / plait": best_raw / best_ours}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("bench/results/evaluate.json"))
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="plait-eval-bench-"))
    plait(["train", "recipe=tweets_textcnn", f"trainer.max_steps={args.steps}",
           "trainer.val_every=50", "trainer.ckpt_every=50", "eval=false"], work)  # fmt: skip
    run = next((work / "runs" / "tweets_textcnn").iterdir())
    plait(["eval", f"run={run}"], work)  # the first call fills the OS file cache
    walls = [plait(["eval", f"run={run}"], work) for _ in range(args.repeats)]
    doc = json.loads((run / "eval" / "eval.json").read_text("utf-8"))
    wall = min(walls)
    result = {
        "plait eval wall s": wall,
        "eval.json seconds": doc["seconds"],
        "model share of the command": doc["seconds"]["model"] / wall,
        **scoring(run, args.repeats),
    }
    for key, value in result.items():
        print(f"{key:32s} {value if not isinstance(value, float) else round(value, 3)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
