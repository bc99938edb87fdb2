"""Kill a run with SIGKILL after a checkpoint, resume with resume=auto, match an unbroken run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import torch

from tests.conftest import TINY_LM, run_in_process

STEPS = 300
COMMON = [
    *TINY_LM,
    f"trainer.max_steps={STEPS}",
    "trainer.ckpt_every=10",
    "trainer.val_every=100",
    "name=resume",
    "samples.prompts=[]",
    "hardware.threads=2",  # float sums depend on the thread count: the same in every run
]


def _state(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return ckpt["global_step"], ckpt["state_dict"]


def test_sigkill_then_resume_auto_equals_uninterrupted_run(tmp_path):
    ref = run_in_process(["train", *COMMON, "hydra.run.dir=ref"], tmp_path)
    assert ref.returncode == 0, ref.stderr[-2000:]
    ref_step, ref_weights = _state(tmp_path / "ref/checkpoints/last.ckpt")
    assert ref_step == STEPS

    killed_dir = tmp_path / "runs/resume/killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "framework", "train", *COMMON, f"hydra.run.dir={killed_dir}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last = killed_dir / "checkpoints/last.ckpt"
    deadline = time.time() + 240
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_step, _ = _state(last)
    assert 0 < killed_step < STEPS

    resumed = run_in_process(
        ["train", *COMMON, "resume=auto", "hydra.run.dir=runs/resume/resumed"], tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    step, weights = _state(tmp_path / "runs/resume/resumed/checkpoints/last.ckpt")
    assert step == STEPS
    logged = (tmp_path / "runs/resume/resumed/metrics.csv").read_text().splitlines()[1:]
    first_logged_step = min(int(row.split(",")[2]) for row in logged)
    assert first_logged_step >= killed_step  # the global step continued, it did not restart
    assert weights.keys() == ref_weights.keys()
    for key in weights:
        assert torch.equal(weights[key], ref_weights[key]), key


def test_resume_auto_refuses_a_run_of_another_size_and_resumes_one_that_fits(cli, tmp_path):
    from tests.cli.test_errors import assert_one_line_error

    small = [*TINY_LM, "trainer.max_steps=4", "trainer.ckpt_every=2", "name=sized",
             "samples.prompts=[]"]  # fmt: skip
    first = cli("train", *small, "hydra.run.dir=runs/sized/first")
    assert first.returncode == 0, first.stderr[-2000:]
    wider = cli("train", *small, "model.d_model=64", "resume=auto")
    assert_one_line_error(
        wider, "resume=auto: no run under", "runs/sized fits this config", "the newest, first",
        "model.d_model was 32, now 64", "resume=PATH",
    )  # fmt: skip
    # the end-of-run panel's "continue this run" command runs as printed (with the recipe)
    import shlex

    from framework.rundir import RunDir

    printed = RunDir(tmp_path / "runs/sized/first").resume_command()
    flat = "".join(c for c in first.stdout if c not in "│ \n")
    assert printed.replace(" ", "") in flat and "name=sized" in printed
    words = shlex.split(printed)
    assert words[:2] == ["plait", "train"] and words[-1] == "resume=auto"
    again = cli(*words[1:], "trainer.max_steps=6")
    assert again.returncode == 0, again.stderr[-2000:]
    said = again.stdout + again.stderr
    assert "resuming from" in said and "runs/sized/first/checkpoints/last.ckpt" in said
