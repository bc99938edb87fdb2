"""How busy this machine is apart from the tests: a timing test waits for the cores to be
its own before it measures (a second busy process halves a two-core machine), and says in
its failure what else was running."""

from __future__ import annotations

import os
import time
from pathlib import Path

BUSY_LIMIT = 0.15
"""Share of all cores (steal time included) that other work may take while a timing test
measures."""

QUIET_SECONDS = 1
"""Seconds running under :data:`BUSY_LIMIT` that count as quiet."""


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from ``/proc/stat``. Busy counts
    everything but idle and I/O wait, steal time included (a virtual machine's cores run
    someone else's work then)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle, sum(fields[:8])  # guest time is counted in user time


def _process_ticks() -> dict[int, tuple[str, int]]:
    """Each process's name and the CPU clock ticks it has used, by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended meanwhile
            continue
        rest = text[text.rindex(")") + 2 :].split()
        name = text[text.index("(") + 1 : text.rindex(")")]
        found[int(stat.parent.name)] = (name, int(rest[11]) + int(rest[12]))
    return found


def busy_share(seconds: float = 1.0) -> tuple[float, list[str]]:
    """Share of all cores busy over the next ``seconds`` while the caller sleeps (other
    processes' work), and the busiest of those processes as "pid name share-of-a-core"."""
    before, procs = _cpu_ticks(), _process_ticks()
    time.sleep(seconds)
    after, now = _cpu_ticks(), _process_ticks()
    share = (after[0] - before[0]) / max(1, after[1] - before[1])
    per_core = os.sysconf("SC_CLK_TCK") * seconds
    used = sorted(((t - procs.get(pid, ("", 0))[1]) / per_core, pid, name)
                  for pid, (name, t) in now.items() if pid != os.getpid())  # fmt: skip
    return share, [f"{pid} {name} {u:.0%}" for u, pid, name in reversed(used[-5:]) if u > 0]


def wait_until_quiet(limit_s: float = 90.0) -> str:
    """Wait (up to ``limit_s``) until other work takes under :data:`BUSY_LIMIT` of the cores
    for :data:`QUIET_SECONDS` running; return a line saying what was seen, for a failure
    message."""
    if not Path("/proc/stat").is_file():
        return "no /proc here: the cores' load is unknown"
    began, quiet = time.monotonic(), 0
    while time.monotonic() - began < limit_s:
        share, busiest = busy_share()
        quiet = quiet + 1 if share < BUSY_LIMIT else 0
        if quiet == QUIET_SECONDS:
            return f"cores quiet after {time.monotonic() - began:.0f} s"
    return f"cores still {share:.0%} busy after {limit_s:.0f} s; busiest: {', '.join(busiest)}"
