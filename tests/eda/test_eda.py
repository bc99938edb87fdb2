"""Exploratory analysis: the numbers of eda.json against an independent computation, the
imbalance and duplicate findings on real data, planted leakage, images, bad input, and the
HTML report in a real browser."""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from framework.errors import PlaitError

WORDS = ["good", "bad", "movie", "plot", "film", "story", "actor", "scene", "long", "fun"]


def run(registry, tmp_path, overrides):
    """Compose, run the data stage and the analysis in-process; (eda.json, stage, folder)."""
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.data.stage import data_tables
    from framework.eda.run import run_eda

    cfg = compose(registry, overrides)
    validate(cfg, registry)
    task = registry.build("task", cfg.task)
    stage = data_tables(cfg.data, task, registry, cfg.seed)
    folder = tmp_path / "eda"
    run_eda(stage, task, cfg.data, folder, "test")
    return json.loads((folder / "eda.json").read_text("utf-8")), stage, folder


@pytest.fixture
def reviews(tmp_path):
    """300 reviews: 3 classes (200/80/20), a numeric column with gaps, 12 exact duplicates
    (one differing only in spacing), a few very long texts."""
    rng = random.Random(0)
    rows = []
    for i in range(300):
        label = "pos" if i < 200 else ("neg" if i < 280 else "mixed")
        n = 60 if i % 50 == 7 else rng.randint(4, 12)
        text = " ".join(rng.choice(WORDS) for _ in range(n)) + f" n{i}"
        score = "" if i % 17 == 0 else f"{rng.uniform(0, 5):.2f}"
        rows.append({"text": text, "label": label, "score": score})
    for i in range(12):
        dup = dict(rows[i * 10])
        dup["text"] = dup["text"].replace(" ", "  ", 1) if i == 0 else dup["text"]
        rows.append(dup)
    pd.DataFrame(rows).to_csv(tmp_path / "r.csv", index=False)
    return tmp_path


def reviews_args(folder, *extra):
    return [
        "~recipe",
        "data/source=csv",
        f"data.source.paths=[{folder}/r.csv]",
        "data.source.label_column=label",
        "data/tokenizer=wordpiece",
        "data.tokenizer.vocab_size=200",
        "data/split=random",
        "data.split.val=0.2",
        "data.split.test=0.2",
        "data.split.overlap=report",
        "data.max_length=10",
        "task=text_classification",
        "model=textcnn",
        *extra,
    ]


def key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_eda_numbers_match_pandas_on_the_same_splits(registry, reviews, tmp_path):
    report, stage, _ = run(registry, tmp_path, reviews_args(reviews))
    labels = stage.labels
    train_words: set[str] = set()
    for name, ds in stage.splits.items():
        df = ds.to_pandas()
        got = report["splits"][name]
        assert got["rows"] == len(df)
        assert got["missing"]["score"] == int(df["score"].isna().sum())
        assert got["duplicates"]["exact"] == len(df) - df["text"].map(key).nunique()
        chars = df["text"].str.len()
        for p in (5, 25, 50, 75, 95):
            assert got["length"]["chars"][f"p{p}"] == pytest.approx(chars.quantile(p / 100))
        assert got["length"]["words"]["mean"] == pytest.approx(
            df["text"].str.split().str.len().mean()
        )
        words = df["text"].str.lower().str.findall(r"[a-z]+").explode()
        assert got["vocabulary"]["words"] == words.nunique()
        if name == "train":
            train_words = set(words)
        else:
            assert got["oov"]["tokens"] == pytest.approx((~words.isin(train_words)).mean())
        tokens = pd.Series([len(x) for x in stage.tokenizer.encode_batch(list(df["text"]))])
        assert got["truncated"]["count"] == int((tokens > 10).sum())
        score = df["score"].dropna()
        for stat, value in (("mean", score.mean()), ("var", score.var()), ("max", score.max())):
            assert got["numeric"]["score"][stat] == pytest.approx(value)
        q1, q3 = chars.quantile(0.25), chars.quantile(0.75)
        outside = (chars < q1 - 1.5 * (q3 - q1)) | (chars > q3 + 1.5 * (q3 - q1))
        assert got["outliers"]["count"] == int(outside.sum())
        counts = df["label"].map(lambda y: labels[y]).value_counts()
        assert got["labels"] == {c: int(counts.get(c, 0)) for c in labels}
    train = report["splits"]["train"]["labels"]
    probs = [n / sum(train.values()) for n in train.values() if n]
    entropy = -sum(p * math.log(p) for p in probs) / math.log(len(probs))
    assert report["imbalance"]["entropy"] == pytest.approx(entropy)
    assert report["imbalance"]["ratio"] == pytest.approx(max(train.values()) / min(train.values()))
    assert any("imbalanced classes" in w and "data/balance=class_weights" in w
               for w in report["warnings"])  # fmt: skip


def test_planted_overlap_is_reported_as_leakage(registry, reviews, tmp_path):
    report, stage, _ = run(registry, tmp_path, reviews_args(reviews))
    train = {key(t) for t in stage.splits["train"]["text"]}
    for other in ("val", "test"):
        shared = sum(key(t) in train for t in stage.splits[other]["text"])
        assert report["leakage"][f"train/{other}"]["exact"] == shared
    assert sum(report["leakage"][f"train/{s}"]["exact"] for s in ("val", "test")) > 0
    assert any(w.startswith("leakage:") for w in report["warnings"])
    clean, _, _ = run(registry, tmp_path, reviews_args(reviews, "data.split.overlap=remove"))
    assert all(v["exact"] == 0 for v in clean["leakage"].values())


def test_near_duplicates_across_splits_are_leakage_too():
    import datasets

    from framework.eda.analyse import analyse

    rng = random.Random(0)
    base = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(40)]
    train = datasets.Dataset.from_dict({"text": base})
    near = [t + "!" for t in base[:4]] + ["completely different words here and there"]
    report, _ = analyse({"train": train, "val": datasets.Dataset.from_dict({"text": near})},
                        None, None, 32, False)  # fmt: skip
    assert report["leakage"]["train/val"] == {
        "exact": 0, "near": 4, "examples": report["leakage"]["train/val"]["examples"]
    }  # fmt: skip


def test_fortunes_report_flags_the_imbalance_and_suggests_a_setting(registry, tmp_path):
    overrides = ["recipe=fortunes", "data.curate.min_class_count.enabled=false",
                 "data/split=random", "data/balance=none"]  # fmt: skip
    report, _, _ = run(registry, tmp_path, overrides)
    overall = report["overall"]["labels"]
    assert min(overall.values()) <= 5 and max(overall.values()) >= 1000
    warning = next(w for w in report["warnings"] if "imbalanced classes" in w)
    assert "data/balance=class_weights" in warning and "min_class_count" in warning


def test_tweets_report_finds_the_duplicates(registry, tmp_path):
    report, stage, _ = run(
        registry,
        tmp_path,
        [
            "recipe=tweets_sentiment",
            "data.curate.dedupe_exact.enabled=false",
            "data.curate.dedupe_minhash.enabled=false",
            "data.split.overlap=report",
        ],
    )
    texts = [t for ds in stage.splits.values() for t in ds["text"]]
    assert report["overall"]["duplicates"]["exact"] == len(texts) - len({key(t) for t in texts})
    assert report["overall"]["duplicates"]["exact"] >= 915  # what dedupe_exact removes
    assert report["leakage"]["train/test"]["exact"] > 50
    assert sum(s["duplicates"]["near"]["near"] for s in report["splits"].values()) > 100
    assert any("dedupe_exact" in w for w in report["warnings"])


def test_image_statistics_and_normalization_values(registry, tmp_path):
    overrides = ["recipe=fashion_mnist_cnn", "data.source.max_train=300"]
    report, stage, folder = run(registry, tmp_path, overrides)
    pixels = np.asarray(stage.splits["train"].with_format("numpy")["image"]) / 255.0
    assert report["splits"]["train"]["sizes"] == {"28x28": len(pixels)}
    assert report["normalization"]["mean"][0] == pytest.approx(pixels.mean(), abs=1e-6)
    assert report["normalization"]["std"][0] == pytest.approx(pixels.std(), abs=1e-6)
    assert (folder / report["charts"]["Training images per class"]).stat().st_size > 10_000


def test_bad_input_is_a_report_line_or_one_error(registry, tmp_path, capsys):
    import datasets

    from framework.cli.main import main
    from framework.eda.analyse import analyse

    train = datasets.Dataset.from_dict({"text": ["a b", "c d"], "label": [0, 1]})
    empty = datasets.Dataset.from_dict({"text": [], "label": []})
    unlabelled = datasets.Dataset.from_dict({"text": ["e f"]})
    report, _ = analyse({"train": train, "val": unlabelled, "test": empty}, None, ["x", "y"],
                        8, False)  # fmt: skip
    assert "split 'test' has no records" in report["warnings"]
    assert "split 'val' has no label column" in report["warnings"]
    (tmp_path / "n.csv").write_text("text,label\n1,a\n2,b\n", "utf-8")
    args = ["eda", "~recipe", "data/source=csv", f"data.source.paths=[{tmp_path}/n.csv]"]
    assert main(args) == 2
    assert "not text" in capsys.readouterr().err.replace("\n", " ")


def test_the_html_report_renders_in_headless_chromium(registry, reviews, tmp_path):
    from PIL import Image

    from tests.conftest import render_in_chromium

    report, _, folder = run(registry, tmp_path, reviews_args(reviews))
    html = (folder / "report.html").read_text("utf-8")
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)  # self-contained
    errors, images = render_in_chromium(folder / "report.html", tmp_path / "shot.png")
    assert errors == []
    assert len(images) == len(report["charts"]) >= 4
    assert all(done and width > 100 for done, width in images)
    shot = np.asarray(Image.open(tmp_path / "shot.png").convert("L"), dtype=float)
    assert shot.std() > 20 and (shot < 100).mean() > 0.005  # text and tables, not a blank page


def test_streaming_recipes_are_refused_with_the_fix(registry):
    from framework.cli.eda import eda

    with pytest.raises(PlaitError, match="data.streaming=false"):
        eda(["data.streaming=true"])


def test_packed_token_lengths_are_the_documents_own(registry, tmp_path):
    overrides = ["data.source.max_chars=150000", "data.tokenizer.vocab_size=300"]
    report, stage, _ = run(registry, tmp_path, overrides)
    for name, ds in stage.splits.items():
        lengths = [len(x) for x in stage.tokenizer.encode_batch(list(ds["text"]))]
        assert report["splits"][name]["length"]["tokens"]["max"] == max(lengths)
        assert report["splits"][name]["length"]["tokens"]["mean"] == pytest.approx(np.mean(lengths))
        assert "truncated" not in report["splits"][name]  # documents are packed, not cut
