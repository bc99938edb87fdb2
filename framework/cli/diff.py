"""``plait diff RUN_A RUN_B``: one table of what differs between two runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from framework.cli.command_config import CommandSpec, HydraFlags, compose_command, option


@dataclass
class DiffCommand:
    """``plait diff`` options."""

    runs: list[str] = option([], "the two run dirs (bare arguments fill it)")
    seed: int = option(0, "seed of the paired bootstrap")
    paired: bool = option(True, "the paired bootstrap of the test metrics (evaluates a run "
                                "that has no eval/ first)")  # fmt: skip
    json: bool = option(False, "print the difference as JSON instead of a table")
    out: str | None = option(None, "a folder to write the difference into (diff.json)")
    overwrite: bool = option(False, "write into an out= folder holding files Plait did not write")


SPEC = CommandSpec("diff", DiffCommand, "runs/a/<time> runs/b/<time>", positional="runs")
"""How ``plait diff`` reads its command line."""


def diff_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait diff``; returns the exit status."""
    import json

    for opts, _ in compose_command(SPEC, items, flags) or []:
        found = diff_options(opts)
        if opts.json:
            print(json.dumps(found, indent=2, default=str))
        else:
            print_diff(found)
        if opts.out:
            from framework.outputs import output_folder

            output = output_folder(opts.out, "out", opts.overwrite)
            (output.path / "diff.json").write_text(json.dumps(found, indent=2, default=str))
            output.seal("plait diff")
    return 0


def diff_options(opts: Any) -> dict[str, Any]:
    """The difference of the two runs ``opts.runs`` names."""
    from framework.errors import PlaitError

    runs = list(opts.runs)
    if len(runs) != 2:
        raise PlaitError(f"diff takes two run dirs, not {len(runs)}: plait diff RUN_A RUN_B")
    return diff_between(runs[0], runs[1], opts.seed, opts.paired)


def diff_between(a: str, b: str, seed: int = 0, paired: bool = True) -> dict[str, Any]:
    """:func:`framework.run_diff.diff_runs` of two run dirs (both checked first); ``paired``:
    with the paired test on their test evaluations (made now for a run without one)."""
    from framework.cli.evaluate import evaluated
    from framework.manifest import read
    from framework.run_diff import diff_runs
    from framework.rundir import RunDir

    read(RunDir(a)), read(RunDir(b))  # not a run: stop before evaluating
    folders = [evaluated(a, quiet=True), evaluated(b, quiet=True)] if paired else None
    return diff_runs(a, b, seed, folders)


def print_diff(d: dict[str, Any]) -> None:
    """The difference as one table: section, what, run A, run B."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"diff  a: {d['a']}  b: {d['b']}", title_justify="left")
    for col in ("", "what", "a", "b"):
        table.add_column(col, overflow="fold")
    for row in d["config"]:
        table.add_row("config", row["key"], _cell(row["a"]), _cell(row["b"]))
    if d["overrides"]["a"] or d["overrides"]["b"]:
        table.add_row("overrides", "only in one command", " ".join(d["overrides"]["a"]),
                      " ".join(d["overrides"]["b"]))  # fmt: skip
    if d["data"]["fingerprint"]:
        fp = d["data"]["fingerprint"]
        table.add_row("data", "fingerprint", _cell(fp["a"]), _cell(fp["b"]))
    for row in [*d["data"]["files"], *d["environment"]]:
        table.add_row(row["area"], row["what"], _cell(row["a"]), _cell(row["b"]))
    for row in d["results"]:
        if row["a"] != row["b"]:
            delta = f" ({row['delta']:+.4g})" if row["delta"] is not None else ""
            table.add_row("results", row["metric"], _cell(row["a"]), _cell(row["b"]) + delta)
    console = Console(markup=False, soft_wrap=False)
    console.print(table)
    paired = d.get("paired")
    if paired:
        for key, iv in paired["metrics"].items():
            console.print(
                f"test {key}, b - a: {iv['value']:+.4f} [{iv['low']:+.4f}, {iv['high']:+.4f}] "
                f"(paired bootstrap over {paired['records']:,} records, p = {iv['p_value']:.3f})"
            )
        if paired["note"]:
            console.print(f"no paired bootstrap: {paired['note']}")
    if not (d["config"] or d["data"]["fingerprint"] or d["data"]["files"] or d["environment"]):
        console.print("the runs' configs, data and environments are the same")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
