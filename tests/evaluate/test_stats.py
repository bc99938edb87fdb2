"""The evaluation's numbers against independent computations: scikit-learn's per-class report
and confusion matrix, torchmetrics' calibration error, the analytic binomial interval."""

from __future__ import annotations

import numpy as np
import pytest

from framework.evaluate import classify, regress, stats


@pytest.fixture
def predictions():
    """Noisy predictions of 7 unbalanced classes, some never predicted."""
    rng = np.random.default_rng(3)
    true = rng.choice(7, size=2500, p=[0.4, 0.2, 0.15, 0.1, 0.08, 0.05, 0.02])
    logits = rng.normal(size=(2500, 7))
    logits[np.arange(2500), true] += rng.uniform(0, 3, size=2500)
    logits[:, 6] -= 4  # class 6 is (almost) never predicted: zero division in its precision
    return logits, true


def test_per_class_figures_and_confusion_equal_scikit_learn(predictions):
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    logits, true = predictions
    labels = [f"c{i}" for i in range(7)]
    recs = classify.ClassRecords(logits, true, labels, [""] * len(true))
    ours = classify.per_class_table(recs)
    theirs = classification_report(
        true,
        recs.pred,
        labels=list(range(7)),
        target_names=labels,
        output_dict=True,
        zero_division=0,
    )
    for row in ours:
        ref = theirs[row["class"]]
        assert row["precision"] == pytest.approx(ref["precision"])
        assert row["recall"] == pytest.approx(ref["recall"])
        assert row["f1"] == pytest.approx(ref["f1-score"])
        assert row["support"] == ref["support"]
    cm = stats.confusion(true, recs.pred, 7)
    np.testing.assert_array_equal(cm, confusion_matrix(true, recs.pred, labels=list(range(7))))
    for average in ("macro", "weighted"):
        ours_f1 = stats.CONFUSION_SCORES[f"f1_{average}"](cm)
        assert ours_f1 == pytest.approx(f1_score(true, recs.pred, average=average, zero_division=0))


def test_expected_calibration_error_equals_torchmetrics(predictions):
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    logits, true = predictions
    probs = stats.softmax(logits)
    ours = stats.reliability(probs.max(1), probs.argmax(1) == true)["ece"]
    theirs = multiclass_calibration_error(
        torch.from_numpy(probs).float(), torch.from_numpy(true), 7, n_bins=stats.BINS, norm="l1"
    )
    assert ours == pytest.approx(float(theirs), abs=1e-5)
    assert ours > 0.01  # not trivially calibrated


def test_bootstrap_interval_of_accuracy_matches_the_binomial_interval():
    rng = np.random.default_rng(0)
    for n, p in ((400, 0.7), (3600, 0.77)):
        correct = rng.random(n) < p
        true = np.zeros(n, dtype=int)
        pred = np.where(correct, 0, 1)
        iv = stats.bootstrap_scores(true, pred, 2, {"accuracy": stats.accuracy}, seed=1)["accuracy"]
        low, high = stats.wilson(int(correct.sum()), n)
        assert iv.low <= (low + high) / 2 <= iv.high
        assert (iv.high - iv.low) == pytest.approx(high - low, rel=0.15)
        assert iv.value == pytest.approx(correct.mean())


def test_temperature_scaling_undoes_overconfidence():
    rng = np.random.default_rng(5)
    n, c = 4000, 5
    calibrated = rng.normal(size=(n, c)) * 1.5
    probs = stats.softmax(calibrated)
    true = np.array([rng.choice(c, p=row) for row in probs])  # labels drawn from the model
    overconfident = calibrated * 3.0
    t = stats.fit_temperature(overconfident, true)
    assert t == pytest.approx(3.0, rel=0.1)
    val = classify.ClassRecords(overconfident, true, [str(i) for i in range(c)], [])
    test = classify.ClassRecords(overconfident, true, val.labels, [])
    cal = classify.calibration(test, val)
    assert cal["after"]["ece"] < cal["before"]["ece"] / 3
    assert cal["nll_after"] < cal["nll_before"]


def test_paired_bootstrap_tells_a_real_difference_from_none():
    rng = np.random.default_rng(2)
    a = (rng.random(2000) < 0.70).astype(float)
    same = stats.paired_bootstrap(a, a)
    assert same["value"] == 0 and same["p_value"] == 1.0
    b = np.where(rng.random(2000) < 0.15, 1.0, a)  # b fixes 15% of the records
    better = stats.paired_bootstrap(b, a)
    assert better["value"] > 0 and better["low"] > 0 and better["p_value"] < 0.01


def test_regression_figures_equal_scikit_learn():
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    rng = np.random.default_rng(4)
    true = rng.normal(size=800)
    pred = true + rng.normal(scale=0.5, size=800)
    out = regress.analyse(pred, true)
    assert out["metrics"]["mse"]["value"] == pytest.approx(mean_squared_error(true, pred))
    assert out["metrics"]["mae"]["value"] == pytest.approx(mean_absolute_error(true, pred))
    assert out["metrics"]["r2"]["value"] == pytest.approx(r2_score(true, pred))
    m = out["metrics"]["r2"]
    assert m["low"] < m["value"] < m["high"]
    assert out["largest"][0]["error"] ** 2 == pytest.approx(((pred - true) ** 2).max())


def test_roc_and_precision_recall_areas_equal_scikit_learn(predictions):
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    logits, true = predictions
    probs = stats.softmax(logits).round(2)  # ties: several records share a threshold
    for k in range(7):
        c = stats.binary_curves(probs[:, k], true == k)
        assert c["auroc"] == pytest.approx(roc_auc_score(true == k, probs[:, k]))
        assert c["average_precision"] == pytest.approx(
            average_precision_score(true == k, probs[:, k])
        )
        fpr, tpr, _ = roc_curve(true == k, probs[:, k], drop_intermediate=False)
        np.testing.assert_allclose(c["fpr"], fpr)
        np.testing.assert_allclose(c["tpr"], tpr)
    assert stats.binary_curves(probs[:, 0], np.zeros(len(true), bool))["auroc"] is None
