"""Plait's fastText-style recipe against the fastText library, on the same split, in one run.

The recipe's data stage runs (or comes from the cache) so that both train on exactly the
records of its train split and are scored on its test split. The library (``fasttext-numpy2``,
``pip install fasttext-numpy2``) trains on the same texts, shuffled once (the split is grouped
by class and fastText reads its file in order every epoch: unshuffled, it scores 0.61-0.66),
with the recipe's n-grams (word bigrams, character 3-5-grams) and its own defaults otherwise
(25 epochs, dim 100, lr 0.1), ``thread`` = the usable cores; Plait runs
``plait train recipe=tweets_fasttext`` in a fresh process. Order: library, Plait, library,
Plait (drift of the machine shows up as a spread, not a bias).

    python bench/fasttext_library.py [--recipe tweets_fasttext] [--repeats 2] [OVERRIDE ...]

Reports, per run: test macro-F1, wall time (library: ``train_supervised`` + prediction of
the test split; Plait: the whole ``plait train`` process, data stage from the cache, test
evaluation and report included), and training examples per
second (library: epochs x train records / training time; Plait: what its log measured). The
ratios compare the medians: Plait's whole wall time / the library's, Plait's examples per
second / the library's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def recipe_split(recipe: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Texts and labels of the recipe's train and test splits (its own data stage)."""
    from framework.config.compose import compose
    from framework.data.stage import data_tables
    from framework.records import LABEL, TEXT, column
    from framework.registry import default_registry

    registry = default_registry()
    cfg = compose(registry, [f"recipe={recipe}"])
    task = registry.build("task", cfg.task)
    stage = data_tables(cfg.data, task, registry, cfg.seed)
    train, test = stage.splits["train"], stage.splits["test"]
    names = stage.labels

    def labels(ds: Any) -> list[str]:
        return [str(names[y]) if names else str(y) for y in column(ds, LABEL)]

    return column(train, TEXT), labels(train), column(test, TEXT), labels(test)


def library(train: tuple[list[str], list[str]], test: tuple[list[str], list[str]],
            work: Path, threads: int) -> dict[str, float]:  # fmt: skip
    """The fastText library on the split: macro-F1, wall time, examples per second."""
    import fasttext
    from sklearn.metrics import f1_score

    path = work / "train.txt"
    order = list(range(len(train[0])))
    random.Random(0).shuffle(order)
    with open(path, "w") as fh:
        for i in order:
            fh.write(f"__label__{train[1][i]} {' '.join(train[0][i].split())}\n")
    epochs = 25
    started = time.perf_counter()
    model = fasttext.train_supervised(str(path), epoch=epochs, wordNgrams=2, minn=3, maxn=5,
                                      thread=threads, verbose=0)  # fmt: skip
    trained = time.perf_counter() - started
    labels, _ = model.predict([" ".join(t.split()) for t in test[0]])
    wall = time.perf_counter() - started
    pred = [ls[0].removeprefix("__label__") for ls in labels]
    return {
        "f1_macro": float(f1_score(test[1], pred, average="macro")),
        "wall_s": wall,
        "train_s": trained,
        "examples_per_s": epochs * len(train[0]) / trained,
    }


def plait(recipe: str, overrides: list[str], work: Path, name: str) -> dict[str, float]:
    """One ``plait train`` of the recipe in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "framework", "train", f"recipe={recipe}", *overrides,
         f"hydra.run.dir={name}"],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"plait train failed:\n{proc.stderr[-3000:]}")
    run = work / name
    results = json.loads((run / "results.json").read_text())
    with open(run / "metrics.csv", newline="") as fh:
        rates = [float(r["train/samples_per_s"]) for r in csv.DictReader(fh)
                 if r.get("train/samples_per_s")]  # fmt: skip
    return {
        "f1_macro": float(results["test/f1_macro"]),
        "wall_s": wall,
        "examples_per_s": statistics.median(rates[1:] or rates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tweets_fasttext")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("overrides", nargs="*", help="more overrides of the Plait run")
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="plait-bench-fasttext-"))
    train_texts, train_labels, test_texts, test_labels = recipe_split(args.recipe)
    print(f"split: {len(train_texts):,} train, {len(test_texts):,} test; {threads} threads")
    runs: dict[str, list[dict[str, float]]] = {"library": [], "plait": []}
    for i in range(args.repeats):
        lib = library((train_texts, train_labels), (test_texts, test_labels), work, threads)
        runs["library"].append(lib)
        runs["plait"].append(plait(args.recipe, args.overrides, work, f"run{i}"))
        for side in runs:
            r = runs[side][-1]
            print(f"{side:8} f1_macro {r['f1_macro']:.4f}  wall {r['wall_s']:6.1f} s  "
                  f"{r['examples_per_s']:9,.0f} examples/s")  # fmt: skip
    med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for side, rs in runs.items()}  # fmt: skip
    summary = {
        "machine_cores": threads,
        "library": med["library"],
        "plait": med["plait"],
        "wall_ratio_plait_over_library": med["plait"]["wall_s"] / med["library"]["wall_s"],
        "examples_per_s_ratio_plait_over_library": (
            med["plait"]["examples_per_s"] / med["library"]["examples_per_s"]
        ),
        "f1_macro_gap_plait_minus_library": med["plait"]["f1_macro"] - med["library"]["f1_macro"],
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
