"""Data parallel on CPU: two DDP processes over gloo train like one process on the global batch."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY_LM, run_in_process, run_plait

COMMON = [
    *TINY_LM,
    "trainer.max_steps=10",
    "trainer.val_every=5",
    "trainer.ckpt_every=10",
    "samples.prompts=[]",
    "hardware.threads=1",
    "trainer.val_at_start=false",
]


def _weights(run):
    return torch.load(run / "checkpoints/last.ckpt", map_location="cpu", weights_only=True)


def test_two_ranks_with_batch_b_match_one_process_with_batch_2b(tmp_path):
    ddp = run_plait(
        ["train", *COMMON, "hardware.processes=2", "trainer.batch_size=4", "hydra.run.dir=ddp"],
        tmp_path,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = run_in_process(
        ["train", *COMMON, "trainer.batch_size=8", "hydra.run.dir=single"], tmp_path
    )  # the reference: one process, this one
    assert single.returncode == 0, single.stderr[-3000:]

    assert (tmp_path / "ddp/train_ddp_process_1.log").exists()  # a second rank really ran
    a, b = _weights(tmp_path / "ddp"), _weights(tmp_path / "single")
    assert a["global_step"] == b["global_step"] == 10
    for key, value in a["state_dict"].items():
        assert torch.allclose(value, b["state_dict"][key], atol=1e-5), key


def test_a_sweep_of_ddp_jobs_launches_each_jobs_ranks_in_its_folder(tmp_path):
    sweep = run_plait(
        ["train", "-m", *COMMON, "hardware.processes=2", "trainer.max_steps=2",
         "optimizer.lr=0.001,0.002", "name=ddp_sweep"],
        tmp_path,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    (folder,) = (tmp_path / "runs/ddp_sweep").iterdir()  # one sweep folder, not one per rank
    jobs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    assert [j.name for j in jobs] == ["0", "1"]
    report = json.loads((folder / "report/sweep.json").read_text())
    assert (report["trials"], report["complete"]) == (2, 2)  # each job once, recorded once
    from omegaconf import OmegaConf

    assert [OmegaConf.load(j / "config.yaml").optimizer.lr for j in jobs] == [0.001, 0.002]
    for job in jobs:  # each job's second rank ran in the job's own folder
        assert (job / "train_ddp_process_1.log").exists()
        assert (job / "results.json").exists()


def test_keep_global_batch_gives_one_and_two_processes_the_same_effective_batch(registry, tmp_path):
    from framework.config.compose import compose
    from framework.engine import build_trainer
    from framework.errors import PlaitError
    from framework.rundir import RunDir

    def trainer(*overrides):
        cfg = compose(registry, [*TINY_LM, "trainer.batch_size=4", "trainer.accumulate=4",
                                 "hardware.keep_global_batch=true", *overrides])  # fmt: skip
        t = build_trainer(cfg, registry, RunDir(tmp_path), ("val/loss", "min"))
        return t.num_devices * t.num_nodes * t.accumulate_grad_batches * cfg.trainer.batch_size

    assert trainer() == trainer("hardware.processes=2") == 16
    with pytest.raises(PlaitError, match="trainer.accumulate=4 cannot be shared by 3 ranks"):
        trainer("hardware.processes=3")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_torchrun_nodes_on_the_loopback_match_one_process_with_twice_the_batch(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    args = [a for a in COMMON if a != "hardware.threads=1"]  # torchrun sets one thread
    node_args = [*args, "hardware=multi_node", "hardware.accelerator=cpu", "hardware.devices=1",
                 "hardware.num_nodes=2", "trainer.batch_size=4", "hydra.run.dir=nodes",
                 "eval=false"]  # fmt: skip
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    nodes = [
        subprocess.Popen(
            [
                str(torchrun),
                "--nnodes=2",
                "--nproc-per-node=1",
                f"--node-rank={rank}",
                "--master-addr=127.0.0.1",
                f"--master-port={port}",
                "-m",
                "framework",
                "train",
                *node_args,
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    outs = [n.communicate(timeout=300)[0] for n in nodes]
    assert [n.returncode for n in nodes] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
    single = run_in_process(
        ["train", *COMMON, "trainer.batch_size=8", "hydra.run.dir=single"], tmp_path
    )  # the reference: one process, this one
    assert single.returncode == 0, single.stderr[-3000:]
    a, b = _weights(tmp_path / "nodes"), _weights(tmp_path / "single")
    assert a["global_step"] == b["global_step"] == 10
    for key, value in a["state_dict"].items():
        assert torch.allclose(value, b["state_dict"][key], atol=1e-5), key


def test_a_ddp_run_destroys_its_process_group_when_it_ends(tmp_path):
    """A rank that exits with its gloo group alive may abort at interpreter shutdown
    (SIGABRT), and Lightning's launcher then kills the run's other ranks: a run ends its
    group itself. One rank of DDP, in this process, so the group is there to look at."""
    import torch.distributed as dist

    args = [a for a in COMMON if a != "hardware.threads=1"]
    run = run_in_process(
        ["train", *args, "hardware=multi_node", "hardware.accelerator=cpu",
         "hardware.devices=1", "hardware.num_nodes=1", "trainer.max_steps=2", "eval=false",
         "hydra.run.dir=one"],
        tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads((tmp_path / "one/results.json").read_text())  # the run got to its end
    assert not dist.is_initialized()
