"""Exploratory analysis time against the data stage it analyses, on the same machine in the
same invocation.

For each data set the data stage runs uncached (``data.cache=false``: source, curation,
cleaning, split, tokenizer training, tokenization), then ``plait eda``'s analysis and report
(statistics, MinHash near duplicates and leakage, charts, HTML) runs on its output:

- the tweets: ``recipe=tweets_sentiment`` (38,158 tweets);
- the GCIDE dictionary: the default causal-LM recipe on ``data/source=gcide`` (40 MB).

    python bench/eda.py

Prints seconds for each and the ratio analysis / data stage.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from framework.config.compose import compose
from framework.data.stage import data_tables
from framework.eda.run import run_eda
from framework.registry import default_registry

CASES = {
    "tweets (38k tweets)": ["recipe=tweets_sentiment"],
    "GCIDE (40 MB)": ["data/source=gcide", "data.source.max_chars=null"],
}


def measure(overrides: list[str]) -> tuple[float, float, int]:
    """(data stage seconds, analysis seconds, records) for one configuration."""
    registry = default_registry()
    cfg = compose(registry, [*overrides, "data.cache=false"])
    task = registry.build("task", cfg.task)
    start = time.perf_counter()
    stage = data_tables(cfg.data, task, registry, cfg.seed)
    data_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_eda(stage, task, cfg.data, Path(folder) / "eda", "bench")
        eda_s = time.perf_counter() - start
    return data_s, eda_s, sum(len(s) for s in stage.splits.values())


def main() -> None:
    """Measure and print."""
    for name, overrides in CASES.items():
        data_s, eda_s, rows = measure(overrides)
        print(
            f"{name:22s} records {rows:>9,}   data stage {data_s:6.1f} s   eda {eda_s:6.1f} s   "
            f"ratio eda / data stage {eda_s / data_s:.2f}"
        )


if __name__ == "__main__":
    main()
