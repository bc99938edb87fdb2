"""Losses against their definitions; metrics against scikit-learn on the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as skm

from framework.datainfo import DataInfo
from framework.training import losses
from framework.training import metrics as M

K = 5
INFO = DataInfo(target="class", num_outputs=K, num_classes=K)


@pytest.fixture(scope="module")
def predictions():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, K, (300,), generator=g)
    logits = torch.randn(300, K, generator=g) + 1.5 * F.one_hot(target, K)  # better than chance
    return logits, target


def test_focal_with_gamma_zero_is_cross_entropy_and_down_weights_easy_examples(predictions):
    logits, target = predictions
    ce = F.cross_entropy(logits, target)
    assert torch.allclose(losses.focal(gamma=0.0, info=INFO)(logits, target), ce)
    assert losses.focal(gamma=2.0, info=INFO)(logits, target) < ce
    w = [1.0, 2.0, 0.5, 1.0, 3.0]
    weighted = losses.focal(gamma=0.0, info=DataInfo(num_classes=K, class_weights=w))
    ref = F.cross_entropy(logits, target, weight=torch.tensor(w))
    assert torch.allclose(weighted(logits, target), ref)


def test_bce_with_logits_pos_weight_follows_the_formula():
    logits = torch.tensor([[0.3, -1.2], [2.0, 0.1]])
    target = torch.tensor([[1, 0], [1, 1]])
    loss = losses.bce_with_logits(pos_weight=[3.0, 1.0], info=INFO)(logits, target)
    p = torch.sigmoid(logits)
    pw = torch.tensor([3.0, 1.0])
    ref = -(pw * target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
    assert torch.allclose(loss, ref)


def test_mse_loss():
    preds, target = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.5, 2.0, 3.0])
    assert torch.isclose(losses.mse(info=INFO)(preds, target), torch.tensor((0.25 + 0 + 1) / 3))


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_averaged_scores_match_scikit_learn(predictions, average):
    logits, target = predictions
    y, yhat = target.numpy(), logits.argmax(-1).numpy()
    p, r, f, _ = skm.precision_recall_fscore_support(y, yhat, average=average, zero_division=0)
    for kind, expected in (("precision", p), ("recall", r), ("f1", f)):
        metric = M.AVERAGED[f"{kind}_{average}"](info=INFO)
        metric.update(logits[:150], target[:150])  # two updates: state accumulates
        metric.update(logits[150:], target[150:])
        assert metric.compute().item() == pytest.approx(expected, abs=1e-6), kind


def test_ranking_and_regression_metrics_match_scikit_learn(predictions):
    logits, target = predictions
    probs = logits.softmax(-1).numpy()
    y = target.numpy()
    auroc = M.auroc(info=INFO)
    auroc.update(logits, target)
    assert auroc.compute().item() == pytest.approx(
        skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"), abs=1e-4
    )
    ap = M.map_macro(info=INFO)
    ap.update(logits, target)
    onehot = np.eye(K)[y]
    assert ap.compute().item() == pytest.approx(
        skm.average_precision_score(onehot, probs, average="macro"), abs=1e-4
    )
    pred, true = logits[:, 0], logits[:, 1] * 0.5 + 0.2
    for build, ref in ((M.mse, skm.mean_squared_error), (M.mae, skm.mean_absolute_error),
                       (M.r2, skm.r2_score)):  # fmt: skip
        m = build(info=INFO)
        m.update(pred, true)
        assert m.compute().item() == pytest.approx(ref(true.numpy(), pred.numpy()), abs=1e-5)
