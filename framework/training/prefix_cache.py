"""Outputs of a frozen prefix computed once: when a fine-tuning run freezes the embeddings and
the first blocks and nothing changes the tokens between epochs, what those layers output for
a record is the same every epoch. They run once over the training and validation records
(eval mode: no dropout; no gradient), the outputs of the last frozen block are kept in the
cache (``$PLAIT_CACHE/prefix``, keyed by the frozen weights, the records' token ids and the
block), and training runs the blocks above from them (``trainer.cache_frozen``).

Each frozen block is skipped while a batch carries its cached states (a fourth element of the
batch, after ids, lengths and targets): the blocks below the last frozen one pass their input
through, the last returns the cached states, and the blocks above run as always. A batch
without them (the test pass, evaluation, prediction) runs the whole model."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("plait")

SPLITS = ("train", "val")
"""Splits whose prefix outputs are cached (the test split is read once)."""


def frozen_blocks(model: Any) -> int:
    """How many blocks from the input are frozen with the embeddings below them (every
    parameter of them: no adapters, norms or biases left training); 0 when the layout is
    unknown or the embeddings train."""
    from framework.errors import PlaitError
    from framework.finetune.structure import find_layout

    try:
        layout = find_layout(model)
    except PlaitError:
        return 0
    params = dict(model.named_parameters())
    if not layout.embeddings or any(params[n].requires_grad for n in layout.embeddings):
        return 0
    k = 0
    for block in layout.blocks:
        if any(params[n].requires_grad for n in block):
            break
        k += 1
    return k


class PrefixCache:
    """Skips a model's frozen prefix for batches that carry its cached output."""

    def __init__(self, model: Any, k: int) -> None:
        from framework.finetune.structure import find_layout

        self.model, self.k = model, k
        self.blocks = model.get_submodule(find_layout(model).blocks_at)
        self.replay: Any = None
        self._tuple = False
        for i in range(k):
            self._patch(self.blocks[i], last=i == k - 1)
        model.register_forward_pre_hook(self._take_states, with_kwargs=True)
        model.register_forward_hook(self._drop_states)

    def _patch(self, block: Any, last: bool) -> None:
        original = block.forward

        def forward(hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
            if self.replay is None:
                return original(hidden_states, *args, **kwargs)
            out = self.replay if last else hidden_states
            return (out,) if self._tuple else out

        block.forward = forward

    def _take_states(self, module: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        self.replay = kwargs.pop("prefix_states", None)
        return args, kwargs

    def _drop_states(self, module: Any, args: Any, out: Any) -> None:
        self.replay = None

    def compute(self, dataset: Any, collate: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The last frozen block's output for every record of ``dataset``, in eval mode and
        without gradient: (tokens, width) float32 rows, records one after the other, and the
        offset of each record's first row."""
        import torch

        from framework.training.batch_order import eval_batches

        captured: list[Any] = []

        class Done(Exception):
            pass

        def grab(module: Any, args: Any, out: Any) -> None:
            self._tuple = isinstance(out, tuple)
            captured.append(out[0] if self._tuple else out)
            raise Done  # the blocks above are not needed

        handle = self.blocks[self.k - 1].register_forward_hook(grab)
        was_training = self.model.training
        self.model.eval()
        lengths = dataset.lengths()
        rows: list[np.ndarray] = [np.zeros((0, 0), np.float32)] * len(dataset)
        try:
            with torch.no_grad():
                for idx in eval_batches(lengths, batch_size, seed=0):
                    x, lens, _ = collate([dataset[i] for i in idx])
                    captured.clear()
                    with contextlib.suppress(Done):
                        self.model(x, lengths=lens)
                    states = captured[0].float().numpy()
                    for row, i in enumerate(idx):
                        rows[i] = states[row, : int(lens[row])]
        finally:
            handle.remove()
            self.model.train(was_training)
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(r) for r in rows])
        return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32), offsets


class CachedStates:
    """A token dataset whose records also carry their cached prefix output."""

    def __init__(self, dataset: Any, states: np.ndarray, offsets: np.ndarray) -> None:
        self.dataset, self.states, self.offsets = dataset, states, offsets

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[Any, Any, Any]:
        ids, target = self.dataset[i]
        return ids, target, self.states[self.offsets[i] : self.offsets[i + 1]]

    def lengths(self) -> list[int]:
        """Tokens per example (length bucketing)."""
        return self.dataset.lengths()


class StatesCollate:
    """The task's collate, plus the records' cached states padded to the batch's length."""

    def __init__(self, collate: Any) -> None:
        self.collate = collate

    def __call__(self, items: list[Any]) -> tuple[Any, ...]:
        import torch

        if len(items[0]) == 2:  # a split without cached states
            return self.collate(items)
        x, lengths, y = self.collate([(ids, t) for ids, t, _ in items])
        width = items[0][2].shape[1] if items[0][2].ndim == 2 else 0
        states = np.zeros((len(items), x.shape[1], width), dtype=np.float32)
        for row, (_, _, s) in enumerate(items):
            states[row, : len(s)] = s  # read from the memory-mapped cache here
        return x, lengths, y, torch.from_numpy(states)


def cache_key(model: Any, k: int, dataset: Any) -> str:
    """What the cached outputs depend on: the frozen weights, the cut and the records."""
    from framework.finetune.frozen_base import fingerprint
    from framework.finetune.structure import find_layout

    layout = find_layout(model)
    names = layout.embeddings + [n for block in layout.blocks[:k] for n in block]
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{type(model).__name__}:{k}:{fingerprint(model, names)}".encode())
    for ids in dataset.ids:
        digest.update(np.asarray(ids, dtype=np.int64).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def cache_path(model: Any, k: int, dataset: Any, folder: Path) -> Path:
    """The folder holding the prefix outputs of ``dataset`` (``states.npy``, memory-mapped
    when read, and ``offsets.npy``)."""
    return folder / cache_key(model, k, dataset)


def cached_states(
    cache: PrefixCache,
    dataset: Any,
    collate: Any,
    batch_size: int,
    folder: Path,
    path: Path | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The prefix outputs of ``dataset`` from ``folder`` when present (memory-mapped), else
    computed and written there; and whether they were computed now. ``path``: the entry's
    :func:`cache_path`, when the caller has it (hashing the weights and records again costs)."""
    path = path or cache_path(cache.model, cache.k, dataset, folder)
    if (path / "offsets.npy").is_file():
        cache._tuple = (path / "tuple").is_file()
        return np.load(path / "states.npy", mmap_mode="r"), np.load(path / "offsets.npy"), False
    states, offsets = cache.compute(dataset, collate, batch_size)
    partial = folder / f"{path.name}.{os.getpid()}.partial"  # ranks may write at once
    partial.mkdir(parents=True, exist_ok=True)
    np.save(partial / "states.npy", states)
    if cache._tuple:
        (partial / "tuple").touch()
    np.save(partial / "offsets.npy", offsets)  # last: its presence marks a whole entry
    try:
        partial.rename(path)
    except OSError:  # another rank wrote it first
        shutil.rmtree(partial, ignore_errors=True)
    return states, offsets, True


def size_estimate(model: Any, datasets: dict[str, Any]) -> int:
    """Bytes of float32 prefix outputs for the cached splits."""
    width = int(getattr(getattr(model, "config", None), "hidden_size", 0)) or _width(model)
    tokens = sum(sum(ds.lengths()) for name, ds in datasets.items() if name in SPLITS)
    return tokens * width * 4


def _width(model: Any) -> int:
    """The width of the states between blocks: the embedding width of the model."""
    for module in model.modules():
        if hasattr(module, "embedding_dim"):
            return int(module.embedding_dim)
    return 0


def with_cached_prefix(
    model: Any,
    datasets: dict[str, Any],
    collate: Any,
    batch_size: int,
    folder: Path,
    reads: int | None = None,
) -> tuple[dict[str, Any], Any]:
    """Train and validation splits carrying their cached prefix output, and the collate
    that batches them, when ``model``'s embeddings and first blocks are frozen, the splits
    are plain token datasets, and the outputs are in the cache already or the run reads at
    least as many training records as computing them costs (``reads``: the records the run
    will read; None: always); otherwise the inputs unchanged (and why, in the log)."""
    from framework.tasks.text_batches import PadCollate, TokenDataset

    k = frozen_blocks(model)
    plain = all(type(datasets.get(s)) is TokenDataset for s in SPLITS if s in datasets)
    if k == 0 or not isinstance(collate, PadCollate):
        return datasets, collate
    if not plain:
        log.info("frozen blocks recomputed every step: the training tokens change between "
                 "epochs (online augmentation)")  # fmt: skip
        return datasets, collate
    size = size_estimate(model, datasets)
    paths = {s: cache_path(model, k, datasets[s], folder) for s in SPLITS if s in datasets}
    present = all((p / "offsets.npy").is_file() for p in paths.values())
    if not present and reads is not None and reads < len(datasets["train"]):
        log.info(
            "frozen blocks run every step: the run reads %s training records, fewer than the "
            "%s whose frozen-prefix outputs would be computed once (%.1f MiB); a longer run, "
            "or one whose outputs are cached, skips them", f"{reads:,}",
            f"{len(datasets['train']):,}", size / 2**20,
        )  # fmt: skip
        return datasets, collate
    log.info(
        "frozen prefix (embeddings and blocks 0-%d) computed once, eval mode, no gradient: "
        "%.1f MiB of states for the train and val splits, cached in %s",
        k - 1, size / 2**20, folder,
    )  # fmt: skip
    cache = PrefixCache(model, k)
    out = dict(datasets)
    began, made = time.perf_counter(), False
    for name, path in paths.items():
        states, offsets, fresh = cached_states(cache, datasets[name], collate, batch_size,
                                               folder, path)  # fmt: skip
        out[name] = CachedStates(datasets[name], states, offsets)
        made = made or fresh
    log.info("frozen prefix states %s in %.1f s", "computed" if made else "read from the cache",
             time.perf_counter() - began)  # fmt: skip
    return out, StatesCollate(collate)
