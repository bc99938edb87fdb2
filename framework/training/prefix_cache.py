"""Outputs of a frozen prefix computed once: when a fine-tuning run freezes the embeddings and
the first blocks and nothing changes the tokens between epochs, what those layers output for
a record is the same every epoch, and in every run that reads it. They run once over the
training records (those a run shorter than an epoch reads, or all) and the validation records
(eval mode: no dropout; no gradient), the outputs of the last frozen block are kept in the
cache (``$PLAIT_CACHE/prefix``, keyed by the frozen weights, the records' token ids and the
block), and training runs the blocks above from them (``trainer.cache_frozen``).

Each frozen block is skipped while a batch carries its cached states (a fourth element of the
batch, after ids, lengths and targets): the blocks below the last frozen one pass their input
through, the last returns the cached states, and the blocks above run as always. A batch
without them (the test pass, evaluation, prediction, a record outside the cached ones) runs
the whole model."""

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
                for idx in eval_batches(lengths, _pass_batch(batch_size, lengths), seed=0):
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


PASS_TOKENS = 8192
"""Tokens a batch of the one pass over the records may hold (up to 128 records): larger
than a training batch, since nothing is kept for a backward pass."""


def _pass_batch(batch_size: int, lengths: list[int]) -> int:
    """Records per batch of the pass that computes the prefix outputs: the training batch,
    or more where :data:`PASS_TOKENS` of the longest record allow."""
    longest = max(lengths, default=1) or 1
    return max(batch_size, min(128, PASS_TOKENS // longest))


class CachedStates:
    """A token dataset whose records also carry their cached prefix output.

    ``records``: the dataset's indices the states hold, in their order (None: every record);
    a record outside them comes without states, and its batch runs the whole model."""

    def __init__(
        self,
        dataset: Any,
        states: np.ndarray,
        offsets: np.ndarray,
        records: list[int] | None = None,
        seconds: float = 0.0,
        computed: bool = False,
    ) -> None:
        self.dataset, self.states, self.offsets = dataset, states, offsets
        self.slots: np.ndarray | None = None
        if records is not None:
            self.slots = np.full(len(dataset), -1, dtype=np.int64)
            self.slots[np.asarray(records, dtype=np.int64)] = np.arange(len(records))
        self.seconds, self.computed = seconds, computed
        self.tokens = int(offsets[-1])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        ids, target = self.dataset[i]
        k = i if self.slots is None else int(self.slots[i])
        if k < 0:
            return ids, target
        return ids, target, self.states[self.offsets[k] : self.offsets[k + 1]]

    def lengths(self) -> list[int]:
        """Tokens per example (length bucketing)."""
        return self.dataset.lengths()


class StatesCollate:
    """The task's collate, plus the records' cached states padded to the batch's length."""

    def __init__(self, collate: Any) -> None:
        self.collate = collate

    def __call__(self, items: list[Any]) -> tuple[Any, ...]:
        import torch

        if any(len(item) == 2 for item in items):  # records without cached states
            return self.collate([item[:2] for item in items])
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
    keep: bool = True,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The prefix outputs of ``dataset`` from ``folder`` when present (memory-mapped), else
    computed and written there (``keep=False``: not written); and whether they were computed
    now. ``path``: the entry's :func:`cache_path`, when the caller has it (hashing the
    weights and records again costs)."""
    path = path or cache_path(cache.model, cache.k, dataset, folder)
    if (path / "offsets.npy").is_file():
        cache._tuple = (path / "tuple").is_file()
        return np.load(path / "states.npy", mmap_mode="r"), np.load(path / "offsets.npy"), False
    states, offsets = cache.compute(dataset, collate, batch_size)
    if not keep:
        return states, offsets, True
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


def lacking_room(size: int, folder: Path) -> str | None:
    """Where ``size`` bytes of outputs to compute would not fit: their computation holds
    them twice in memory, which must stay within half of the memory available, and the
    cache's disk must hold them; None where both do."""
    from framework.training import memory

    available = memory.memory_bytes()[1]
    if 2 * size > available // 2:
        return f"in memory (half of the {available / 2**30:.1f} GiB available holds them twice)"
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if size > free:
        return f"on the disk of {folder} ({free / 2**30:.1f} GiB free)"
    return None


def _width(model: Any) -> int:
    """The width of the states between blocks: the embedding width of the model."""
    for module in model.modules():
        if hasattr(module, "embedding_dim"):
            return int(module.embedding_dim)
    return 0


def train_source(
    model: Any, k: int, train: Any, read: list[int] | None, folder: Path
) -> tuple[Any, Path, list[int] | None]:
    """What a run reading ``read`` of ``train`` takes the prefix outputs of: (the records,
    their cache entry, the indices they are or None for the whole split). The whole split
    when its outputs are cached or the run reads every record; else the records it reads."""
    from framework.tasks.text_batches import TokenDataset

    whole = cache_path(model, k, train, folder)
    if read is None or len(read) >= len(train) or (whole / "offsets.npy").is_file():
        return train, whole, None
    part = list(read)
    records = TokenDataset([train.ids[i] for i in part], [train.targets[i] for i in part])
    return records, cache_path(model, k, records, folder), part


def run_prefix(model: Any, train: Any, read: list[int] | None, folder: Path) -> tuple[int, bool]:
    """(tokens, cached): how many training tokens' prefix outputs a run reading ``read`` of
    ``train`` uses, and whether they are in ``folder`` already (``plait doctor
    --estimate``)."""
    records, path, _ = train_source(model, frozen_blocks(model), train, read, folder)
    return sum(records.lengths()), (path / "offsets.npy").is_file()


def with_cached_prefix(
    model: Any,
    datasets: dict[str, Any],
    collate: Any,
    batch_size: int,
    folder: Path,
    read: list[int] | None = None,
    keep_part: bool = True,
) -> tuple[dict[str, Any], Any]:
    """Train and validation splits carrying their cached prefix output, and the collate
    that batches them, when ``model``'s embeddings and first blocks are frozen and the
    splits are plain token datasets; otherwise the inputs unchanged (and why, in the log).

    ``read``: the training records the run reads (indices), when it reads fewer than the
    whole split (a run shorter than an epoch): unless the whole split's outputs are cached
    already, only those records' are computed (the same prefix passes the steps would have
    run) and kept, under the records themselves, so a rerun or a sweep's next trial that
    reads them reads their outputs (``keep_part=False``: computed, not kept; the estimate's
    short trial). None: every record."""
    from framework.tasks.text_batches import PadCollate, TokenDataset

    k = frozen_blocks(model)
    plain = all(type(datasets.get(s)) is TokenDataset for s in SPLITS if s in datasets)
    if k == 0 or not isinstance(collate, PadCollate):
        return datasets, collate
    if not plain:
        log.info("frozen blocks recomputed every step: the training tokens change between "
                 "epochs (online augmentation)")  # fmt: skip
        return datasets, collate
    sources, paths = dict(datasets), {}
    train = datasets.get("train")
    part = None
    if train is not None:  # the whole split's entry, or the records the run reads
        sources["train"], paths["train"], part = train_source(model, k, train, read, folder)
    paths.update({s: cache_path(model, k, datasets[s], folder)
                  for s in SPLITS if s in datasets and s != "train"})  # fmt: skip
    size = size_estimate(model, sources)
    present = all((path / "offsets.npy").is_file() for path in paths.values())
    short = None if present else lacking_room(size, folder)
    if short:
        log.info("frozen blocks run every step: their outputs (%.1f MiB) would not fit %s",
                 size / 2**20, short)  # fmt: skip
        return datasets, collate
    which = ("the train and val splits" if part is None else
             f"the {len(part):,} training records this run reads (of {len(train):,}) and the "
             "val split")  # fmt: skip
    log.info(
        "frozen prefix (embeddings and blocks 0-%d) computed once, eval mode, no gradient: "
        "%.1f MiB of states for %s, %s %s",
        k - 1, size / 2**20, which, "read from" if present else "cached in", folder,
    )  # fmt: skip
    cache = PrefixCache(model, k)
    out = dict(datasets)
    began, made = time.perf_counter(), False
    for name, path in paths.items():
        t0 = time.perf_counter()
        keep = keep_part or name != "train" or part is None
        states, offsets, fresh = cached_states(cache, sources[name], collate, batch_size,
                                               folder, path, keep)  # fmt: skip
        out[name] = CachedStates(datasets[name], states, offsets,
                                 part if name == "train" else None,
                                 time.perf_counter() - t0, fresh)  # fmt: skip
        made = made or fresh
    log.info("frozen prefix states %s in %.1f s", "computed" if made else "read from the cache",
             time.perf_counter() - began)  # fmt: skip
    return out, StatesCollate(collate)
