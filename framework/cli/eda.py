"""``plait eda``: run a recipe's data stage and analyse it (``runs/<name>/eda/``)."""

from __future__ import annotations

from pathlib import Path

from framework.errors import PlaitError


def eda(overrides: list[str]) -> int:
    """Compose the recipe, run (or load from the cache) its data stage, analyse it, write
    ``runs/<name>/eda/`` and print the summary; returns the exit status."""
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.data.pipeline import data_only
    from framework.eda.run import print_summary, run_eda
    from framework.registry import default_registry

    registry = default_registry()
    cfg = compose(registry, overrides)
    validate(cfg, registry)
    if cfg.data.streaming:
        raise PlaitError(
            "eda analyses data held in memory; run it with data.streaming=false on a slice "
            "(data.source.max_chars=...)"
        )
    task = registry.build("task", cfg.task)
    stage = data_only(cfg.data, task, registry, cfg.seed)
    folder = Path("runs") / cfg.name / "eda"
    report = run_eda(stage, task, cfg.data, folder, f"plait eda: {cfg.name}")
    print_summary(report, folder)
    return 0
