"""Corpora tokenized elsewhere: a folder made by datatrove's own DocumentTokenizer (on Python
documentation text, with a tokenizer trained here) read document for document, and trained
on through ``data/source=tokenized`` without re-tokenizing; Parquet shards of ids too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from framework.data.sources.tokenized import tokenized
from tests.cli.test_errors import assert_one_line_error
from tests.conftest import TINY_LM

pytestmark = pytest.mark.xdist_group("datatrove")  # one worker builds its module fixtures

DOCS = Path("/usr/share/doc/python3.11/html/_sources")


@pytest.fixture(scope="module")
def datatrove_folder(tmp_path_factory):
    """(folder, tokenizer.json, texts): 60 documentation pages tokenized by datatrove."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.tokens import DocumentTokenizer
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    root = tmp_path_factory.mktemp("datatrove")
    texts = [p.read_text("utf-8") for p in sorted(DOCS.rglob("*.rst.txt"))[:60]]
    (root / "in").mkdir()
    (root / "in/docs.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))  # fmt: skip
    tok.save(str(root / "tokenizer.json"))
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(root / "in")),
            DocumentTokenizer(
                str(root / "out"),
                tokenizer_name_or_path=str(root / "tokenizer.json"),
                eos_token="<|endoftext|>",
                seed=1,
            ),
        ],
        tasks=1,
        logging_dir=str(root / "logs"),
    ).run()
    return root / "out", root / "tokenizer.json", texts


def test_datatrove_documents_are_read_as_datatrove_wrote_them(datatrove_folder):
    from tokenizers import Tokenizer

    folder, tok_path, texts = datatrove_folder
    ds = tokenized(str(folder))
    tok = Tokenizer.from_file(str(tok_path))
    eos = tok.token_to_id("<|endoftext|>")
    want = sorted(tuple([*tok.encode(t).ids, eos]) for t in texts)  # datatrove shuffles
    assert sorted(tuple(ids) for ids in ds["input_ids"]) == want
    (meta,) = folder.rglob("*.ds.metadata")
    assert sum(len(x) for x in ds["input_ids"]) == int(meta.read_text().splitlines()[1])


def test_a_datatrove_folder_trains_without_retokenizing(plait, tmp_path, datatrove_folder):
    folder, tok_path, texts = datatrove_folder
    args = [a for a in TINY_LM if not a.startswith(("data.source", "data.tokenizer"))]
    proc = plait("train", "~recipe", *args, "eval=false", "data/source=tokenized",
                 f"data.source.path={folder}", "data/tokenizer=pretrained",
                 f"data.tokenizer.path={tok_path}", "hydra.run.dir=runs/dt")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "runs/dt/data_report.json").read_text())
    steps = {s["stage"]: s for s in report["steps"]}
    assert steps["source"]["rows_out"] == len(texts)
    assert "not re-tokenized" in steps["tokenize"]["note"]
    metrics = (tmp_path / "runs/dt/metrics.csv").read_text().splitlines()
    head = metrics[0].split(",")
    col = head.index("val/loss")
    vals = [float(r.split(",")[col]) for r in metrics[1:] if r.split(",")[col]]
    assert len(vals) >= 2 and vals[-1] < vals[0]  # it learns from datatrove's ids


def test_parquet_shards_of_ids_and_bad_folders(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"ids": [[1, 2, 3], [4, 5]]}), tmp_path / "a.parquet")
    ds = tokenized(str(tmp_path), ids_column="ids")
    assert ds["input_ids"] == [[1, 2, 3], [4, 5]]
    from framework.errors import PlaitError

    with pytest.raises(PlaitError, match="no column 'input_ids'"):
        tokenized(str(tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlaitError, match="holds no datatrove"):
        tokenized(str(tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.ds").write_bytes(np.arange(10, dtype=np.uint16).tobytes())
    (bad / "x.ds.index").write_bytes(np.array([4, 12], dtype="<u8").tobytes())
    with pytest.raises(PlaitError, match="does not match x.ds"):
        tokenized(str(bad))


def test_a_trainable_tokenizer_on_token_ids_is_one_line(cli, tmp_path, datatrove_folder):
    folder, _tok, _texts = datatrove_folder
    proc = cli("data", "~recipe", "data/source=tokenized", f"data.source.path={folder}")
    assert_one_line_error(proc, "gives token ids already", "data/tokenizer=pretrained")
