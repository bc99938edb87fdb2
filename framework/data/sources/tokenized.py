"""Corpora curated and tokenized elsewhere, trained on as they are: datatrove's tokenized
output (``*.ds`` token files with their ``.ds.index`` of document ends and ``.ds.metadata``)
and Parquet shards with a column of token ids (NeMo Curator, a user's own pipeline). Each
document becomes one record of ``input_ids``; no text is re-tokenized."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.artifacts import IDS
from framework.errors import PlaitError

FORMATS = ("auto", "datatrove", "parquet")


def _files(path: str, suffix: str) -> list[Path]:
    where = Path(os.path.expanduser(path))
    if where.is_dir():
        return sorted(where.rglob(f"*{suffix}"))
    return sorted(Path(p) for p in glob.glob(os.path.expanduser(path), recursive=True)
                  if p.endswith(suffix))  # fmt: skip


def token_size(ds_file: Path) -> int:
    """Bytes per token of a datatrove file, from its ``.metadata`` (``name|size``); 2 when it
    has none (datatrove's default, vocabularies up to 65,536)."""
    meta = ds_file.with_name(ds_file.name + ".metadata")
    if meta.is_file():
        head = meta.read_text("utf-8").splitlines()[0]
        size = head.rpartition("|")[2]
        if size in ("2", "4"):
            return int(size)
    return 2


def datatrove_documents(ds_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """(token ids, document end offsets) of one datatrove file, memory-mapped."""
    index = ds_file.with_name(ds_file.name + ".index")
    if not index.is_file():
        raise PlaitError(
            f"data.source: {ds_file} has no {index.name} (datatrove's document ends); write it "
            "with DocumentTokenizer(save_index=True)"
        )
    size = token_size(ds_file)
    if ds_file.stat().st_size % size:
        raise PlaitError(f"data.source: {ds_file} is not a file of {size}-byte tokens")
    tokens = np.memmap(ds_file, dtype=np.uint16 if size == 2 else np.uint32, mode="r")
    ends = np.fromfile(index, dtype="<u8")
    if len(ends) and (int(ends[-1]) != len(tokens) or np.any(np.diff(ends.astype(np.int64)) < 0)):
        raise PlaitError(
            f"data.source: {index} does not match {ds_file.name} ({int(ends[-1]):,} tokens "
            f"indexed, {len(tokens):,} in the file); the folder is damaged, tokenize it again"
        )
    return tokens, ends


def tokenized(path: str = "???", format: str = "auto", ids_column: str = IDS) -> Any:
    """Documents already tokenized elsewhere, as token ids (use ``data/tokenizer=pretrained``
    with the tokenizer that made them: it gives the vocabulary and decodes samples).

    Args:
        path: A folder (searched recursively) or a glob of datatrove ``*.ds`` files or
            Parquet files.
        format: ``datatrove`` (``*.ds`` + ``.ds.index``), ``parquet`` (a list-of-integers
            column) or ``auto`` (whichever the folder holds).
        ids_column: Parquet only: the column of token ids.
    """
    import datasets
    import pyarrow as pa

    if format not in FORMATS:
        raise PlaitError(f"data.source.format must be one of {', '.join(FORMATS)}, not {format!r}")
    ds_files = _files(path, ".ds") if format in ("auto", "datatrove") else []
    pq_files = _files(path, ".parquet") if format in ("auto", "parquet") and not ds_files else []
    if not ds_files and not pq_files:
        raise PlaitError(
            f"data.source.path={path!r} holds no datatrove *.ds files or Parquet shards; point "
            "it at DocumentTokenizer's output folder or at Parquet files of token ids"
        )
    tables = []
    for f in ds_files:
        tokens, ends = datatrove_documents(f)
        offsets = np.concatenate([[0], ends]).astype(np.int32)
        values = pa.array(np.asarray(tokens, dtype=np.int32))
        tables.append(pa.table({IDS: pa.ListArray.from_arrays(pa.array(offsets), values)}))
    for f in pq_files:
        import pyarrow.parquet as pq

        table = pq.read_table(f)
        if ids_column not in table.column_names:
            raise PlaitError(
                f"data.source: {f} has no column '{ids_column}' (columns: "
                f"{', '.join(table.column_names)}); set data.source.ids_column"
            )
        column = table.column(ids_column)
        if not pa.types.is_list(column.type) or not pa.types.is_integer(column.type.value_type):
            raise PlaitError(
                f"data.source: {f}: column '{ids_column}' holds {column.type}, not lists of "
                "token ids"
            )
        tables.append(pa.table({IDS: column.cast(pa.list_(pa.int32()))}))
    table = pa.concat_tables(tables)
    features = datasets.Features({IDS: datasets.Sequence(datasets.Value("int32"))})
    return datasets.Dataset(table.cast(features.arrow_schema))


def tokenized_files(params: Any) -> list[str]:
    """``files`` of the source: every token file (and its index) under ``path``."""
    path = str(params.get("path", ""))
    if not path or path == "???":
        return []
    return [str(p) for suffix in (".ds", ".ds.index", ".parquet") for p in _files(path, suffix)]
