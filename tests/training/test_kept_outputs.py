"""The outputs of training's own validation and test passes, kept for the evaluation."""

from __future__ import annotations

import numpy as np
import torch

from framework.training.kept_outputs import OutputKeeper, loader_order


def _pass(keeper: OutputKeeper, split: str, step: int, batches: list[list[int]], logits):
    keeper.start(split, step)
    for idx in batches:
        keeper.add(split, logits[idx], torch.tensor(idx))


def test_outputs_come_back_in_record_order_from_bucketed_batches():
    logits = torch.randn(7, 3)
    batches = [[4, 1, 6], [0, 5], [3, 2]]
    keeper = OutputKeeper()
    _pass(keeper, "test", 40, batches, logits)
    out, targets = keeper.outputs("test", [i for b in batches for i in b], 7, step=40)
    np.testing.assert_array_equal(out, logits.numpy())
    np.testing.assert_array_equal(targets, np.arange(7))


def test_a_pass_of_other_weights_or_part_of_the_split_is_not_used():
    logits = torch.randn(6, 2)
    keeper = OutputKeeper()
    _pass(keeper, "val", 20, [[0, 1, 2], [3, 4, 5]], logits)
    order = list(range(6))
    assert keeper.outputs("val", order, 6, step=40) is None  # the best weights are step 40's
    assert keeper.outputs("val", order, 6, step=20) is not None
    _pass(keeper, "val", 40, [[0, 1, 2]], logits)  # trainer.val_batches=1
    assert keeper.outputs("val", order, 6, step=40) is None
    assert keeper.outputs("test", order, 6, step=40) is None  # no test pass


def test_per_token_outputs_are_not_kept():
    keeper = OutputKeeper()
    keeper.start("val", 0)
    keeper.add("val", torch.randn(2, 5, 11), torch.zeros(2, 5, dtype=torch.long))
    assert keeper.outputs("val", [0, 1], 2, step=0) is None


def test_loader_order_is_the_order_batches_are_read():
    from torch.utils.data import DataLoader

    batches = [[2, 0], [1]]
    assert loader_order(DataLoader(list(range(3)), batch_sampler=batches)) == [2, 0, 1]
    assert loader_order(DataLoader(list(range(5)), batch_size=2)) == [0, 1, 2, 3, 4]
