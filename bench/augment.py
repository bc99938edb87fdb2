"""Augmentation cost, each against a baseline measured in the same invocation.

Images: one Fashion-MNIST training epoch of the `cnn` with the `basic` augmentation against
the same epoch without it. Same data (the first 10,000 training images), model, optimizer,
batch size (128), seed and DataLoader (1 worker, persistent, the augmentation running in the
worker while the main process trains); each configuration runs twice, in the order plain,
basic, basic, plain, after one warm-up epoch each. Goal: ratio <= 1.10.

Text: EDA variants per second (the four operations, mythes synonyms, the `tweets_500_eda`
settings) on 5,000 tweets, against tokenizing the same tweets one at a time with the
recipe's WordPiece tokenizer (what an online read does anyway); then one `tweets_textcnn`
epoch over those tweets with online EDA (1 worker) against the same epoch without.

    python bench/augment.py [--part images|text|all] [--images 10000] [--texts 5000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from framework.config.compose import compose
from framework.data.stage import prepare_data
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
    data = prepare_data(cfg.data, task, registry, cfg.seed)
    return second_epoch_seconds(cfg, registry, task, data, batch_size=128, lr=2e-3)


def second_epoch_seconds(
    cfg: Any, registry: Any, task: Any, data: Any, batch_size: int, lr: float
) -> float:
    """Seconds of the second training epoch (the first warms up) with one persistent
    DataLoader worker, AdamW and the task's own batches."""
    parts = build_task_parts(cfg, registry, task, data.info)
    model, loss_fn = parts.model, parts.loss
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(
        data.datasets["train"], batch_size=batch_size, shuffle=True, num_workers=1,
        persistent_workers=True, collate_fn=getattr(task, "collate", None),
        generator=torch.Generator().manual_seed(cfg.seed),
    )  # fmt: skip
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        for batch in loader:
            preds, target = task.forward(model, batch)
            loss = loss_fn(preds, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        timings.append(time.perf_counter() - start)
    return timings[-1]


def text_parts(texts: int, eda: bool) -> tuple[Any, Any, Any, Any]:
    """(cfg, task, prepared data, augmenter) of ``tweets_500_eda`` (or ``tweets_textcnn``)
    trained on ``texts`` tweets."""
    from framework.data.augmentation import text_augmenter

    registry = default_registry()
    recipe = "recipe=tweets_500_eda" if eda else "recipe=tweets_500"
    cfg = compose(registry, [recipe, f"data.split.train={texts}"])
    torch.manual_seed(cfg.seed)
    task = registry.build("task", cfg.task)
    data = prepare_data(cfg.data, task, registry, cfg.seed)
    return cfg, task, data, text_augmenter(cfg.data, registry) if eda else None


def text_rates(texts: int) -> tuple[float, float]:
    """(EDA variants per second, single-text tokenizations per second) on the same tweets."""
    import random

    _cfg, _task, data, augmenter = text_parts(texts, eda=True)
    sentences = data.datasets["train"].texts
    rng = random.Random(0)
    start = time.perf_counter()
    for text in sentences:
        augmenter.variant(text, rng)
    eda = len(sentences) / (time.perf_counter() - start)
    encode = data.datasets["train"].encode
    start = time.perf_counter()
    for text in sentences:
        encode(text)
    tok = len(sentences) / (time.perf_counter() - start)
    return eda, tok


def text_epoch_seconds(texts: int, eda: bool) -> float:
    """Seconds of one `textcnn` epoch (after a warm-up epoch) with or without online EDA."""
    cfg, task, data, _ = text_parts(texts, eda)
    return second_epoch_seconds(cfg, default_registry(), task, data, batch_size=32, lr=1e-3)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["images", "text", "all"], default="all")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=5_000)
    args = parser.parse_args()
    if args.part in ("images", "all"):
        runs: dict[bool, list[float]] = {False: [], True: []}
        for augment in (False, True, True, False):
            runs[augment].append(epoch_seconds(augment, args.images))
        plain, basic = (min(runs[k]) for k in (False, True))
        print(
            f"images  plain epoch: {plain:.2f} s   basic epoch: {basic:.2f} s   "
            f"ratio: {basic / plain:.3f}"
        )
    if args.part in ("text", "all"):
        eda, tok = text_rates(args.texts)
        print(
            f"text    EDA: {eda:,.0f} sentences/s   tokenize one at a time: {tok:,.0f} "
            f"sentences/s   ratio (EDA time / tokenize time): {tok / eda:.2f}"
        )
        text_runs: dict[bool, list[float]] = {False: [], True: []}
        for augment in (False, True, True, False):
            text_runs[augment].append(text_epoch_seconds(args.texts, augment))
        plain, online = (min(text_runs[k]) for k in (False, True))
        print(
            f"text    plain epoch: {plain:.2f} s   online EDA epoch: {online:.2f} s   "
            f"ratio: {online / plain:.3f}"
        )


if __name__ == "__main__":
    main()
