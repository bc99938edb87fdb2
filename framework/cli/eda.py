"""``plait eda``: run a recipe's data stage and analyse it (``runs/<name>/eda/``)."""

from __future__ import annotations

from framework.errors import PlaitError


def eda(overrides: list[str]) -> int:
    """Compose the recipe, run (or load from the cache) its data stage, analyse it, write
    ``runs/<name>/eda/`` and print the summary; returns the exit status."""
    from framework.cli.spine import load, stage
    from framework.eda.run import print_summary, run_eda
    from framework.rundir import recipe_dir

    loaded = load(overrides)
    cfg = loaded.cfg
    if cfg.data.streaming:
        raise PlaitError(
            "eda analyses data held in memory; run it with data.streaming=false on a slice "
            "(data.source.max_chars=...)"
        )
    tables = stage(loaded).tables()
    folder = recipe_dir(cfg.name).eda
    report = run_eda(tables, loaded.task, cfg.data, folder, f"plait eda: {cfg.name}")
    print_summary(report, folder)
    return 0
