"""Batches for training and evaluation, with an exactly resumable training order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from framework.training.batch_order import eval_batches

BUCKET_BATCHES = 50
"""Global batches per window of length bucketing (``trainer.bucket_by_length``)."""


class StepBatchSampler:
    """Endless stream of index batches; the order is a function of (seed, batch number).

    Epoch ``e`` is a permutation seeded with ``seed + e``; batch ``b`` of the stream is the
    ``b``-th slice of that order, so resuming at batch ``start`` replays nothing and skips
    nothing. On several processes each rank takes its own slice of every global batch.
    With ``weights``, each epoch draws ``n`` records with replacement in proportion to them
    (``data/balance=weighted_sampler``) instead of a permutation.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        start: int = 0,
        rank: int = 0,
        world: int = 1,
        weights: list[float] | None = None,
        lengths: list[int] | None = None,
    ) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.rank, self.world = start, rank, world
        self.per_epoch = max(1, n // (batch_size * world))
        self.weights = torch.tensor(weights, dtype=torch.double) if weights is not None else None
        self.lengths = lengths

    def _order(self, epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(self.seed + epoch)
        if self.weights is not None:
            order = torch.multinomial(self.weights, self.n, replacement=True, generator=g).tolist()
        else:
            order = torch.randperm(self.n, generator=g).tolist() if self.n > 1 else [0]
        return self._bucketed(order, g) if self.lengths is not None else order

    def _bucketed(self, order: list[int], g: torch.Generator) -> list[int]:
        """Length bucketing: within each window of ``BUCKET_BATCHES`` global batches of the
        shuffled order, examples sorted by length and cut into batches, the batches
        shuffled; padding shrinks, every example still comes once per epoch."""
        lengths, size = self.lengths, self.batch_size * self.world
        window = size * BUCKET_BATCHES
        batches = []
        for at in range(0, len(order), window):
            chunk = sorted(order[at : at + window], key=lambda i: lengths[i])  # type: ignore[index]
            batches += [chunk[b : b + size] for b in range(0, len(chunk), size)]
        full = [b for b in batches if len(b) == size]
        perm = torch.randperm(len(full), generator=g).tolist()
        return [i for k in perm for i in full[k]] + [i for b in batches if len(b) < size for i in b]

    def __iter__(self) -> Iterator[list[int]]:
        b = self.start
        epoch, order = -1, None
        while True:
            e, i = divmod(b, self.per_epoch)
            if e != epoch:
                order, epoch = self._order(e), e
            first = (i * self.world + self.rank) * self.batch_size
            idx = order[first : first + self.batch_size]  # type: ignore[index]
            if len(idx) < self.batch_size:  # fewer examples than one global batch: wrap around
                idx = [order[j % self.n] for j in range(first, first + self.batch_size)]  # type: ignore[index]
            yield idx
            b += 1


def records_read(
    n: int,
    batch_size: int,
    seed: int,
    batches: int,
    world: int = 1,
    weights: list[float] | None = None,
    lengths: list[int] | None = None,
) -> list[int]:
    """The training records (indices, ascending, each once) that the first ``batches``
    batches of every rank read, in the order :class:`StepBatchSampler` gives them: what a run
    of that many batches reads, known before it starts."""
    read: set[int] = set()
    for rank in range(world):
        stream = iter(StepBatchSampler(n, batch_size, seed, 0, rank, world, weights, lengths))
        for _ in range(batches):
            read.update(next(stream))
    return sorted(read)


class PlaitDataModule(L.LightningDataModule):
    """DataLoaders over the task's datasets; saves its position in checkpoints."""

    def __init__(
        self,
        datasets: dict[str, Any],
        batch_size: int,
        seed: int,
        num_workers: int = 0,
        collate: Any = None,
        sample_weights: list[float] | None = None,
        bucket_by_length: bool = False,
    ) -> None:
        super().__init__()
        self.datasets = datasets
        self.bucket_by_length = bucket_by_length
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.collate = collate
        self.sample_weights = sample_weights
        self.start_batch = 0

    def _loader_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"num_workers": self.num_workers}
        if self.collate is not None:
            kwargs["collate_fn"] = self.collate
        if self.num_workers > 0:
            kwargs["persistent_workers"] = True
        if torch.cuda.is_available():
            kwargs["pin_memory"] = True
        return kwargs

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        train = self.datasets["train"]
        if isinstance(train, torch.utils.data.IterableDataset):  # a stream: slots itself
            train.rank, train.world = rank, world  # type: ignore[attr-defined]
            train.batch_size, train.start_batch = self.batch_size, self.start_batch  # type: ignore[attr-defined]
            train.check_readers(world * max(1, self.num_workers))  # type: ignore[attr-defined]
            return DataLoader(train, batch_size=self.batch_size, **self._loader_kwargs())
        sampler = StepBatchSampler(
            len(self.datasets["train"]),
            self.batch_size,
            self.seed,
            self.start_batch,
            rank,
            world,
            self.sample_weights,
            self._lengths("train"),
        )
        return DataLoader(self.datasets["train"], batch_sampler=sampler, **self._loader_kwargs())

    def _lengths(self, split: str) -> list[int] | None:
        """Example lengths of a split when batches are bucketed by length and its dataset
        knows them (token datasets), else None."""
        lengths = getattr(self.datasets[split], "lengths", None)
        return lengths() if self.bucket_by_length and callable(lengths) else None

    def _eval_loader(self, split: str) -> DataLoader:
        lengths = self._lengths(split)
        if lengths is None:
            return DataLoader(self.datasets[split], batch_size=self.batch_size, shuffle=False,
                              **self._loader_kwargs())  # fmt: skip
        return DataLoader(self.datasets[split], batch_sampler=eval_batches(lengths,
                          self.batch_size, self.seed), **self._loader_kwargs())  # fmt: skip

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def state_dict(self) -> dict[str, Any]:
        """Batches consumed so far: checkpoints are taken at optimizer-step boundaries."""
        trainer = self.trainer
        consumed = trainer.global_step * trainer.accumulate_grad_batches if trainer else 0
        return {"batches_consumed": consumed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.start_batch = int(state.get("batches_consumed", 0))
