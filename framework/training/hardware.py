"""Hardware presets: each returns the Lightning Trainer arguments for a machine shape."""

from __future__ import annotations

from typing import Annotated

from framework.config.checks import COUNT, Any


def cpu(
    threads: Annotated[int | None, COUNT] = None, processes: Annotated[int, COUNT] = 1
) -> dict[str, Any]:
    """Train on the CPU of this machine; several processes use DDP over gloo.

    Args:
        threads: torch intra-op threads per process (null: torch's default, one per core).
        processes: Data-parallel processes (more than 1: DDP, for testing multi-device runs).
    """
    if threads:
        import torch

        torch.set_num_threads(threads)
    if processes > 1:
        return {"accelerator": "cpu", "devices": processes, "strategy": "ddp"}
    return {"accelerator": "cpu", "devices": 1}


def gpu(devices: Annotated[int, COUNT] = 1) -> dict[str, Any]:
    """One node of CUDA GPUs; several devices use DDP.

    Args:
        devices: GPUs to use on this node.
    """
    strategy = "ddp" if devices > 1 else "auto"
    return {"accelerator": "gpu", "devices": devices, "strategy": strategy}


def ddp(devices: int = -1, num_nodes: Annotated[int, COUNT] = 1) -> dict[str, Any]:
    """Distributed data parallel over several GPUs and nodes (launch one process per node).

    Args:
        devices: GPUs per node (-1: all visible).
        num_nodes: Number of nodes; set MASTER_ADDR, MASTER_PORT and NODE_RANK on each.
    """
    return {"accelerator": "gpu", "devices": devices, "num_nodes": num_nodes, "strategy": "ddp"}
