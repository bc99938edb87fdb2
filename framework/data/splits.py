"""Built-in split strategies."""

from __future__ import annotations

from typing import Any

from framework.errors import PlaitError


class RandomSplit:
    """Shuffle whole records with a seed and cut them into train/val/test by ratio."""

    def __init__(self, val: float, test: float) -> None:
        if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
            raise PlaitError(
                f"data.split ratios val={val} test={test} leave no training data; "
                "use values in [0, 1) with val + test < 1"
            )
        self.val, self.test = val, test

    def __call__(self, dataset: Any, seed: int) -> dict[str, Any]:
        """Split ``dataset``; every split with a positive ratio gets at least one record."""
        n = len(dataset)
        n_val = max(1, round(n * self.val)) if self.val > 0 else 0
        n_test = max(1, round(n * self.test)) if self.test > 0 else 0
        if n - n_val - n_test < 1:
            raise PlaitError(
                f"data.split: {n} records cannot fill train, val ({self.val}) and test "
                f"({self.test}); give more data or lower the ratios"
            )
        order = dataset.shuffle(seed=seed)
        out = {"train": order.select(range(n_val + n_test, n))}
        if n_val:
            out["val"] = order.select(range(n_val))
        if n_test:
            out["test"] = order.select(range(n_val, n_val + n_test))
        return out


def random(val: float = 0.05, test: float = 0.0) -> RandomSplit:
    """Random split of whole records (documents for language modelling), seeded by ``seed``.

    Args:
        val: Share of records for validation.
        test: Share of records for the test split (0: no test split).
    """
    return RandomSplit(val, test)
