"""``plait compare RUN_A RUN_B ...``: runs side by side on the same test records."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.cli.command_config import CommandSpec, HydraFlags, compose_command, option


@dataclass
class CompareCommand:
    """``plait compare`` options."""

    runs: list[str] = option([], "the run dirs, two or more (bare arguments fill it)")
    out: str | None = option(None, "the folder to write; null: runs/compare/<time>/")
    overwrite: bool = option(False, "write into an out= folder holding files Plait did not write")
    seed: int = option(0, "seed of the paired bootstrap")


SPEC = CommandSpec("compare", CompareCommand, "runs/a/<time> runs/b/<time>", positional="runs")
"""How ``plait compare`` reads its command line."""


def compare_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait compare`` (once per combination with ``--multirun``); returns the exit
    status."""
    for opts, _ in compose_command(SPEC, items, flags) or []:
        _compare(opts)
    return 0


def _compare(opts: Any) -> None:
    from framework.errors import PlaitError

    runs = list(opts.runs)
    if len(runs) < 2:
        raise PlaitError("compare needs two run dirs or more: plait compare RUN_A RUN_B")
    from rich.console import Console
    from rich.table import Table

    from framework.cli.evaluate import evaluated
    from framework.evaluate.compare import compare
    from framework.evaluate.loading import checkpoint_of
    from framework.outputs import output_folder
    from framework.rundir import RunDir

    stamp = RunDir.compare_dir(time.strftime("%Y-%m-%d_%H-%M-%S"))
    output = output_folder(opts.out or stamp, "out", opts.overwrite, default=not opts.out)
    for run in runs:
        checkpoint_of(run)  # an unknown run dir stops before any evaluation
    folders, metrics = {}, {}
    for run in runs:
        folder = evaluated(run)
        name = _name(run, runs)
        folders[name], metrics[name] = folder, RunDir(run).metrics
    out = output.path
    result = compare(folders, metrics, out, opts.seed)
    output.seal("plait compare")
    console = Console(markup=False)  # run names and paths as they are
    table = Table(
        title=f"compare: {result['records']:,} records ({result['kind']})", title_justify="left"
    )
    table.add_column("metric")
    for name in folders:
        table.add_column(name, justify="right")
    for key in sorted({k for m in result["metrics"].values() for k in m}):
        cells = [result["metrics"][n].get(key) for n in folders]
        table.add_row(
            key,
            *[f"{c['value']:.4f} [{c['low']:.4f}, {c['high']:.4f}]" if c else "" for c in cells],
        )
    console.print(table)
    for pair, diffs in result["paired"].items():
        for key, d in diffs.items():
            console.print(
                f"{pair}: {key} {d['value']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}], "
                f"paired bootstrap p = {d['p_value']:.3f}"
            )
    console.print(f"report: {out / 'report.html'}")


def _name(run: str, runs: list[str]) -> str:
    """A short, distinct name of a run dir: ``recipe/time``."""
    p = Path(run).resolve()
    name = f"{p.parent.name}/{p.name}"
    return name if sum(1 for r in runs if Path(r).resolve().name == p.name) <= 1 else str(p)
