"""torch threads of a CPU run: the usable CPUs less those other processes keep busy,
recorded in the run's config so a resumed run and a run from that config add up the same."""

from __future__ import annotations

import subprocess
import sys

import pytest
from omegaconf import OmegaConf


@pytest.fixture
def threads_restored():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_busy_machine_is_seen_and_leaves_fewer_threads(monkeypatch):
    from framework.training import threads

    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = threads.busy_cores(0.5)
    finally:
        for p in spin:
            p.kill()
    assert busy >= min(1.5, 0.75 * threads.usable_cpus())  # two spinning processes
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25, since=None: 1.0)
    choice = threads.choose_threads(None)
    assert choice.threads == 1 and "2 usable CPUs, 1.0 busy" in choice.said
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25, since=None: 0.1)
    assert threads.choose_threads(None).threads == 2
    assert threads.choose_threads(None, processes=2).threads == 1  # two CPU ranks share them
    assert threads.choose_threads(None, cap=1).threads == 1  # a sweep's trials side by side
    assert threads.choose_threads(3).threads == 3  # hardware.threads wins


def test_the_watch_leaves_out_this_process_and_waits_only_for_what_its_window_lacks(
    monkeypatch, threads_restored
):
    import time

    import torch

    from framework.training import threads

    torch.set_num_threads(2)
    watch = threads.LoadWatch()
    a = torch.randn(512, 512)
    began = time.monotonic()
    while time.monotonic() - began < 0.6:  # this process's own work: every core it can use
        a = torch.tanh(a @ a)
    slept = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    busy = watch.busy_cores()
    assert slept == []  # the window was long enough
    # two cores of its own were busy; counted, they alone would read about 2 (the other
    # test worker of `make test` can add up to 1 more)
    assert busy <= 1.3
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        monkeypatch.undo()
        watch = threads.LoadWatch()
        time.sleep(0.5)
        assert watch.busy_cores() >= min(1.5, 0.75 * threads.usable_cpus())
    finally:
        for p in spin:
            p.kill()


def test_the_count_is_recorded_and_a_resumed_run_takes_its_own(threads_restored):
    import torch

    from framework.training.hardware import cpu, settle_threads

    cfg = OmegaConf.create({"hardware": {"_name_": "cpu", "threads": None, "processes": 1}})
    said = settle_threads(cfg, cpu(), resumed={"hardware": {"threads": 3}})
    assert cfg.hardware.threads == 3 == torch.get_num_threads()
    assert "3 per process" in said
    cfg.hardware.threads = None
    settle_threads(cfg, cpu())
    assert cfg.hardware.threads == torch.get_num_threads() >= 1
    gpu = OmegaConf.create({"hardware": {"_name_": "gpu", "devices": 1}})
    assert settle_threads(gpu, {"accelerator": "gpu", "devices": 1}) is None


def test_a_run_says_its_threads_and_writes_them_in_its_config(cli, tmp_path, threads_restored):
    from tests.conftest import TINY_LM

    short = [*TINY_LM, "trainer.max_steps=2", "trainer.val_every=2", "trainer.ckpt_every=2"]
    proc = cli("train", *short, "hydra.run.dir=run")
    assert proc.returncode == 0, proc.stderr
    stored = OmegaConf.load(tmp_path / "run" / "config.yaml")
    assert isinstance(stored.hardware.threads, int) and stored.hardware.threads >= 1
    log = (tmp_path / "run" / "train.log").read_text()
    assert f"torch threads: {stored.hardware.threads} per process" in log
