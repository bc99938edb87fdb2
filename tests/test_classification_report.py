"""Per-class metrics and the confusion matrix of a real run equal scikit-learn's
classification_report and confusion_matrix on the same predictions (the best checkpoint on
the test split)."""

from __future__ import annotations

import csv
import json

import pytest
import torch


def test_per_class_metrics_match_scikit_learn(plait, tmp_path, registry):
    from omegaconf import OmegaConf
    from sklearn.metrics import classification_report, confusion_matrix

    from framework.data.info import DataInfo
    from framework.data.stage import prepare_data

    proc = plait(
        "train",
        "recipe=fortunes",
        "model=textcnn",
        "model.embed_dim=32",
        "model.filters=16",
        "data.max_length=48",
        "trainer.max_steps=40",
        "trainer.val_every=20",
        "trainer.ckpt_every=20",
        "metric=[precision_per_class,recall_per_class,f1_per_class,f1_macro,confusion_matrix]",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = next((tmp_path / "runs/fortunes").iterdir())
    with open(run / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    logged = {k: float(v) for row in rows for k, v in row.items() if k.startswith("test/") and v}

    ckpt = torch.load(run / "checkpoints/best.ckpt", map_location="cpu", weights_only=False)
    cfg = OmegaConf.create(ckpt["plait"]["config"])
    info = DataInfo.from_dict(ckpt["plait"]["data_info"])
    model = registry.build("model", cfg.model, info=info)
    model.load_state_dict(
        {k[6:]: v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
    )
    model.eval()
    task = registry.build("task", cfg.task)
    data = prepare_data(cfg.data, task, registry, cfg.seed)
    test = data.datasets["test"]
    preds, target = [], []
    with torch.no_grad():
        for i in range(0, len(test), 64):
            x, lengths, y = task.collate([test[j] for j in range(i, min(i + 64, len(test)))])
            preds += model(x, lengths=lengths).argmax(-1).tolist()
            target += y.tolist()
    report = classification_report(
        target, preds, labels=list(range(len(info.labels))), target_names=info.labels,
        output_dict=True, zero_division=0,
    )  # fmt: skip
    for label in info.labels:
        for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert logged[f"test/{ours}_per_class/{label}"] == pytest.approx(
                report[label][theirs], abs=1e-5
            ), (label, ours)
    assert logged["test/f1_macro"] == pytest.approx(report["macro avg"]["f1-score"], abs=1e-5)
    written = json.loads((run / "confusion_matrix_test.json").read_text())
    assert written["labels"] == info.labels
    expected = confusion_matrix(target, preds, labels=list(range(len(info.labels))))
    assert written["matrix"] == expected.tolist()
    assert (run / "confusion_matrix_test.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
