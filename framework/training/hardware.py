"""Hardware presets: each returns the Lightning Trainer arguments for a machine shape."""

from __future__ import annotations

from typing import Annotated, Any

from framework.config.checks import COUNT
from framework.errors import PlaitError


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
    require_gpus(devices, "hardware=gpu")
    strategy = "ddp" if devices > 1 else "auto"
    return {"accelerator": "gpu", "devices": devices, "strategy": strategy}


def ddp(devices: int = -1, num_nodes: Annotated[int, COUNT] = 1) -> dict[str, Any]:
    """Distributed data parallel over several GPUs and nodes (launch one process per node).

    Args:
        devices: GPUs per node (-1: all visible).
        num_nodes: Number of nodes; set MASTER_ADDR, MASTER_PORT and NODE_RANK on each.
    """
    require_gpus(max(devices, 1), "hardware=ddp")
    return {"accelerator": "gpu", "devices": devices, "num_nodes": num_nodes, "strategy": "ddp"}


def ranks(hardware: dict[str, Any]) -> int:
    """Training processes a preset's Trainer arguments start (devices x nodes; ``-1``
    devices: every visible GPU)."""
    devices = hardware.get("devices", 1)
    if devices == -1:
        import torch

        devices = torch.cuda.device_count() if hardware.get("accelerator") == "gpu" else 1
    count = devices if isinstance(devices, int) else len(devices)
    return max(1, count) * int(hardware.get("num_nodes", 1))


def global_batch_accumulation(accumulate: int, hardware: dict[str, Any], keep: bool) -> int:
    """``trainer.accumulate`` for the preset: as configured, or (``keep_global_batch``)
    divided among the ranks so that batch x accumulate x ranks stays batch x accumulate."""
    n = ranks(hardware)
    if not keep or n == 1:
        return accumulate
    if accumulate % n:
        raise PlaitError(
            f"hardware.keep_global_batch: trainer.accumulate={accumulate} cannot be shared by "
            f"{n} ranks; set trainer.accumulate to a multiple of {n} (with trainer.batch_size "
            "divided to match) or keep_global_batch=false"
        )
    return accumulate // n


def require_gpus(count: int, preset: str) -> None:
    """Stop when this machine has fewer than ``count`` CUDA devices, saying what it has."""
    import torch

    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found < count:
        build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU build")
        raise PlaitError(
            f"{preset} asks for {count} GPU(s); this machine has {found} ({build}): use "
            "hardware=cpu, or run on a machine with GPUs"
        )


def native_bf16(accelerator: str) -> bool:
    """Whether this machine runs bfloat16 matrix products natively: a CUDA GPU that supports
    them, or a CPU with AVX512-BF16 or AMX (oneDNN's check). Elsewhere bfloat16 is emulated
    and much slower than float32 (20x for MiniLM on an AVX2-only CPU)."""
    import torch

    if accelerator == "gpu":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, accelerator: str) -> str:
    """``auto``: ``bf16-mixed`` where bfloat16 is native (:func:`native_bf16`), else
    ``32-true``; any other value as it is."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if native_bf16(accelerator) else "32-true"
