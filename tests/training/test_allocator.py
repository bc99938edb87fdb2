"""Memory a training step frees stays in the process for the next step (glibc's mallopt)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

BLOCK = 30 * 2**20
"""A block the size of a step's logits: above glibc's first mmap threshold, below its ceiling."""

HELD_AND_FREED = f"""
import ctypes, sys
import numpy as np
from framework.training.allocator import keep_freed_memory
names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in names.split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
if sys.argv[1] == "keep":
    assert keep_freed_memory()
block = np.ones({BLOCK} // 8)
mapped = libc.mallinfo2().hblkhd  # bytes in blocks mmap-ed on their own
del block
print(mapped, libc.mallinfo2().fordblks)  # free bytes the heap keeps
"""


def _mapped_and_kept(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", HELD_AND_FREED, mode], cwd=REPO,
                         capture_output=True, text=True, check=True)  # fmt: skip
    mapped, kept = out.stdout.split()
    return int(mapped), int(kept)


def test_a_freed_large_block_stays_in_the_process_only_when_kept():
    mapped, kept = _mapped_and_kept("default")
    assert mapped >= BLOCK and kept < BLOCK  # its own mapping, unmapped when freed
    mapped, kept = _mapped_and_kept("keep")
    assert mapped < BLOCK and kept >= BLOCK  # from the heap, and back to it for reuse
