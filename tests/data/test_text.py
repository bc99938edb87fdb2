"""Sources, tokenizers and splits on real text."""

from __future__ import annotations

import pytest

from framework.data.finish import tokenize
from framework.data.sources.corpora import python_stdlib, wikipedia_sample
from framework.data.sources.files import text_files
from framework.data.splits import random as random_split
from framework.data.tokenizers import TextTokenizer, bpe, char
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.tasks.causal_lm import CausalLM


def test_python_stdlib_reads_real_source_and_skips_tests():
    ds = python_stdlib(max_chars=300_000)
    assert len(ds) > 3 and sum(map(len, ds["text"])) >= 300_000
    assert all(not p.startswith(("test/", "encodings/", "pydoc_data/")) for p in ds["path"])
    assert all("/tests/" not in p and "/test/" not in p for p in ds["path"])
    assert any("def " in t for t in ds["text"])


def test_wikipedia_sample_is_prose_without_markup():
    ds = wikipedia_sample(max_chars=100_000)
    text = " ".join(ds["text"])
    assert "'''" not in text and "[[" not in text
    assert text.count(" the ") > 200


def test_text_files_replace_policy_keeps_the_file(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"caf\xe9 au lait\n")
    ds = text_files(paths=[str(tmp_path / "*.txt")], errors="replace")
    assert ds["text"] == ["caf\ufffd au lait\n"]


@pytest.mark.parametrize("make", [char, bpe])
def test_tokenizers_round_trip_code_exactly(make):
    train = python_stdlib(max_chars=200_000)["text"]
    tok = make() if make is char else make(vocab_size=500)
    tok.train(train)
    sample = "def f(x):\n    return x  # two  spaces\n" + ("\tTab é" if make is bpe else "")
    assert tok.decode(tok.encode_batch([sample])[0]) == sample
    again = TextTokenizer.from_str(tok.to_str())
    assert again.encode_batch([sample]) == tok.encode_batch([sample])
    assert tok.vocab_size <= (512 if make is char else 500)


def test_char_tokenizer_vocabulary_comes_from_the_training_split_only():
    tok = char()
    tok.train(["aab", "ba"])
    assert tok.vocab_size == 5  # <|endoftext|>, <unk>, <pad>, a, b
    assert tok.decode(tok.encode_batch(["abz"])[0]) == "ab<unk>"


def test_random_split_is_seeded_and_disjoint():
    ds = python_stdlib(max_chars=400_000)
    a = random_split(val=0.2, test=0.1)(ds, seed=3)
    b = random_split(val=0.2, test=0.1)(ds, seed=3)
    assert a["val"]["path"] == b["val"]["path"]
    paths = [set(a[s]["path"]) for s in ("train", "val", "test")]
    assert not (paths[0] & paths[1] or paths[0] & paths[2] or paths[1] & paths[2])
    assert sum(map(len, paths)) == len(ds)
    with pytest.raises(PlaitError, match="leave no training data"):
        random_split(val=0.6, test=0.5)


@pytest.mark.parametrize("packed,eos", [(True, True), (True, False), (False, True)])
def test_tokenized_ids_equal_the_tokenizers_own_rows(packed, eos):
    import datasets

    from framework.data.finish import token_ids

    tok = bpe(vocab_size=300)
    texts = ["the cat sat on the mat", "", "a", "on the mat the cat sat down " * 4] * 700
    tok.train(texts)
    if not eos:  # a vocabulary without an end-of-text token
        tok.__class__ = type("NoEos", (type(tok),), {"eos_id": None})
    ds = datasets.Dataset.from_dict({"text": texts, "n": list(range(len(texts)))})
    out = tokenize({"train": ds}, tok, packed=packed, max_length=6)["train"]
    assert out.format["type"] is None and out["n"] == list(range(len(texts)))
    assert out["input_ids"] == token_ids(tok, texts, packed, 6)
    if packed and eos:
        assert out["input_ids"][1] == [tok.eos_id]
    picked = ds.shuffle(seed=0).select(range(1500, 1800))  # a split: an indices mapping
    split = tokenize({"val": picked}, tok, packed=packed, max_length=6)["val"]
    assert split["input_ids"] == token_ids(tok, picked["text"], packed, 6)
    assert split["n"] == picked["n"]
    again = tokenize({"train": out}, tok, packed=packed, max_length=3)["train"]
    assert again.column_names == out.column_names
    assert again["input_ids"] == token_ids(tok, texts, packed, 3)


def test_packing_appends_end_of_text_and_shifts_targets():
    tok = char()
    tok.train(["abcdefgh"])
    import datasets

    splits = {"train": datasets.Dataset.from_dict({"text": ["abcdefgh", "hgfedcba"]})}
    splits = tokenize(splits, tok, packed=True, max_length=4)
    info = DataInfo(vocab_size=tok.vocab_size, max_length=4, eos_id=tok.eos_id)
    out, info = CausalLM().prepare(splits, tok, info)
    blocks = out["train"]
    assert len(blocks) == (18 - 1) // 4  # 16 chars + 2 end-of-text tokens
    x, y = blocks[0]
    assert x.tolist()[1:] == y.tolist()[:-1]
    assert info.vocab_size == tok.vocab_size and info.eos_id == tok.eos_id
