"""``plait data``: run a recipe's data stage alone and print its report."""

from __future__ import annotations

from pathlib import Path

from framework.config.compose import compose
from framework.config.validate import validate
from framework.registry import default_registry


def data(overrides: list[str]) -> int:
    """Compose the recipe, run (or load from the cache) its data stage, print and save the
    report to ``runs/<name>/data_report.json``; returns the exit status."""
    from rich.console import Console

    from framework.data.pipeline import data_only

    registry = default_registry()
    cfg = compose(registry, overrides)
    validate(cfg, registry)
    task = registry.build("task", cfg.task)
    if cfg.data.streaming:  # nothing to count in advance: the validation blocks it holds
        from framework.data.pipeline import build_data

        report, labels = build_data(cfg.data, task, registry, cfg.seed, None).report, None
    else:
        stage = data_only(cfg.data, task, registry, cfg.seed)
        report, labels = stage.report, stage.labels
    console = Console()
    report.print(console)
    out = Path("runs") / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    report.save(out / "data_report.json")
    if labels:
        import json

        (out / "labels.json").write_text(json.dumps(labels, indent=2), "utf-8")
    console.print(f"report: {out / 'data_report.json'}")
    return 0
