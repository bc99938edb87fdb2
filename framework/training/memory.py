"""The RAM this machine has and has available (what ``plait doctor`` reports, and what
decides whether a frozen prefix's outputs are computed in memory)."""

from __future__ import annotations

import os


def memory_bytes() -> tuple[int, int]:
    """(total, available) bytes of RAM."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    available = total
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        pass
    return total, available
