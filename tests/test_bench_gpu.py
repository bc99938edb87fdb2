"""bench/gpu.py runs in its smoke mode on a CPU: both sides measured, the ratio and the
figures it writes consistent (the GPU figures come from a GPU machine, docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_the_gpu_benchmark_runs_its_smoke_mode_on_a_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench/gpu.py"), "--smoke", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["device"] == "CPU (smoke)" and result["tokens_per_step"] == 4 * 64
    assert result["raw_tokens_per_s"] > 0 and result["engine_tokens_per_s"] > 0
    ratio = result["engine_tokens_per_s"] / result["raw_tokens_per_s"]
    assert abs(result["ratio_engine_over_raw"] - ratio) < 0.01
    assert result["mfu_raw"] is None and result["parameters"] > 10_000
