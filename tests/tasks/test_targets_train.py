"""Multi-label classification and regression learn through the real command: label sets and
numbers that a text determines are recovered on held-out records."""

from __future__ import annotations

import csv
import json
import random
import shutil

import pytest

KEYS = ("apple", "banana", "cherry")
FILLER = ("the", "a", "of", "green", "small", "box", "red", "with", "and", "is")


def _write(tmp_path, rows) -> list[str]:
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [
        "~recipe", "data/source=jsonl", f"data.source.paths=[{path}]",
        "data.source.label_column=label", "data/tokenizer=char", "data.max_length=64",
        "model=textcnn", "model.embed_dim=16", "model.filters=16",
        "trainer.val_every=100", "trainer.ckpt_every=100", "trainer.val_batches=0",
        "trainer.batch_size=32", "optimizer.lr=3e-3", "data.split.val=0.1",
        "data.split.test=0.1",
    ]  # fmt: skip


def _results(tmp_path, name: str) -> dict:
    run = next((tmp_path / "runs" / name).iterdir())
    return json.loads((run / "results.json").read_text())


def test_multi_label_text_classification_recovers_label_sets(plait, tmp_path):
    rnd = random.Random(0)
    rows = []
    for _ in range(1200):
        keys = [k for k in KEYS if rnd.random() < 0.4]
        words = [rnd.choice(FILLER) for _ in range(8)] + keys
        rnd.shuffle(words)
        rows.append({"text": " ".join(words), "label": keys})
    proc = plait("train", *_write(tmp_path, rows), "task=text_classification",
                 "task.multi_label=true", "metric=[f1_macro,exact_match]",
                 "trainer.max_steps=300", "name=multi", "eval=true", timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = _results(tmp_path, "multi")
    assert results["test/f1_macro"] > 0.9, results
    assert results["test/exact_match"] > 0.8, results
    run = next((tmp_path / "runs" / "multi").iterdir())
    ml = json.loads((run / "eval" / "eval.json").read_text())["multilabel"]
    assert ml["metrics"]["f1_macro"]["value"] == pytest.approx(results["test/f1_macro"], abs=1e-5)
    assert [r["class"] for r in ml["per_class"]] == list(KEYS)
    # the analysis writes one prediction per record; compare reads them (no paired test)
    with open(run / "eval" / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == ml["records"]
    exact = sum(r["true"] == r["predicted"] for r in rows) / len(rows)
    assert exact == pytest.approx(results["test/exact_match"], abs=1e-5)
    twin = tmp_path / "runs" / "multi_copy" / run.name
    shutil.copytree(run, twin)
    proc = plait("compare", str(run), str(twin), f"out={tmp_path}/cmp")
    assert proc.returncode == 0, proc.stderr[-3000:]
    compared = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert compared["kind"] == "multilabel" and compared["records"] == ml["records"]
    assert list(compared["paired"].values()) == [{}]
    assert all(m["f1_macro"] == ml["metrics"]["f1_macro"] for m in compared["metrics"].values())


def test_regression_recovers_the_value_a_word_stands_for(plait, tmp_path):
    rnd = random.Random(0)
    value = {"apple": 10.0, "banana": 20.0, "cherry": 40.0}  # far from mean 0, spread 1
    rows = []
    for _ in range(1200):
        key = rnd.choice(KEYS)
        words = [rnd.choice(FILLER) for _ in range(8)] + [key]
        rnd.shuffle(words)
        rows.append({"text": " ".join(words), "label": value[key] + rnd.gauss(0, 1)})
    proc = plait("train", *_write(tmp_path, rows), "task=regression", "trainer.max_steps=300",
                 "name=value", "eval=true", timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = _results(tmp_path, "value")
    assert results["test/r2"] > 0.8, results
    # the loss is the MSE on one scale (two float32 reductions: equal to rounding)
    assert results["test/mse"] == pytest.approx(results["test/loss"], rel=1e-6)
    # the evaluation rescales predictions with the training split's mean and spread
    run = next((tmp_path / "runs" / "value").iterdir())
    reg = json.loads((run / "eval" / "eval.json").read_text())["regression"]
    assert reg["metrics"]["mse"]["value"] == pytest.approx(results["test/mse"], rel=1e-4)
    assert reg["metrics"]["r2"]["value"] == pytest.approx(results["test/r2"], rel=1e-4)
    assert abs(reg["largest"][0]["error"]) >= abs(reg["largest"][-1]["error"])
