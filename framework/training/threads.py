"""How many torch threads a CPU run uses: the CPUs this process may use (its affinity and
its cgroup's quota), less what other processes keep busy when the run starts, shared among
the run's processes. torch's own default (one thread per core) oversubscribes a machine
where something else runs, and a CPU run then slows several times over."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

SAMPLE_SECONDS = 0.25
"""How long the machine's load is watched before choosing."""


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity, capped by its cgroup's CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, from ``/proc/stat``; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_cores(seconds: float = SAMPLE_SECONDS) -> float:
    """Cores other processes keep busy, watched over ``seconds`` while this one sleeps
    (0 where the machine does not say)."""
    first = _cpu_times()
    if first is None:
        return 0.0
    time.sleep(seconds)
    second = _cpu_times()
    if second is None or second[1] <= first[1]:
        return 0.0
    share = (second[0] - first[0]) / (second[1] - first[1])
    return share * (os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadChoice:
    """The torch threads of each of a run's processes, and why."""

    threads: int
    """Intra-op threads per process."""
    said: str
    """The log line that says it."""


def choose_threads(asked: int | None, processes: int = 1, cap: int | None = None) -> ThreadChoice:
    """``asked`` (``hardware.threads``) when set; else the usable CPUs less those other
    processes keep busy now, shared among ``processes`` (a CPU DDP run's ranks) and at
    most ``cap`` (a sweep running trials side by side)."""
    if asked:
        return ThreadChoice(asked, f"torch threads: {asked} per process (hardware.threads)")
    usable, busy = usable_cpus(), busy_cores()
    free = max(1.0, usable - busy)
    threads = max(1, min(usable, round(free)) // max(1, processes))
    if cap:
        threads = min(threads, cap)
    ranks = f", {processes} processes" if processes > 1 else ""
    return ThreadChoice(
        threads,
        f"torch threads: {threads} per process ({usable} usable CPUs, {busy:.1f} busy with "
        f"other processes at the start{ranks}; hardware.threads=N sets it)",
    )


SHARE_CAP: int | None = None
"""Threads a trial may use while a sweep runs trials side by side (set by the sweep)."""
