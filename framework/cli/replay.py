"""``plait replay RUN [overrides]``: train a run again from its ``manifest.json`` alone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.cli.command_config import CommandSpec, HydraFlags, compose_command, option, quoted
from framework.config.schema import PlaitConfig


@dataclass
class ReplayCommand:
    """``plait replay`` options; every other ``key=value`` overrides the run's config."""

    run: str | None = option(None, "the run dir to train again (a bare first argument fills it)")
    out: str | None = option(None, "the replay's run dir; null: runs/NAME/<time>")
    dry_run: bool = option(False, "name the differences and stop before training")


SPEC = CommandSpec(
    "replay",
    ReplayCommand,
    "runs/NAME/<time> [trainer.max_steps=200]",
    tuple(f.name for f in dataclasses.fields(PlaitConfig)),
)
"""How ``plait replay`` reads its command line."""


def replay_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait replay`` (once per combination with ``--multirun``); returns the exit
    status."""
    for opts, overrides in compose_command(SPEC, with_run(items), flags) or []:
        replay_options(opts, overrides, echo=True)
    return 0


def with_run(items: list[str]) -> list[str]:
    """A bare first argument (``plait replay runs/x/<time> ...``) as ``run=``."""
    if items and "=" not in items[0] and not items[0].startswith(("-", "~")):
        return [f"run={quoted(items[0])}", *items[1:]]
    return list(items)


def replay_options(opts: Any, overrides: list[str], echo: bool = False) -> Path | None:
    """Plan the replay of ``opts.run`` with ``overrides``, say what differs, and train it
    (``dry_run``: stop after saying); returns the replay's run dir."""
    from framework.errors import PlaitError
    from framework.replay import describe, plan

    if not opts.run:
        raise PlaitError("replay needs a run dir: plait replay runs/NAME/<time>")
    p = plan(opts.run, overrides, opts.out)
    if echo or opts.dry_run:
        print("\n".join(describe(p)), flush=True)
    if opts.dry_run:
        return None
    return replay(p)


def replay(p: Any) -> Path:
    """Train the planned replay (a :class:`framework.replay.Plan`) with ``plait train``'s
    checks, run dir rules and artifacts, its ``command.txt`` saying ``plait replay``; returns
    its run dir."""
    from framework.cli.train import train
    from framework.errors import PlaitError
    from framework.manifest import update
    from framework.replay import PRIMARY, primary_folder
    from framework.rundir import RunDir

    with primary_folder(p.manifest, p.run_dir) as folder:
        items = [*p.overrides, f"hydra.run.dir={quoted(str(p.run_dir))}"]
        code = train(items, False, False, config_name=PRIMARY, config_dir=folder,
                     command=p.command)  # fmt: skip
    if code != 0:
        raise PlaitError(f"replay: training stopped with exit status {code}")
    update(RunDir(p.run_dir), p.provenance())
    return p.run_dir
