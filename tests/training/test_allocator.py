"""Memory a training step frees stays in the process: fewer page faults a step."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

STEPS = """
import sys
import torch
from framework.training.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.manual_seed(0)
torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Embedding(4096, 64), torch.nn.Linear(64, 4096))
opt = torch.optim.AdamW(model.parameters())
x = torch.randint(0, 4096, (8, 128))  # 16 MiB of logits, and as much again for their gradient
def step():
    loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 4096), x.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
def faults():
    return int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[7])
for _ in range(3):
    step()
before = faults()
for _ in range(10):
    step()
print((faults() - before) / 10)
"""


def _faults_per_step(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", STEPS, mode], cwd=REPO, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def test_kept_freed_memory_cuts_a_training_steps_page_faults():
    default, kept = _faults_per_step("default"), _faults_per_step("keep")
    assert default > 1000  # glibc's defaults fault the step's large tensors in again
    assert kept < default / 2
