"""Built-in split strategies: random, stratified by label, by group, and the source's own.

Every strategy is seeded, gives each split with a positive ratio at least one record, and is
followed by the overlap check: exact duplicate texts shared between splits are removed from
the earlier split (train loses the texts that val or test hold) or reported, as
``overlap`` says.
"""

from __future__ import annotations

import random as _random
from collections import defaultdict
from typing import Annotated, Any

from framework.checks import SHARE, Check
from framework.data.labels import label_kind, require_classes
from framework.errors import PlaitError
from framework.records import LABEL, SPLIT, column

OVERLAP = ("remove", "report")
"""What to do with texts shared between splits."""
OVERLAP_CHECK = Check(choices=OVERLAP)


class Splitter:
    """Shared ratio checks and the order of split names."""

    def __init__(self, train: float | None, val: float, test: float, overlap: str) -> None:
        if overlap not in OVERLAP:
            raise PlaitError(f"data.split.overlap must be 'remove' or 'report', not '{overlap}'")
        for key, v in (("val", val), ("test", test)):
            if not 0 <= v < 1:
                raise PlaitError(f"data.split.{key}={v} must be in [0, 1)")
        if train is not None and train <= 0:
            raise PlaitError(f"data.split.train={train} must be positive (or null: the rest)")
        if train is not None and train <= 1 and train + val + test > 1 + 1e-6:
            raise PlaitError(
                f"data.split ratios train={train} val={val} test={test} sum to "
                f"{train + val + test:g}, more than 1; lower them or leave train out (it takes "
                "the rest)"
            )
        if val + test >= 1:
            raise PlaitError(
                f"data.split ratios val={val} test={test} leave no training data; "
                "keep val + test < 1"
            )
        self.train, self.val, self.test, self.overlap = train, val, test, overlap

    def take_train(self, rest: list[int], n: int, total: int) -> list[int]:
        """The training part of ``rest`` (what val and test left of ``n`` records, out of
        ``total``): all of it, or the first ``train`` share or count of it."""
        if self.train is None:
            return rest
        share = self.train / total if self.train > 1 else self.train
        return rest[: max(1, round(n * share))]

    def counts(self, n: int, where: str = "") -> tuple[int, int]:
        """Records for val and test out of ``n`` (each at least one when its ratio is positive)."""
        n_val = max(1, round(n * self.val)) if self.val > 0 else 0
        n_test = max(1, round(n * self.test)) if self.test > 0 else 0
        if n - n_val - n_test < 1:
            raise PlaitError(
                f"data.split: {n} records{where} cannot fill train, val ({self.val}) and test "
                f"({self.test}); give more data or lower the ratios"
            )
        return n_val, n_test

    @staticmethod
    def assemble(ds: Any, parts: dict[str, list[int]]) -> dict[str, Any]:
        """Select each split's rows (sorted, so records keep the source's order)."""
        order = [n for n in ("train", "val", "test") if n in parts] + [
            n for n in parts if n not in ("train", "val", "test")
        ]
        return {name: ds.select(sorted(parts[name])) for name in order if parts[name]}


def indices_by(ds: Any, name: str) -> dict[Any, list[int]]:
    """Row indices per value of column ``name``, in row order."""
    out: dict[Any, list[int]] = defaultdict(list)
    for i, v in enumerate(column(ds, name)):
        out[v].append(i)
    return out


class RandomSplit(Splitter):
    """Shuffle records with the seed and cut them by ratio."""

    def __call__(self, ds: Any, seed: int) -> dict[str, Any]:
        n_val, n_test = self.counts(len(ds))
        order = list(range(len(ds)))
        _random.Random(seed).shuffle(order)
        return self.assemble(
            ds,
            {
                "train": self.take_train(order[n_val + n_test :], len(ds), len(ds)),
                "val": order[:n_val],
                "test": order[n_val : n_val + n_test],
            },
        )


def random(
    val: Annotated[float, SHARE] = 0.05,
    test: Annotated[float, SHARE] = 0.0,
    train: float | None = None,
    overlap: Annotated[str, OVERLAP_CHECK] = "remove",
) -> RandomSplit:
    """Random split of whole records (documents for language modelling), seeded by ``seed``.

    Args:
        val: Share of records for validation.
        test: Share of records for the test split (0: no test split).
        train: Training records: null takes the rest; a share (at most 1 - val - test) or a
            count (above 1) takes that many of the rest and leaves the others out, for
            small-data runs that keep the same val and test.
        overlap: Exact duplicate texts shared between splits: ``remove`` them from the
            earlier split (train, then val) or ``report`` them in the data report.
    """
    return RandomSplit(train, val, test, overlap)


class StratifiedSplit(Splitter):
    """Split each class by the ratios, so every split keeps the class proportions."""

    def __call__(self, ds: Any, seed: int) -> dict[str, Any]:
        if LABEL not in ds.column_names:
            raise PlaitError(
                "data.split=stratified needs labels; set data.source.label_column or use "
                "data/split=random"
            )
        require_classes(ds, "data/split=stratified", "use data/split=random")
        by_class = indices_by(ds, LABEL)
        need = 1 + (self.val > 0) + (self.test > 0)
        names = ds.features[LABEL].names if hasattr(ds.features[LABEL], "names") else None
        for y, idx in by_class.items():
            if len(idx) < need:
                label = names[y] if names else y
                raise PlaitError(
                    f"data.split=stratified: class '{label}' has {len(idx)} example(s), fewer "
                    f"than the {need} splits; drop rare classes with data/curate=[min_class_count] "
                    f"(min_count={need}) or use data/split=random"
                )
        rng = _random.Random(seed)
        parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        for y in sorted(by_class):
            idx = by_class[y]
            rng.shuffle(idx)
            n = len(idx)
            n_val = round(n * self.val)
            n_test = round(n * self.test)
            n_val, n_test = min(n_val, n - 1), min(n_test, max(0, n - 1 - n_val))
            parts["val"] += idx[:n_val]
            parts["test"] += idx[n_val : n_val + n_test]
            parts["train"] += self.take_train(idx[n_val + n_test :], n, len(ds))
        return self.assemble(ds, parts)


def stratified(
    val: Annotated[float, SHARE] = 0.1,
    test: Annotated[float, SHARE] = 0.1,
    train: float | None = None,
    overlap: Annotated[str, OVERLAP_CHECK] = "remove",
) -> StratifiedSplit:
    """Split each class by the ratios: every split's class proportions are within one
    example of exact. Needs a ``label`` column; every class needs a record per split.

    Args:
        val: Share of each class for validation.
        test: Share of each class for the test split.
        train: Training records: null takes the rest; a share (at most 1 - val - test) or a
            count (above 1) takes that many of the rest and leaves the others out, for
            small-data runs that keep the same val and test.
        overlap: Exact duplicate texts shared between splits: ``remove`` or ``report``.
    """
    return StratifiedSplit(train, val, test, overlap)


class GroupSplit(Splitter):
    """Assign whole groups to splits, so no group appears in two."""

    def __init__(
        self, column: str, train: float | None, val: float, test: float, overlap: str
    ) -> None:
        super().__init__(train, val, test, overlap)
        self.column = column

    def __call__(self, ds: Any, seed: int) -> dict[str, Any]:
        if self.column not in ds.column_names:
            raise PlaitError(
                f"data.split.column='{self.column}' is not a column; columns: "
                f"{', '.join(ds.column_names)}"
            )
        groups = indices_by(ds, self.column)
        keys = sorted(groups, key=str)
        _random.Random(seed).shuffle(keys)
        n_val, n_test = self.counts(len(ds))
        if len(keys) < 1 + (n_val > 0) + (n_test > 0):
            raise PlaitError(
                f"data.split=group: only {len(keys)} group(s) in '{self.column}'; "
                "need one per split"
            )
        parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        targets = [("val", n_val), ("test", n_test)]
        it = iter(keys)
        for name, target in targets:
            while target > 0 and len(parts[name]) < target:
                parts[name] += groups[next(it)]
        for k in it:
            parts["train"] += groups[k]
        parts["train"] = self.take_train(parts["train"], len(ds), len(ds))
        if not parts["train"]:
            raise PlaitError(
                "data.split=group: the groups left nothing for training; lower the ratios"
            )
        return self.assemble(ds, parts)


def group(
    column: str = "group",
    val: Annotated[float, SHARE] = 0.1,
    test: Annotated[float, SHARE] = 0.0,
    train: float | None = None,
    overlap: Annotated[str, OVERLAP_CHECK] = "remove",
) -> GroupSplit:
    """Split by a group column (author, source file, patient): no group lands in two splits.
    Groups are shuffled with the seed and taken until each split has its share of records.

    Args:
        column: Column naming each record's group.
        val: Share of records for validation (whole groups, so approximate).
        test: Share of records for the test split.
        train: Training records: null takes the rest; a share (at most 1 - val - test) or a
            count (above 1) takes that many of the rest and leaves the others out, for
            small-data runs that keep the same val and test.
        overlap: Exact duplicate texts shared between splits: ``remove`` or ``report``.
    """
    return GroupSplit(column, train, val, test, overlap)


class ExistingSplit(Splitter):
    """Keep the source's own splits; carve validation out of train when the source has none."""

    def __init__(self, val: float, stratify: bool, overlap: str) -> None:
        super().__init__(None, val, 0.0, overlap)
        self.stratify = stratify

    def __call__(self, ds: Any, seed: int) -> dict[str, Any]:
        if SPLIT not in ds.column_names:
            raise PlaitError(
                "data.split=existing: this source has no splits of its own; use data/split=random "
                "or data/split=stratified"
            )
        out = self.assemble(ds, indices_by(ds, SPLIT))
        if "val" not in out and self.val > 0:
            carve = (
                StratifiedSplit
                if self.stratify and LABEL in ds.column_names and label_kind(ds) == "class"
                else RandomSplit
            )(None, self.val, 0.0, self.overlap)
            inner = carve(out["train"], seed)
            out["train"], out["val"] = inner["train"], inner["val"]
        return out


def existing(
    val: Annotated[float, SHARE] = 0.1,
    stratify: bool = True,
    overlap: Annotated[str, OVERLAP_CHECK] = "remove",
) -> ExistingSplit:
    """The source's own train/val/test splits (Fashion-MNIST's 60k/10k, a saved DatasetDict).

    Args:
        val: When the source has no validation split, this share of train becomes one.
        stratify: Carve validation per class when records have labels.
        overlap: Exact duplicate texts shared between splits: ``remove`` or ``report``.
    """
    return ExistingSplit(val, stratify, overlap)
