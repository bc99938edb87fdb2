"""``plait data``: run a recipe's data stage alone and print its report."""

from __future__ import annotations

from framework.cli.spine import load, stage
from framework.rundir import DATA_REPORT, recipe_dir


def data(overrides: list[str]) -> int:
    """Compose the recipe, run (or load from the cache) its data stage, print and save the
    report to ``runs/<name>/data_report.json``; returns the exit status."""
    from rich.console import Console

    loaded = load(overrides)
    data_stage = stage(loaded)
    if loaded.cfg.data.streaming:  # nothing to count in advance: the validation blocks it holds
        prepared = data_stage.prepare()
        report, tokenizer, labels = prepared.report, None, None
    else:
        tables = data_stage.tables()
        report, tokenizer, labels = tables.report, None, tables.labels
    console = Console()
    report.print(console)
    run = recipe_dir(loaded.cfg.name)
    run.write_data(report, tokenizer, labels)
    console.print(f"report: {run.path / DATA_REPORT}")
    return 0
