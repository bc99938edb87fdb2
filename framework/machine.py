"""Facts about this machine as torch and the operating system report them: CPU, cores,
memory, GPUs, and the distributed backends (``plait doctor``)."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

from framework.training.memory import memory_bytes


@dataclass
class Gpu:
    """One CUDA device."""

    name: str
    """The device's name."""
    memory: int
    """Bytes of device memory."""
    capability: str
    """Compute capability, ``major.minor``."""
    bf16: bool
    """Whether it runs bfloat16."""
    tf32: bool
    """Whether it has TF32 tensor cores (compute capability 8.0 and above)."""


@dataclass
class Machine:
    """What this machine offers for training."""

    cpu: str
    """CPU model name."""
    cores: int
    """Logical cores of the machine."""
    usable_cores: int
    """Cores this process may run on (its CPU affinity)."""
    memory: int
    """Bytes of RAM."""
    available_memory: int
    """Bytes of RAM available now."""
    cpu_bf16: bool
    """Whether the CPU runs bfloat16 natively (AVX-512 BF16 or AMX)."""
    torch: str
    """torch's version."""
    cuda: str | None
    """The CUDA version torch was built with (None: a CPU build)."""
    gpus: list[Gpu] = field(default_factory=list)
    """The CUDA devices torch sees."""
    nccl: bool = False
    """Whether torch.distributed has NCCL (multi-GPU)."""
    gloo: bool = False
    """Whether torch.distributed has gloo (CPU, and GPU fallback)."""

    def to_dict(self) -> dict[str, Any]:
        """As plain data (``plait doctor --json``)."""
        return asdict(self)


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``; else what ``platform`` says)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may use: its affinity, capped by its cgroup's CPU quota (what a
    CPU run's threads are chosen from)."""
    from framework.training.threads import usable_cpus

    return usable_cpus()


def machine() -> Machine:
    """This machine, as torch and the operating system see it."""
    import torch
    import torch.distributed as dist

    from framework.training.hardware import native_bf16

    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            with torch.cuda.device(i):
                bf16 = torch.cuda.is_bf16_supported()
            gpus.append(Gpu(props.name, props.total_memory, f"{props.major}.{props.minor}",
                            bf16, props.major >= 8))  # fmt: skip
    total, available = memory_bytes()
    distributed = dist.is_available()
    return Machine(
        cpu=cpu_name(),
        cores=os.cpu_count() or 1,
        usable_cores=usable_cores(),
        memory=total,
        available_memory=available,
        cpu_bf16=native_bf16("cpu"),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        gpus=gpus,
        nccl=distributed and dist.is_nccl_available(),
        gloo=distributed and dist.is_gloo_available(),
    )
