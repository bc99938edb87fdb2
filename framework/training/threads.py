"""How many torch threads a CPU run uses: the CPUs this process may use (its affinity and
its cgroup's quota), less what other processes keep busy while its data stage runs, shared
among the run's processes. torch's own default (one thread per core) oversubscribes a machine
where something else runs, and a CPU run then slows several times over."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

SAMPLE_SECONDS = 0.25
"""How long, at least, the machine's load is watched before choosing."""


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


def _own_cpu_seconds() -> float:
    """CPU seconds of this process (all its threads) and of its children that have ended."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadWatch:
    """The machine's load watched from the moment this is made. A run starts one before its
    data stage and reads it after, so that stage is the window and nobody waits for it; the
    CPU time of this process (and of its ended children) in the window is taken out."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.first = _cpu_times()
        self.own = _own_cpu_seconds()

    def busy_cores(self, seconds: float = SAMPLE_SECONDS) -> float:
        """Cores other processes kept busy since the watch began, after waiting for what
        the window lacks of ``seconds`` (0 where the machine does not say)."""
        if self.first is None:
            return 0.0
        rest = seconds - (time.monotonic() - self.began)
        if rest > 0:
            time.sleep(rest)
        second = _cpu_times()
        if second is None or second[1] <= self.first[1]:
            return 0.0
        own = (_own_cpu_seconds() - self.own) * os.sysconf("SC_CLK_TCK")
        others = max(0.0, second[0] - self.first[0] - own)
        return others / (second[1] - self.first[1]) * (os.cpu_count() or 1)


def busy_cores(seconds: float = SAMPLE_SECONDS, since: LoadWatch | None = None) -> float:
    """Cores other processes keep busy: watched over ``seconds`` from now, or since the
    watch ``since`` began (at least ``seconds``)."""
    return (since or LoadWatch()).busy_cores(seconds)


@dataclass(frozen=True)
class ThreadChoice:
    """The torch threads of each of a run's processes, and why."""

    threads: int
    """Intra-op threads per process."""
    said: str
    """The log line that says it."""


def choose_threads(
    asked: int | None,
    processes: int = 1,
    cap: int | None = None,
    watch: LoadWatch | None = None,
) -> ThreadChoice:
    """``asked`` (``hardware.threads``) when set; else the usable CPUs less those other
    processes keep busy (now, or since ``watch`` began), shared among ``processes`` (a CPU
    DDP run's ranks) and at most ``cap`` (a sweep running trials side by side)."""
    if asked:
        return ThreadChoice(asked, f"torch threads: {asked} per process (hardware.threads)")
    usable, busy = usable_cpus(), busy_cores(since=watch)
    free = max(1.0, usable - busy)
    threads = max(1, min(usable, round(free)) // max(1, processes))
    if cap:
        threads = min(threads, cap)
    ranks = f", {processes} processes" if processes > 1 else ""
    return ThreadChoice(
        threads,
        f"torch threads: {threads} per process ({usable} usable CPUs, {busy:.1f} busy with "
        f"other processes{ranks}; hardware.threads=N sets it)",
    )


SHARE_CAP: int | None = None
"""Threads a trial may use while a sweep runs trials side by side (set by the sweep)."""
