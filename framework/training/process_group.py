"""The end of a distributed run's process group."""

from __future__ import annotations


def end_process_group() -> None:
    """Destroy this process's default process group, if one is up.

    Lightning leaves the group in place when a fit ends. A process that then exits with a
    gloo group alive may abort at interpreter shutdown ("terminate called without an active
    exception", SIGABRT), while gloo's worker threads still hold work; Lightning's launcher
    then kills the run's other ranks. Each rank calls this once its run is done; it sends
    nothing to the others, so a rank that finished early does not wait for rank 0's report.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
