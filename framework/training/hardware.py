"""Hardware presets: each returns the Lightning Trainer arguments for a machine shape."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, DEVICES, Check
from framework.errors import PlaitError

PRESET_PRECISION = {"cpu": {"precision": "32-true"}, "gpu": {"precision": "auto"}}
"""Each preset's precision, used when ``trainer.precision`` is null: float32 on a CPU (the
same numbers on any CPU; ``trainer.precision=auto`` opts into native bfloat16), ``auto`` on a
GPU (bf16-mixed where supported, else 16-mixed)."""
CPU_PRECISION, GPU_PRECISION = PRESET_PRECISION["cpu"], PRESET_PRECISION["gpu"]


def cpu(
    threads: Annotated[int | None, COUNT] = None, processes: Annotated[int, COUNT] = 1
) -> dict[str, Any]:
    """Train on the CPU of this machine; several processes use DDP over gloo.

    Args:
        threads: torch intra-op threads per process (null: the CPUs this process may use,
            less those other processes keep busy when the run starts, shared among the
            processes; the log says the choice).
        processes: Data-parallel processes (more than 1: DDP, for testing multi-device runs).
    """
    if processes > 1:
        return {"accelerator": "cpu", "devices": processes, "strategy": "ddp", "threads": threads,
                **CPU_PRECISION}  # fmt: skip
    return {"accelerator": "cpu", "devices": 1, "threads": threads, **CPU_PRECISION}


def auto(
    threads: Annotated[int | None, COUNT] = None, processes: Annotated[int, COUNT] = 1
) -> dict[str, Any]:
    """What ``plait doctor`` recommends here: every GPU of this node (DDP over several), else
    the CPU.

    Args:
        threads: On a CPU: torch intra-op threads per process (null: the free CPUs, as
            ``hardware=cpu`` chooses them).
        processes: On a CPU: data-parallel processes (more than 1: DDP over gloo).
    """
    if not _may_have_gpus():
        return cpu(threads, processes)
    import torch

    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not found:
        return cpu(threads, processes)
    return {"accelerator": "gpu", "devices": found, "strategy": "ddp" if found > 1 else "auto",
            **GPU_PRECISION}  # fmt: skip


def _may_have_gpus() -> bool:
    """Whether asking torch is worth importing it: torch is loaded already, or the NVIDIA
    driver lists devices (Linux). Composing a config on a CPU machine stays torch-free
    (``plait show`` of a measured model does not import torch)."""
    import os
    import sys

    if "torch" in sys.modules:
        return True
    listed = "/proc/driver/nvidia/gpus"
    return not os.path.isdir("/proc") or (os.path.isdir(listed) and bool(os.listdir(listed)))


def gpu(devices: Annotated[int, COUNT] = 1) -> dict[str, Any]:
    """One node of CUDA GPUs; several devices use DDP.

    Args:
        devices: GPUs to use on this node.
    """
    require_gpus(devices, "hardware=gpu")
    strategy = "ddp" if devices > 1 else "auto"
    return {"accelerator": "gpu", "devices": devices, "strategy": strategy, **GPU_PRECISION}


def ddp(
    devices: Annotated[int, DEVICES] = -1, num_nodes: Annotated[int, COUNT] = 1
) -> dict[str, Any]:
    """Distributed data parallel over several GPUs and nodes (launch one process per node).

    Args:
        devices: GPUs per node (-1: all visible).
        num_nodes: Number of nodes; set MASTER_ADDR, MASTER_PORT and NODE_RANK on each.
    """
    require_gpus(max(devices, 1), "hardware=ddp")
    return {"accelerator": "gpu", "devices": devices, "num_nodes": num_nodes, "strategy": "ddp",
            **GPU_PRECISION}  # fmt: skip


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


def multi_gpu(devices: Annotated[int, DEVICES] = -1) -> dict[str, Any]:
    """DDP over the GPUs of this node (one process each, NCCL).

    Args:
        devices: GPUs to use (-1: all visible; at least 2).
    """
    import torch

    require_gpus(2 if devices == -1 else max(devices, 2), "hardware=multi_gpu")
    found = torch.cuda.device_count()
    return {"accelerator": "gpu", "devices": found if devices == -1 else devices,
            "strategy": "ddp", **GPU_PRECISION}  # fmt: skip


SHARDING = Check(choices=("FULL_SHARD", "SHARD_GRAD_OP", "HYBRID_SHARD", "NO_SHARD"))
WRAPS = Check(choices=("blocks", "none"))


def fsdp(
    devices: Annotated[int, DEVICES] = -1,
    num_nodes: Annotated[int, COUNT] = 1,
    sharding: Annotated[str, SHARDING] = "FULL_SHARD",
    wrap: Annotated[str, WRAPS] = "blocks",
    checkpoint_blocks: bool = False,
) -> dict[str, Any]:
    """Fully sharded data parallel (Lightning's FSDPStrategy): weights, gradients and
    optimizer state sharded over the GPUs, for models that do not fit one.

    Args:
        devices: GPUs per node (-1: all visible).
        num_nodes: Nodes (rendezvous from torchrun or SLURM).
        sharding: FULL_SHARD (everything), SHARD_GRAD_OP (gradients and optimizer state),
            HYBRID_SHARD (within a node, replicated across nodes) or NO_SHARD (as DDP).
        wrap: ``blocks``: one FSDP unit per repeated block of the model (found from its
            structure, as freezing finds them: a transformer's layers), so only one block's
            full weights exist at a time; ``none``: the whole model as one unit.
        checkpoint_blocks: Recompute each block's activations in the backward pass
            (activation checkpointing by the same block type): less memory, ~30% more time.
    """
    require_gpus(max(devices, 1), "hardware=fsdp")
    from lightning.pytorch.strategies import FSDPStrategy

    policy = block_wrap_policy() if wrap == "blocks" else None
    checkpointing = block_wrap_policy() if checkpoint_blocks else None
    strategy = FSDPStrategy(sharding_strategy=sharding, auto_wrap_policy=policy,
                            activation_checkpointing_policy=checkpointing)  # fmt: skip
    return {"accelerator": "gpu", "devices": devices, "num_nodes": num_nodes,
            "strategy": strategy, **GPU_PRECISION}  # fmt: skip


def block_wrap_policy() -> Any:
    """An FSDP policy selecting the model's repeated blocks (``framework.finetune.structure``):
    the block type is read from the module FSDP wraps, so one policy serves Plait's models
    and Hugging Face ones without a class list per architecture."""
    from torch.distributed.fsdp.wrap import CustomPolicy

    from framework.finetune.structure import find_layout

    class BlockPolicy(CustomPolicy):
        def __init__(self) -> None:
            self.blocks: set[int] = set()
            super().__init__(lambda module: id(module) in self.blocks)

        def _run_policy(self, root_module, ignored_modules, root_kwargs):
            way_out = "use hardware.wrap=none"
            path = find_layout(root_module, "hardware=fsdp wrap=blocks", way_out).blocks_at
            self.blocks = {id(m) for m in root_module.get_submodule(path)}
            return super()._run_policy(root_module, ignored_modules, root_kwargs)

    return BlockPolicy()


ACCELERATORS = Check(choices=("gpu", "cpu"))


def multi_node(
    num_nodes: Annotated[int, COUNT] = 2,
    devices: Annotated[int, DEVICES] = -1,
    accelerator: Annotated[str, ACCELERATORS] = "gpu",
) -> dict[str, Any]:
    """DDP over several nodes. Start one launcher per node: ``torchrun --nnodes=N
    --node-rank=R --master-addr=HOST --master-port=PORT -m framework train ...`` (or ``srun``
    under SLURM); Lightning reads the rendezvous from their environment.

    Args:
        num_nodes: Nodes taking part.
        devices: Processes per node: GPUs (-1: all visible), or CPU processes (-1: 1).
        accelerator: ``gpu`` (NCCL) or ``cpu`` (gloo: for testing on one machine).
    """
    if accelerator == "gpu":
        require_gpus(max(devices, 1), "hardware=multi_node")
    per_node = (1 if devices == -1 else devices) if accelerator == "cpu" else devices
    return {"accelerator": accelerator, "devices": per_node, "num_nodes": num_nodes,
            "strategy": "ddp", **PRESET_PRECISION[accelerator]}  # fmt: skip


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
    ``16-mixed`` on a GPU and ``32-true`` on a CPU; any other value as it is."""
    if precision != "auto":
        return precision
    if native_bf16(accelerator):
        return "bf16-mixed"
    return "16-mixed" if accelerator == "gpu" else "32-true"


def wanted_precision(configured: str | None, hardware: dict[str, Any]) -> str:
    """The precision a run asks for: ``trainer.precision``, or (null) the hardware preset's
    own (:data:`PRESET_PRECISION`; a plugin's preset without one gets its accelerator's)."""
    if configured:
        return configured
    accelerator = hardware.get("accelerator", "cpu")
    return (
        hardware.get("precision") or PRESET_PRECISION.get(accelerator, CPU_PRECISION)["precision"]
    )


def run_precision(configured: str | None, hardware: dict[str, Any]) -> str:
    """The precision the Trainer gets: :func:`wanted_precision`, ``auto`` resolved here."""
    return resolve_precision(
        wanted_precision(configured, hardware), hardware.get("accelerator", "cpu")
    )


def trainer_arguments(hardware: dict[str, Any]) -> dict[str, Any]:
    """A preset's Trainer arguments, without its precision default (the engine resolves
    that with ``trainer.precision``)."""
    return {k: v for k, v in hardware.items() if k not in ("precision", "threads")}


def settle_threads(
    cfg: Any, hardware: dict[str, Any], resumed: Any = None, watch: Any = None
) -> str | None:
    """On a CPU preset, choose torch's intra-op threads (``framework.training.threads``), set
    them, and write the count into ``cfg.hardware.threads``, so the run's ``config.yaml`` and
    checkpoints record it: a resumed run (``resumed``: the config it continues) takes the
    count it ran with, and a run started from its config adds up to the same numbers (float
    sums depend on how many threads share them). ``watch``: the
    :class:`~framework.training.threads.LoadWatch` begun before the data stage (None: watch
    the machine now). Returns the log line (None on a GPU)."""
    if hardware.get("accelerator") != "cpu" or "threads" not in cfg.hardware:
        return None
    import torch
    from omegaconf import OmegaConf, open_dict

    from framework.training import threads

    asked = cfg.hardware.threads
    if asked is None and resumed is not None:
        asked = OmegaConf.select(OmegaConf.create(resumed), "hardware.threads", default=None)
    processes = hardware.get("devices", 1) if hardware.get("strategy") == "ddp" else 1
    choice = threads.choose_threads(asked, processes, threads.SHARE_CAP, watch)
    torch.set_num_threads(choice.threads)
    with open_dict(cfg):
        cfg.hardware.threads = choice.threads
    return choice.said
