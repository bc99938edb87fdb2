"""CLI latency: ``plait --help``, ``plait list`` and ``plait show`` against bare Python start-up
and ``import torch``.

    python bench/cli_latency.py [--repeat 5]

Each command runs ``--repeat`` times in a fresh process; the median wall time is reported,
with the ratio to ``python -c pass`` (the floor any Python CLI pays) and to
``python -c 'import torch'`` measured in the same run. ``plait show`` runs with a warm data
cache (a first run fills it, in a temporary ``PLAIT_CACHE``) in two states: the model
measured before (its facts cached: the usual case) and measured afresh (the facts cache
emptied before each run: the model is built and its FLOPs counted).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIT = [sys.executable, "-m", "framework"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "plait --help": [*PLAIT, "--help"],
    "plait list": [*PLAIT, "list"],
    "plait show": [*PLAIT, "show"],
    "plait show, model measured afresh": [*PLAIT, "show"],
}


def median_time(cmd: list[str], repeat: int, env: dict[str, str], before=None) -> float:
    """Median wall time of ``repeat`` fresh runs of ``cmd`` (``before`` runs untimed first)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path("bench/results/cli_latency.json"))
    args = p.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="plait-bench-"))
    env = {**os.environ, "PLAIT_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    subprocess.run(COMMANDS["plait show"], check=True, capture_output=True, env=env)  # warm

    def forget_model() -> None:
        shutil.rmtree(cache / "model_facts", ignore_errors=True)

    results = {}
    try:
        for name, cmd in COMMANDS.items():
            before = forget_model if name.endswith("afresh") else None
            results[name] = median_time(cmd, args.repeat, env, before)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    base, torch = results["python -c pass (baseline)"], results["python -c 'import torch'"]
    for name, t in results.items():
        print(f"{name:36s} {t:6.3f} s   x{t / base:5.1f} of bare python   "
              f"x{t / torch:4.2f} of import torch")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
