"""The data stage on the local engine against Ray with one and two worker nodes, on GCIDE and
on 10x GCIDE (`apt-get install -y dict-gcide`), in one run on one machine: documents per
second, peak memory (the driver, and every Ray process together, sampled), and how the cost
grows from 1x to 10x.

The recipe: normalize, exact dedupe, MinHash near-dedupe (rensa signatures), whitespace
cleaning, a byte-level BPE of 8,192 trained on the first 20 M characters of the training
split, token shards. 10x GCIDE is ten copies of every entry, so exact dedupe removes nine in
ten: the stage does ten times the reading, hashing and shuffling for the same kept records.
Each configuration runs in a fresh process with an empty cache; Ray nodes are
``ray.cluster_utils.Cluster`` nodes of one CPU each on this machine (this machine has two).

    python bench/ray_data.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = r"""
import json, os, resource, sys, threading, time
import psutil
engine, nodes, repeat, max_chars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
peak = [0]
def watch():
    me = psutil.Process()
    while True:
        total = me.memory_info().rss
        for p in psutil.process_iter(["cmdline"]):
            cmd = " ".join(p.info["cmdline"] or [])
            if p.pid != me.pid and ("ray::" in cmd or "raylet" in cmd or "gcs_server" in cmd
                                    or "default_worker" in cmd):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        peak[0] = max(peak[0], total)
        time.sleep(0.5)
threading.Thread(target=watch, daemon=True).start()
if engine == "ray":
    import ray
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(nodes):
        c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False, logging_level="ERROR")
from omegaconf import OmegaConf
from framework.data.stage import DataStage
from framework.registry import default_registry
from framework.tasks.causal_lm import causal_lm
cfg = OmegaConf.create({
    "source": {"_name_": "gcide", "repeat": repeat,
               "max_chars": None if max_chars == "none" else int(max_chars)},
    "curate": {"normalize": {"_name_": "normalize"}, "dedupe_exact": {"_name_": "dedupe_exact"},
               "dedupe_minhash": {"_name_": "dedupe_minhash"}},
    "clean": {"whitespace": {"_name_": "whitespace"}},
    "tokenizer": {"_name_": "bpe", "vocab_size": 8192}, "split": {"_name_": "random", "val": 0.01},
    "balance": None, "max_length": 128, "num_proc": 1, "cache": True, "streaming": False,
    "tokenizer_max_chars": 20_000_000,
    "engine": {"name": engine, "address": None, "num_cpus": None, "object_store_mb": None,
               "cpus_per_task": 1.0, "block_rows": 20000, "shard_rows": 50000},
})
t0 = time.perf_counter()
tables = DataStage(cfg, causal_lm(), default_registry(), seed=1).tables()
seconds = time.perf_counter() - t0
time.sleep(0.6)
docs = tables.report.steps[0].rows_out
ids = [s.with_format("arrow")["input_ids"] for s in tables.splits.values()]
import pyarrow.compute as pc
tokens = sum(pc.sum(pc.list_value_length(c)).as_py() for c in ids)
kept = sum(len(s) for s in tables.splits.values())
print(json.dumps({"seconds": seconds, "docs": docs, "kept": kept,
                  "tokens": tokens, "peak_mb": peak[0] / 2**20,
                  "driver_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
      flush=True)
if engine == "ray":
    ray.shutdown()
    c.shutdown()
os._exit(0)  # Ray's teardown messages are not the benchmark's
"""


def run(engine: str, nodes: int, repeat: int, max_chars: str) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PLAIT_CACHE": cache, "RAY_DEDUP_LOGS": "0"}
        out = subprocess.run([sys.executable, "-c", RUN, engine, str(nodes), str(repeat),
                              max_chars], env=env, capture_output=True, text=True,
                             timeout=3000)  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a 2 M-character slice (smoke mode)")
    args = ap.parse_args()
    max_chars = "2000000" if args.quick else "none"
    configs = [("local", 0), ("ray", 1), ("ray", 2)]
    results = []
    for repeat in (1, 10):
        for engine, nodes in configs:
            r = run(engine, nodes, repeat, max_chars)
            r.update(engine=engine, nodes=nodes, repeat=repeat,
                     docs_per_s=r["docs"] / r["seconds"])  # fmt: skip
            results.append(r)
            print(f"{repeat:>2}x GCIDE {engine:5} nodes={nodes}: {r['docs']:>9,} docs in "
                  f"{r['seconds']:7.1f} s = {r['docs_per_s']:>8,.0f} docs/s, kept {r['kept']:,}, "
                  f"{r['tokens']:,} tokens, peak {r['peak_mb']:,.0f} MB (driver "
                  f"{r['driver_mb']:,.0f} MB)", flush=True)  # fmt: skip
    for engine, nodes in configs:
        one, ten = (next(r for r in results if (r["engine"], r["nodes"], r["repeat"]) ==
                         (engine, nodes, k)) for k in (1, 10))  # fmt: skip
        print(
            f"{engine} nodes={nodes}: 10x / 1x time {ten['seconds'] / one['seconds']:.2f}, "
            f"memory {ten['peak_mb'] / one['peak_mb']:.2f}"
        )
    same = {(r["repeat"], r["kept"], r["tokens"]) for r in results}
    print("every engine kept the same records and tokens:", len(same) == 2)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "ray_data.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
