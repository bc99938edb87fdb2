"""Image augmentation cost: one Fashion-MNIST training epoch of the `cnn` with the `basic`
augmentation against the same epoch without it.

Same data (the first 10,000 training images), model, optimizer, batch size (128), seed and
DataLoader (1 worker, persistent, the augmentation running in the worker while the main
process trains); each configuration runs twice, in the order plain, basic, basic, plain,
after one warm-up epoch each, all in one invocation on the same machine.

    python bench/augment.py [--images 10000]

Prints seconds per epoch and the ratio basic / plain (goal: <= 1.10).
"""

from __future__ import annotations

import argparse
import time

import torch

from framework.config.compose import compose
from framework.data.pipeline import build_data
from framework.engine import build_task_parts
from framework.registry import default_registry


def epoch_seconds(augment: bool, images: int) -> float:
    """Seconds of one training epoch (after a warm-up epoch) with or without ``basic``."""
    registry = default_registry()
    overrides = ["recipe=fashion_mnist_cnn", f"data.source.max_train={images}"]
    if augment:
        overrides.append("data/image_augment=[basic]")
    cfg = compose(registry, overrides)
    torch.manual_seed(cfg.seed)
    task = registry.build("task", cfg.task)
    data = build_data(cfg.data, task, registry, cfg.seed, None)
    parts = build_task_parts(cfg, registry, task, data.info)
    model, loss_fn = parts["model"], parts["loss"]
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    loader = torch.utils.data.DataLoader(
        data.datasets["train"], batch_size=128, shuffle=True, num_workers=1,
        persistent_workers=True, generator=torch.Generator().manual_seed(cfg.seed),
    )  # fmt: skip
    timings = []
    for _ in range(2):  # warm-up, then the measured epoch
        start = time.perf_counter()
        for batch in loader:
            preds, target = task.forward(model, batch)
            loss = loss_fn(preds, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        timings.append(time.perf_counter() - start)
    return timings[-1]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    runs: dict[bool, list[float]] = {False: [], True: []}
    for augment in (False, True, True, False):
        runs[augment].append(epoch_seconds(augment, args.images))
    plain, basic = (min(runs[k]) for k in (False, True))
    print(f"plain epoch: {plain:.2f} s   basic epoch: {basic:.2f} s   ratio: {basic / plain:.3f}")


if __name__ == "__main__":
    main()
