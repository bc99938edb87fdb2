"""Whole ``plait train`` runs of one recipe with and without some overrides, in one
invocation: each variant a fresh process, in the order A, B, ..., then again (drift of the
machine shows up as a spread, not a bias); the wall time of the whole process and the test
metrics from each run's ``results.json``.

    python bench/recipe_variants.py --recipe tweets_minilm_fast \\
        --variant base= --variant int8=trainer.quantize_frozen=true [--repeats 1] \\
        [--env ATEN_CPU_CAPABILITY=avx2] [--common trainer.precision=32-true]

``--variant NAME=OVERRIDES`` (space-separated overrides, empty for the recipe as it is);
``--code NAME=COMMIT``: run that variant with Plait (code and recipes) as it was at a git
commit, checked out into a temporary worktree (the recipe as an issue found it, against
the recipe now); ``--common``: overrides every variant gets; ``--env``: set for every run (e.g.
``ATEN_CPU_CAPABILITY=avx2``: torch's kernels limited to AVX2, as on a CPU without AVX-512);
``--first-runs``: each run starts with no frozen-prefix outputs cached (a cache of its own
that links the real one's data stage and models), as a recipe's first run does.
Prints one JSON line per run and a summary of medians with each variant's wall-time ratio to
the first variant; writes ``bench/results/recipe_variants.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def cpu_flags() -> list[str]:
    """The CPU flags that decide which matrix kernels run (Linux ``/proc/cpuinfo``)."""
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            have = set(line.split(":", 1)[1].split())
            return [f for f in wanted if f in have]
    return []


@contextlib.contextmanager
def worktrees(commits: dict[str, str]) -> Iterator[dict[str, str]]:
    """``{variant: commit}`` checked out into temporary git worktrees: ``{variant: folder}``,
    removed afterwards."""
    made: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, commit in commits.items():
                folder = str(Path(tmp) / name)
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", folder,
                                commit], check=True, capture_output=True)  # fmt: skip
                made[name] = folder
            yield made
        finally:
            for folder in made.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", folder],
                               capture_output=True)  # fmt: skip


def cache_without_prefix(folder: Path) -> dict[str, str]:
    """``PLAIT_CACHE`` for one run: a new cache in ``folder`` with every part of the real
    one linked in (data stage, models) except the frozen-prefix outputs."""
    from framework.paths import plait_cache

    real, root = plait_cache("prefix").parent, folder / "cache"
    root.mkdir()
    for part in real.iterdir() if real.is_dir() else []:
        if part.name != "prefix":
            (root / part.name).symlink_to(part)
    return {"PLAIT_CACHE": str(root)}


def one_run(
    recipe: str, overrides: list[str], env: dict[str, str], first_run: bool = False
) -> dict[str, Any]:
    """``plait train recipe=RECIPE OVERRIDES`` in a fresh process and folder (``first_run``:
    with no frozen-prefix outputs cached)."""
    with tempfile.TemporaryDirectory() as tmp:
        if first_run:
            env = {**env, **cache_without_prefix(Path(tmp))}
        start = time.perf_counter()
        command = [sys.executable, "-m", "framework", "train", f"recipe={recipe}"]
        command += [*overrides, "hydra.run.dir=run"]
        proc = subprocess.run(
            command, cwd=tmp, env={**os.environ, **env}, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        results = json.loads((Path(tmp) / "run" / "results.json").read_text())
    said = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines()
                 if "int8" in line or "frozen prefix" in line]  # fmt: skip
    return {"wall_s": round(wall, 1), "results": results, "log": said[:2]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipe", required=True)
    p.add_argument("--variant", action="append", required=True, help="NAME=OVERRIDES")
    p.add_argument("--code", action="append", default=[], help="NAME=COMMIT: that variant's code")
    p.add_argument("--common", default="", help="overrides every variant gets")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for every run")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--first-runs", action="store_true", help="no frozen-prefix outputs cached")
    p.add_argument("--out", type=Path, default=Path("bench/results/recipe_variants.json"))
    args = p.parse_args()
    env = dict(e.split("=", 1) for e in args.env)
    variants = {v.split("=", 1)[0]: v.split("=", 1)[1].split() for v in args.variant}
    commits = dict(c.split("=", 1) for c in args.code)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with worktrees(commits) as code:
        for _ in range(args.repeats):
            for name, overrides in variants.items():
                # a worktree's own package first on the path, ahead of the installed one
                where = {"PYTHONPATH": code[name]} if name in code else {}
                run = one_run(args.recipe, [*args.common.split(), *overrides], {**env, **where},
                              args.first_runs)  # fmt: skip
                runs[name].append(run)
                print(json.dumps({"variant": name, **run}), flush=True)
    first = next(iter(variants))
    base = statistics.median(r["wall_s"] for r in runs[first])
    summary = {
        "recipe": args.recipe,
        "common": args.common,
        "env": env,
        "first_runs": args.first_runs,
        "cpu_flags": cpu_flags(),
        "variants": {
            name: {
                "overrides": variants[name],
                "code": commits.get(name, "this checkout"),
                "wall_s": [r["wall_s"] for r in rs],
                "wall_ratio": round(statistics.median(r["wall_s"] for r in rs) / base, 3),
                "test": {
                    k: [r["results"].get(k) for r in rs]
                    for k in rs[0]["results"]
                    if k.startswith("test/")
                },
            }
            for name, rs in runs.items()
        },
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
