"""Splits (stratified, group, existing, overlap) and balancing on real data."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import numpy as np
import pytest
import torch

from framework.data import balance, splits
from framework.data.audit import DataReport
from framework.data.finish import remove_overlap
from framework.data.labels import encode_labels
from framework.data.sources.corpora import fortunes
from framework.data.sources.images import digits
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import LABEL, TEXT, column
from framework.training.datamodule import StepBatchSampler
from framework.training.losses import cross_entropy


@pytest.fixture(scope="module")
def fortunes_ds():
    ds, _ = encode_labels(fortunes(min_records=5))
    return ds


def test_stratified_split_keeps_every_class_within_one_example(fortunes_ds):
    out = splits.stratified(val=0.1, test=0.15)(fortunes_ds, seed=7)
    total = Counter(column(fortunes_ds, LABEL))
    for name, share in (("val", 0.1), ("test", 0.15)):
        got = Counter(column(out[name], LABEL))
        for cls, n in total.items():
            assert abs(got[cls] - share * n) <= 1, (name, cls, got[cls], n)
    assert sum(len(s) for s in out.values()) == len(fortunes_ds)
    again = splits.stratified(val=0.1, test=0.15)(fortunes_ds, seed=7)
    assert column(again["val"], TEXT) == column(out["val"], TEXT)
    other = splits.stratified(val=0.1, test=0.15)(fortunes_ds, seed=8)
    assert column(other["val"], TEXT) != column(out["val"], TEXT)


def test_stratified_split_refuses_a_class_of_one():
    ds, _ = encode_labels(datasets.Dataset.from_dict({TEXT: list("abcd"), LABEL: list("xxxy")}))
    with pytest.raises(PlaitError, match="class 'y' has 1 example.*min_class_count"):
        splits.stratified(val=0.25, test=0.0)(ds, seed=0)


def test_ratios_must_not_sum_past_one():
    with pytest.raises(PlaitError, match="sum to 1.1, more than 1"):
        splits.random(train=0.8, val=0.1, test=0.2)


def test_a_training_count_keeps_val_and_test_and_the_class_shares():
    n = 1000
    labels = ["a" if i % 4 else "b" for i in range(n)]  # 750 a, 250 b
    ds, _ = encode_labels(datasets.Dataset.from_dict({TEXT: [f"t{i}" for i in range(n)],
                                                      LABEL: labels}))  # fmt: skip
    full = splits.stratified(val=0.1, test=0.1)(ds, seed=3)
    small = splits.stratified(val=0.1, test=0.1, train=100)(ds, seed=3)
    assert len(small["train"]) == 100 and len(full["train"]) == 800
    assert small["val"][TEXT] == full["val"][TEXT] and small["test"][TEXT] == full["test"][TEXT]
    assert sorted(small["train"][LABEL]).count(1) == 25  # b keeps its quarter
    assert set(small["train"][TEXT]) < set(full["train"][TEXT])
    assert len(splits.random(val=0.1, train=0.5)(ds, seed=3)["train"]) == 500


def test_group_split_never_puts_a_group_in_two_splits():
    n = 300
    ds = datasets.Dataset.from_dict(
        {TEXT: [f"t{i}" for i in range(n)], "author": [i % 23 for i in range(n)]}
    )
    out = splits.group(column="author", val=0.2, test=0.1)(ds, seed=1)
    groups = {name: set(column(s, "author")) for name, s in out.items()}
    assert not (groups["train"] & groups["val"] or groups["train"] & groups["test"])
    assert not groups["val"] & groups["test"]
    assert sum(len(s) for s in out.values()) == n


def test_existing_split_keeps_the_source_test_and_carves_val():
    ds = digits()
    ds = ds.add_column("_split", ["test" if i % 5 == 0 else "train" for i in range(len(ds))])
    out = splits.existing(val=0.1)(ds, seed=0)
    assert len(out["test"]) == len(range(0, len(ds), 5))
    assert abs(len(out["val"]) - 0.1 * (len(ds) - len(out["test"]))) <= 10


def test_planted_overlap_is_removed_from_train_or_reported():
    train = datasets.Dataset.from_dict({TEXT: ["a b", "shared  text", "c"], "_row": [0, 1, 2]})
    test = datasets.Dataset.from_dict({TEXT: ["Shared text".lower(), "z"], "_row": [3, 4]})
    report = DataReport()
    out = remove_overlap({"train": train, "test": test}, "remove", report)
    assert column(out["train"], TEXT) == ["a b", "c"] and len(out["test"]) == 2
    assert report.steps[0].removed_examples == ["shared  text"]
    report = DataReport()
    kept = remove_overlap({"train": train, "test": test}, "report", report)
    assert len(kept["train"]) == 3 and "1 train texts also in test" in report.steps[0].note


def test_class_weights_match_scikit_learn_and_reach_the_loss(fortunes_ds):
    from sklearn.utils.class_weight import compute_class_weight

    train = splits.stratified(val=0.1, test=0.1)(fortunes_ds, seed=0)["train"]
    result = balance.class_weights()(train, 0)
    y = column(train, LABEL)
    k = len(train.features[LABEL].names)
    expected = compute_class_weight("balanced", classes=np.unique(y), y=np.array(y))
    assert result.class_weights == pytest.approx(list(expected))
    assert len(result.class_weights) == k and result.dataset is train
    loss = cross_entropy(info=DataInfo(num_classes=k, class_weights=result.class_weights))
    logits = torch.randn(64, k)
    target = torch.tensor(y)[
        torch.randperm(len(y), generator=torch.Generator().manual_seed(0))[:64]
    ]
    weighted = torch.nn.functional.cross_entropy(
        logits, target, weight=torch.tensor(result.class_weights, dtype=torch.float32)
    )
    assert torch.allclose(loss(logits, target), weighted)
    assert not torch.allclose(
        loss(logits, target), torch.nn.functional.cross_entropy(logits, target)
    )
    off = cross_entropy(class_weights="none", info=DataInfo(class_weights=result.class_weights))
    assert off.weight is None


def test_over_and_undersampling_equalize_classes(fortunes_ds):
    small = fortunes_ds.select(range(0, len(fortunes_ds), 7))
    over = balance.oversample()(small, 0).dataset
    under = balance.undersample()(small, 0).dataset
    before = Counter(column(small, LABEL))
    assert set(Counter(column(over, LABEL)).values()) == {max(before.values())}
    assert set(Counter(column(under, LABEL)).values()) == {min(before.values())}
    assert set(column(under, TEXT)) <= set(column(small, TEXT))


def test_weighted_sampler_draws_classes_about_equally(fortunes_ds):
    result = balance.weighted_sampler()(fortunes_ds, 0)
    labels = column(fortunes_ds, LABEL)
    sampler = iter(StepBatchSampler(len(labels), 256, seed=0, weights=result.sample_weights))
    drawn = Counter(labels[i] for _ in range(40) for i in next(sampler))
    k = len(set(labels))
    expect = 40 * 256 / k
    assert max(drawn.values()) < 1.6 * expect and min(drawn.values()) > 0.4 * expect
    assert result.dataset is fortunes_ds


def test_fortunes_recipe_weights_reach_the_training_loss(registry, tmp_path):
    """The shipped recipe, composed and prepared as `plait train` does, up to the loss."""
    from sklearn.utils.class_weight import compute_class_weight

    from framework.config.compose import compose
    from framework.data.stage import prepare_data
    from framework.engine import build_task_parts
    from framework.rundir import RunDir

    cfg = compose(registry, ["recipe=fortunes"])
    task = registry.build("task", cfg.task)
    data = prepare_data(cfg.data, task, registry, cfg.seed)
    RunDir(tmp_path).write_data(data.report, data.tokenizer, data.info.labels)
    report = json.loads((tmp_path / "data_report.json").read_text())
    counts = report["labels"]
    assert (
        min(counts["train"][c] + counts["val"][c] + counts["test"][c] for c in counts["train"])
        >= 50
    )
    y = [label for _, label in data.datasets["train"]]
    expected = compute_class_weight("balanced", classes=np.unique(y), y=np.array(y))
    loss = build_task_parts(cfg, registry, task, data.info).loss
    assert loss.weight.tolist() == pytest.approx(list(expected), rel=1e-5)
