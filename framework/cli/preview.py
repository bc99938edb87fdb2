"""``plait augment-preview recipe=... n=16``: what the recipe's augmentation does to real
training examples. Images: a PNG grid, originals in the first row and augmented variants
below. Text: a rich table and a text file of original -> variant, with the operation."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

VARIANT_ROWS = 3
"""Augmented rows under the originals in the image grid."""


def _options(items: list[str]) -> tuple[int, str | None, list[str]]:
    """(n, out, the Hydra overrides) from the command line."""
    n, out, rest = 16, None, []
    for item in items:
        key, _, value = item.partition("=")
        if key == "n":
            if not value.isdigit() or int(value) < 1:
                raise PlaitError(f"augment-preview: n={value} must be a positive whole number")
            n = int(value)
        elif key == "out":
            out = value
        else:
            rest.append(item)
    return n, out, rest


def augment_preview(items: list[str]) -> int:
    """Compose the recipe, run its data stage (cached) and write the preview; exit status."""
    from framework.cli.spine import load, stage
    from framework.rundir import RunDir, recipe_dir

    n, out, overrides = _options(items)
    loaded = load(overrides)
    cfg, registry, task = loaded.cfg, loaded.registry, loaded.task
    has_text = bool(cfg.data.get("text_augment"))
    has_images = bool(cfg.data.get("image_augment"))
    if not has_text and not has_images:
        raise PlaitError(
            "augment-preview: this recipe augments nothing; add data/text_augment=[...] or "
            "data/image_augment=[basic]"
        )
    # offline variants are stored in the split: preview the originals they come from
    data_cfg = cfg.data.copy()
    data_cfg.augment.mode = "online"
    tables = stage(loaded, data_cfg).tables()
    run = RunDir(out) if out else recipe_dir(cfg.name)
    folder = run.path
    folder.mkdir(parents=True, exist_ok=True)
    train = tables.splits["train"]
    picks = sorted(random.Random(cfg.seed).sample(range(len(train)), min(n, len(train))))
    if has_images:
        import torch

        torch.manual_seed(cfg.seed)  # the variants repeat under the seed, as in training
        size = task.image_size or 64  # for image folders of mixed sizes
        records = train.select(picks)
        path = _image_grid(cfg.data, registry, records, size, folder / "augment_preview.png")
        print(f"image preview: {path}")
    if has_text:
        path = _text_table(loaded.augmenter, train.select(picks), cfg.seed, run)
        print(f"text preview: {path}")
    return 0


def _image_grid(data_cfg: Any, registry: Any, records: Any, size: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from framework.augment.images import AugmentImages
    from framework.records import IMAGE, LABEL
    from framework.tasks.image_classification import _as_array

    if IMAGE not in records.column_names:
        raise PlaitError("data/image_augment needs images; this source has text")
    images = torch.from_numpy(_as_array(records, size))
    channels, height, width = images.shape[1:]
    transforms = [
        t
        for node in data_cfg.image_augment.values()
        for t in registry.build("image_augment", node).transforms(channels, height, width)
    ]
    augment = AugmentImages(transforms)
    names = records.features[LABEL].names if LABEL in records.column_names else None
    cols = len(images)
    fig, axes = plt.subplots(
        1 + VARIANT_ROWS, cols, figsize=(1.1 * cols, 1.2 * (1 + VARIANT_ROWS)), squeeze=False
    )
    for c in range(cols):
        shown = [images[c]] + [augment(images[c]) for _ in range(VARIANT_ROWS)]
        for r, img in enumerate(shown):
            ax = axes[r][c]
            arr = img.permute(1, 2, 0).numpy()
            ax.imshow(
                arr[:, :, 0] if channels == 1 else arr, cmap="gray" if channels == 1 else None
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("original" if r == 0 else f"variant {r}", fontsize=8)
        if names:
            axes[0][c].set_title(names[records[c][LABEL]], fontsize=7)
    steps = ", ".join(type(t).__name__ for t in transforms)
    fig.suptitle(f"augmentation: {steps}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _text_table(augmenter: Any, records: Any, seed: int, run: Any) -> Path:
    from rich.console import Console
    from rich.table import Table

    from framework.augment.text import item_seed
    from framework.records import TEXT, column

    if TEXT not in records.column_names:
        raise PlaitError("data/text_augment needs text; this source has images")
    augmenter.load()
    table = Table(title="text augmentation", show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("operation", no_wrap=True)
    table.add_column("text", overflow="fold")
    lines = []
    for i, text in enumerate(column(records, TEXT)):
        table.add_row(str(i + 1), "original", text)
        lines.append(f"[{i + 1}] {text}")
        for variant, op in augmenter.variants(text, item_seed(seed, i)):
            table.add_row("", op, variant)
            lines.append(f"    {op} -> {variant}")
    Console().print(table)
    return run.write_text("augment_preview.txt", "\n".join(lines) + "\n")
