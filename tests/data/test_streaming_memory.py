"""Streaming holds memory flat: 10x the default recipe's corpus size costs no more memory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHILD = """
import json, sys
from omegaconf import OmegaConf
from framework.data.stage import prepare_data
from framework.data.streaming import blocks_of
from framework.registry import default_registry
from framework.tasks.causal_lm import causal_lm

chars = int(sys.argv[1])
cfg = OmegaConf.create({
    "source": {"_name_": "gcide", "max_chars": chars, "repeat": 2},
    "curate": {}, "clean": {}, "tokenizer": {"_name_": "gpt2"},
    "split": {"_name_": "random", "val": 0.01}, "balance": {"_name_": "none"},
    "max_length": 128, "num_proc": 1, "cache": False, "streaming": True,
    "stream_tokenizer_chars": 1, "stream_val_blocks": 200,
})
data = prepare_data(cfg, causal_lm(), default_registry(), 0)
train = data.datasets["train"]
n = sum(1 for _ in blocks_of(train.reader.batches("train"), train.tokenizer, 129))
# VmHWM, not ru_maxrss: Linux carries the parent's peak into a child across fork and exec
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"blocks": n, "peak_mb": int(hwm.split()[1]) / 1024}))
"""


def peak(chars: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(chars)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_streaming_ten_times_the_default_corpus_in_flat_memory():
    small, large = peak(6_000_000), peak(60_000_000)  # the default recipe reads 6 M chars
    assert large["blocks"] > 9 * small["blocks"]  # the whole 10x corpus went through
    assert large["peak_mb"] < small["peak_mb"] + 64, (small, large)
