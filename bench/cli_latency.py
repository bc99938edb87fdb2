"""CLI latency: ``plait --help``, ``plait list`` and ``plait show`` against bare Python start-up.

    python bench/cli_latency.py [--repeat 5]

Each command runs ``--repeat`` times in a fresh process; the median wall time is reported,
with the ratio to ``python -c pass`` (the floor any Python CLI pays) measured in the same run.
``import torch`` is timed too: it is the floor of ``plait show``, which builds the model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "plait --help": [sys.executable, "-m", "framework", "--help"],
    "plait list": [sys.executable, "-m", "framework", "list"],
    "plait show": [sys.executable, "-m", "framework", "show"],
}


def median_time(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path("bench/results/cli_latency.json"))
    args = p.parse_args()
    results = {name: median_time(cmd, args.repeat) for name, cmd in COMMANDS.items()}
    base = results["python -c pass (baseline)"]
    for name, t in results.items():
        print(f"{name:28s} {t:6.3f} s   x{t / base:5.1f} of bare python")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
