"""Targets other than one class: numbers (regression) and label sets (multi-label)."""

from __future__ import annotations

import datasets
import pytest
import torch
from sklearn import metrics as skm

from framework.data.labels import class_counts, encode_labels
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.tasks.regression import regression
from framework.tasks.text_batches import PadCollate
from framework.training import losses
from framework.training import metrics as M


def _ds(labels):
    return datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(len(labels))],
                                       "label": labels})  # fmt: skip


def test_numeric_targets_become_float32_and_numbers_in_strings_are_read():
    ds, names = encode_labels(_ds(["0.5", "1", "2.25"]), "value")
    assert names is None
    assert ds.features["label"].dtype == "float32"
    assert ds["label"] == [0.5, 1.0, 2.25]


def test_label_lists_and_separated_strings_become_id_lists():
    ds, names = encode_labels(_ds([["sport", "news"], ["news"], []]), "multilabel")
    assert names == ["news", "sport"]
    assert ds["label"] == [[0, 1], [0], []]
    assert class_counts(ds, 2) == [2, 1]
    ds, names = encode_labels(_ds(["b | a", "c", "a|a"]), "multilabel", separator="|")
    assert names == ["a", "b", "c"] and ds["label"] == [[0, 1], [2], [0]]


def test_multi_hot_batches():
    x, lengths, y = PadCollate(0, multi_hot=3)([([5, 6], [0, 2]), ([7], [])])
    assert y.tolist() == [[1, 0, 1], [0, 0, 0]]
    assert lengths.tolist() == [2, 1] and x.tolist() == [[5, 6], [7, 0]]


def test_multilabel_metrics_match_scikit_learn():
    g = torch.Generator().manual_seed(0)
    target = (torch.rand(200, 4, generator=g) < 0.3).long()
    logits = torch.randn(200, 4, generator=g) + 2.0 * (target * 2 - 1)
    info = DataInfo(target="multilabel", num_outputs=4, num_classes=4)
    predicted = (logits > 0).long().numpy()
    for name, ref in (
        ("f1_macro", skm.f1_score(target, predicted, average="macro")),
        ("precision_micro", skm.precision_score(target, predicted, average="micro")),
        ("accuracy", (predicted == target.numpy()).mean()),
        ("exact_match", skm.accuracy_score(target, predicted)),
    ):
        builder = M.exact_match if name == "exact_match" else (
            M.accuracy if name == "accuracy" else M.AVERAGED[name])  # fmt: skip
        metric = builder(info=info)
        metric.update(logits, target)
        assert float(metric.compute()) == pytest.approx(ref, abs=1e-6), name
    bce = losses.bce_with_logits(info=info)(logits, target)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, target.float())
    assert torch.allclose(bce, ref)


def test_regression_rescales_the_model_output_to_the_training_targets():
    from framework.data.tokenizers import char

    tok = char()
    tok.train(["abc", "cab"])
    splits = {
        name: datasets.Dataset.from_dict(
            {"input_ids": [[1, 2], [2, 3], [3]], "label": [2.0, 4.0, 6.0]}
        )
        for name in ("train", "val")
    }
    task = regression()
    _, info = task.prepare(splits, tok, DataInfo(pad_id=0))
    assert (info.target, info.num_outputs) == ("value", 1)
    assert info.target_mean == pytest.approx(4.0) and info.target_std == pytest.approx(2.0)
    batch = task.collate([([1, 2], 2.0), ([3], 6.0)])
    preds, y = task.forward(lambda x, lengths: torch.zeros(len(x), 1), batch)
    assert preds.tolist() == [4.0, 4.0] and y.dtype == torch.float32


def test_a_classification_task_refuses_fractional_labels():
    with pytest.raises(PlaitError, match="fractional numbers"):
        encode_labels(_ds([0.5, 1.0]), "class")
