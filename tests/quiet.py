"""How busy this machine is apart from the tests: a timing test waits for the cores to be
its own before it measures (a second busy process halves a two-core machine), and says in
its failure what else was running. The load is Plait's own measure, the one a run's thread
choice reads (``framework.training.threads.busy_cores``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from framework.training.threads import busy_cores

BUSY_LIMIT = 0.15
"""Share of all cores (steal time included) that other work may take while a timing test
measures."""


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


def busiest(seconds: float = 1.0, n: int = 5) -> list[str]:
    """The ``n`` processes busiest over the next ``seconds``, as "pid name share-of-a-core"
    (this one left out)."""
    before = _process_ticks()
    time.sleep(seconds)
    per_core = os.sysconf("SC_CLK_TCK") * seconds
    used = sorted(((t - before.get(pid, ("", 0))[1]) / per_core, pid, name)
                  for pid, (name, t) in _process_ticks().items() if pid != os.getpid())  # fmt: skip
    return [f"{pid} {name} {u:.0%}" for u, pid, name in reversed(used[-n:]) if u > 0]


def wait_until_quiet(limit_s: float = 90.0) -> str:
    """Wait (up to ``limit_s``) until other work takes under :data:`BUSY_LIMIT` of the cores
    over one second; return a line saying what was seen, for a failure message."""
    began, limit = time.monotonic(), BUSY_LIMIT * (os.cpu_count() or 1)
    while time.monotonic() - began < limit_s:
        cores = busy_cores(1.0)
        if cores < limit:
            return f"cores quiet after {time.monotonic() - began:.0f} s"
    return (f"{cores:.1f} cores still busy after {limit_s:.0f} s; busiest: "
            f"{', '.join(busiest())}")  # fmt: skip
