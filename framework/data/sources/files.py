"""Sources that read the user's own files: text, JSON Lines, CSV, Parquet, a saved
``datasets`` folder and a folder of images sorted into one sub-folder per class."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Annotated, Any

from framework.checks import Check
from framework.data.sources.ranges import lines_of, read_lines
from framework.errors import PlaitError
from framework.records import (
    BAD_RECORD_POLICIES,
    IMAGE,
    LABEL,
    SPLIT,
    SPLIT_NAMES,
    Rejects,
    check_policy,
    collect,
    dataset,
    decode,
    map_columns,
    read_text,
    split_paths,
    with_splits,
)

RECORDS = ("file", "line", "paragraph", "separator")
"""How ``text_files`` cuts a file into records."""


def text_files(
    paths: list[str] | dict[str, Any] | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    max_chars: int | None = None,
    records: Annotated[str, Check(choices=RECORDS)] = "file",
    separator: str = "\n%\n",
    *,
    streaming: bool = False,
    byte_range: list[int] | None = None,
    first_line: int = 1,
) -> Any:
    """Local text files: one record per file, line, paragraph or separated piece (streaming:
    pieces of at most 1 MB). A distributed engine reads a big file of line records in
    pieces (``byte_range``: the lines starting in it; ``first_line``: the first one's number).

    Args:
        paths: File paths or glob patterns (``**`` recurses); at least one. A mapping
            ``{train: [...], val: [...], test: [...]}`` keeps your own splits (with
            ``data/split=existing``).
        encoding: Text encoding of the files.
        errors: Undecodable bytes: ``strict`` (stop with file:line) or ``replace``.
        max_chars: Stop reading once this many characters are collected (None: read all).
        records: ``file`` (one record per file), ``line``, ``paragraph`` (blank-line
            separated) or ``separator`` (cut at ``separator``); empty pieces are left out.
        separator: What separates records when ``records`` is ``separator``.
    """
    check_policy(errors)
    groups = split_paths(paths)
    if streaming:
        from framework.records import iterable_source

        files = [f for _split, group in groups for f in group]
        return iterable_source(_stream_files, files=files, encoding=encoding, errors=errors)
    texts: list[str] = []
    names: list[str] = []
    splits: list[str | None] = []
    total = 0
    for split, files in groups:
        for path in files:
            if byte_range is not None:
                text = decode(read_lines(path, byte_range), path, encoding, errors, first_line)
            else:
                text = read_text(path, encoding, errors)
            for piece in _pieces(text, records, separator):
                texts.append(piece)
                names.append(str(path))
                splits.append(split)
                total += len(piece)
            if max_chars is not None and total >= max_chars:
                break
    where = f"data.source.paths={paths}"
    return dataset(with_splits({"text": texts, "path": names}, splits), where)


def text_pieces(params: Any) -> list[dict[str, Any]]:
    """``shards`` of ``text_files``: big files in byte ranges when each line is a record
    (other records may cross any byte, and ``max_chars`` reads in order: whole files)."""
    from framework.contract import one_per_file
    from framework.data.sources.ranges import line_pieces

    if params.get("records", "file") == "line" and params.get("max_chars") is None:
        return line_pieces(params)
    return one_per_file(params)


def _pieces(text: str, records: str, separator: str) -> list[str]:
    """The records of one file's text, empty ones left out."""
    if records == "file":
        parts = [text]
    elif records == "line":
        parts = text.splitlines()
    elif records == "paragraph":
        parts = re.split(r"\n\s*\n", text)
    else:
        parts = text.split(separator)
    return [p for p in parts if p.strip()]


PIECE = 1 << 20
"""Characters per record when a text file is streamed."""


def _stream_files(files: list[Path], encoding: str, errors: str) -> Any:
    for path in files:
        text = read_text(path, encoding, errors)
        start = 0
        while start < len(text):
            end = (
                len(text)
                if len(text) - start <= PIECE
                else text.rfind("\n", start, start + PIECE) + 1
            )
            if end <= start:
                end = start + PIECE
            yield {"text": text[start:end], "path": str(path)}
            start = end


def jsonl(
    paths: list[str] | dict[str, Any] | None = None,
    text_column: str = "text",
    label_column: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    bad_records: str = "fail",
    *,
    streaming: bool = False,
    rejects: Rejects | None = None,
    byte_range: list[int] | None = None,
    first_line: int = 1,
) -> Any:
    """JSON Lines files: one JSON object per line (a distributed engine reads a big file in
    pieces: ``byte_range``, the lines starting in it; ``first_line``, the first one's number).

    Args:
        paths: File paths or globs; a mapping ``{train: [...], val: [...], test: [...]}``
            keeps your own splits (with ``data/split=existing``).
        text_column: Field holding the text (renamed to ``text``).
        label_column: Field holding the target (renamed to ``label``); None: unlabelled.
        encoding: Text encoding of the files.
        errors: Undecodable bytes: ``strict`` (stop with file:line) or ``replace``.
        bad_records: A line that is not a JSON object, or whose text field is missing, null
            or not a string: ``fail`` (stop with file:line) or ``skip`` (counted in the data
            report, with examples).
    """
    if bad_records not in BAD_RECORD_POLICIES:
        raise PlaitError(f"data.source.bad_records must be 'fail' or 'skip', not '{bad_records}'")
    groups = split_paths(paths)
    if streaming:
        from framework.records import iterable_source

        files = [f for _split, group in groups for f in group]
        return iterable_source(
            _stream_jsonl, files=files, encoding=encoding, errors=errors,
            bad_records=bad_records, text_column=text_column,
        )  # fmt: skip
    rejects = rejects if rejects is not None else Rejects()
    located = []
    for split, group in groups:
        marked = {SPLIT: split} if split is not None else {}
        for path in group:
            rows = _json_rows(
                path, encoding, errors, bad_records, text_column, rejects, byte_range, first_line
            )
            located += [(where, {**row, **marked}) for where, row in rows]
    rows = [row for _where, row in located]
    if any(text_column in row for row in rows):  # else: the column is missing, said below
        rows = []
        for where, row in located:
            if text_column in row:
                rows.append(row)
            else:
                _bad_record(where, f"its '{text_column}' is missing, not text", bad_records,
                            rejects)  # fmt: skip
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    columns = {k: [row.get(k) for row in rows] for k in keys}
    ds = dataset(columns, f"data.source.paths={list(paths)}")
    return map_columns(ds, f"data.source.paths={list(paths)}", text_column, label_column)


def _json_rows(
    path: Path, encoding: str, errors: str, bad_records: str, text_column: str,
    rejects: Rejects | None = None, byte_range: list[int] | None = None, first_line: int = 1,
) -> Any:  # fmt: skip
    """Objects of one JSON Lines file (or of the lines starting in ``byte_range``); a bad line
    stops with file:line (or is skipped and counted in ``rejects``)."""
    with open(path, "rb") as fh:
        lines = fh if byte_range is None else lines_of(read_lines(path, byte_range))
        for lineno, raw in enumerate(lines, first_line):
            line = decode(raw, path, encoding, errors, first_line=lineno).strip()
            if not line:
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError(f"a JSON {type(row).__name__}, not an object")
                text = row.get(text_column)
                if text_column in row and not isinstance(text, str):
                    said = "null" if text is None else f"of type {type(text).__name__}"
                    raise ValueError(f"its '{text_column}' is {said}, not text")
            except ValueError as exc:
                _bad_record(f"{path}:{lineno}", str(exc).split(": line")[0], bad_records, rejects)
                continue
            yield f"{path}:{lineno}", row


def _bad_record(where: str, why: str, bad_records: str, rejects: Rejects | None) -> None:
    """Stop naming the record, or (skip) count it."""
    if bad_records != "skip":
        raise PlaitError(
            f"{where}: malformed JSON record ({why}); fix the line or set "
            "data.source.bad_records=skip"
        )
    if rejects is not None:
        rejects.add(where, why)


def _stream_jsonl(
    files: list[Path], encoding: str, errors: str, bad_records: str, text_column: str
) -> Any:
    for path in files:
        for _where, row in _json_rows(path, encoding, errors, bad_records, text_column):
            if isinstance(row.get(text_column), str):
                yield {"text": row[text_column]}


def csv(
    paths: list[str] | dict[str, Any] | None = None,
    text_column: str = "text",
    label_column: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> Any:
    """CSV (or TSV with ``delimiter``) files with a header row, read by pandas.

    Args:
        paths: File paths or globs; a mapping ``{train: [...], val: [...], test: [...]}``
            keeps your own splits (with ``data/split=existing``).
        text_column: Column holding the text (renamed to ``text``).
        label_column: Column holding the target (renamed to ``label``); None: unlabelled.
        delimiter: Field separator.
        encoding: Text encoding of the files.
        errors: Undecodable bytes: ``strict`` (stop with file:line) or ``replace``.
    """
    import datasets
    import pandas as pd

    frames = []
    for split, files in split_paths(paths):
        for path in files:
            text = read_text(path, encoding, errors)
            try:
                frame = pd.read_csv(io.StringIO(text), sep=delimiter, keep_default_na=True)
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise PlaitError(f"{path}: malformed CSV ({str(exc).strip()})") from None
            if split is not None:
                frame[SPLIT] = split
            frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise PlaitError(f"data.source.paths={list(paths)}: no records")
    ds = datasets.Dataset.from_pandas(frame, preserve_index=False)
    return map_columns(ds, f"data.source.paths={list(paths)}", text_column, label_column)


def parquet(
    paths: list[str] = [],  # noqa: B006
    text_column: str = "text",
    label_column: str | None = None,
    *,
    row_groups: list[int] | None = None,
) -> Any:
    """Parquet files (read through Arrow, no copy; a distributed engine reads a big file in
    runs of row groups, ``row_groups`` = [first, end)).

    Args:
        paths: File paths or globs.
        text_column: Column holding the text (renamed to ``text``).
        label_column: Column holding the target (renamed to ``label``); None: unlabelled.
    """
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for path in collect(paths):
        try:
            if row_groups is None:
                tables.append(pq.read_table(path))
            else:
                tables.append(pq.ParquetFile(path).read_row_groups(range(*row_groups)))
        except (pa.ArrowInvalid, OSError) as exc:
            raise PlaitError(f"{path}: not a readable Parquet file ({exc})") from None
    table = pa.concat_tables(tables, promote_options="default")
    if table.num_rows == 0:
        raise PlaitError(f"data.source.paths={list(paths)}: no records")
    ds = datasets.Dataset(table)
    return map_columns(ds, f"data.source.paths={list(paths)}", text_column, label_column)


def hf_disk(
    path: str = "???",
    text_column: str = "text",
    label_column: str | None = None,
) -> Any:
    """A data set saved with ``datasets``' ``save_to_disk`` (a Dataset or a DatasetDict).

    Args:
        path: The folder ``save_to_disk`` wrote.
        text_column: Column holding the text (renamed to ``text``); null for image data.
        label_column: Column holding the target (renamed to ``label``); None: unlabelled.
    """
    import datasets

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise PlaitError(f"data.source.path: no folder at '{path}'; give a save_to_disk folder")
    try:
        loaded = datasets.load_from_disk(str(folder))
    except FileNotFoundError as exc:
        raise PlaitError(f"data.source.path: '{path}' is not a saved data set ({exc})") from None
    return map_columns(join_splits(loaded), f"data.source.path={path}", text_column, label_column)


def hf_hub(
    name: str = "???",
    config: str | None = None,
    split: str | None = None,
    text_column: str = "text",
    label_column: str | None = None,
    revision: str | None = None,
) -> Any:
    """``datasets.load_dataset`` by name (needs network access) or a local data folder.

    Args:
        name: Hub repository (``stanfordnlp/imdb``) or a local folder / builder name.
        config: The data set's configuration name, if it has several.
        split: One split to load (None: every split, kept as existing splits).
        text_column: Column holding the text (renamed to ``text``).
        label_column: Column holding the target (renamed to ``label``); None: unlabelled.
        revision: Git revision of the hub repository.
    """
    import datasets

    try:
        loaded = datasets.load_dataset(name, config, split=split, revision=revision)
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlaitError(
            f"data.source.name='{name}' could not be loaded ({first}); check the name, the "
            "network (HF_HUB_OFFLINE is set in tests) or give a local folder"
        ) from None
    return map_columns(join_splits(loaded), f"data.source.name={name}", text_column, label_column)


def join_splits(loaded: Any) -> Any:
    """A DatasetDict becomes one Dataset with a ``_split`` column (train/val/test)."""
    import datasets

    if isinstance(loaded, datasets.Dataset):
        return loaded
    parts = []
    for name, part in loaded.items():
        if name not in SPLIT_NAMES:
            raise PlaitError(
                f"data: unknown split '{name}' in the source; expected one of "
                f"{', '.join(SPLIT_NAMES)}"
            )
        parts.append(part.add_column(SPLIT, [SPLIT_NAMES[name]] * len(part)))
    return datasets.concatenate_datasets(parts)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def image_folder(path: str = "???", suffixes: list[str] = list(IMAGE_SUFFIXES)) -> Any:  # noqa: B006
    """Images sorted into one sub-folder per class (``root/cat/1.png``, ``root/dog/2.png``).

    Args:
        path: The root folder; each sub-folder's name is a class.
        suffixes: File endings read as images.
    """
    import datasets

    root = Path(path).expanduser()
    if not root.is_dir():
        raise PlaitError(f"data.source.path: no folder at '{path}'")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise PlaitError(f"data.source.path: '{path}' has no class sub-folders (root/CLASS/x.png)")
    files, labels = [], []
    for i, name in enumerate(classes):
        for f in sorted((root / name).rglob("*")):
            if f.is_file() and f.suffix.lower() in tuple(suffixes):
                files.append(str(f))
                labels.append(i)
    features = datasets.Features(
        {IMAGE: datasets.Image(), LABEL: datasets.ClassLabel(names=classes)}
    )
    ds = dataset({IMAGE: files, LABEL: labels}, f"data.source.path={path}", features)
    _check_images(files)
    return ds


def _check_images(files: list[str]) -> None:
    from PIL import Image, UnidentifiedImageError

    for f in files:
        try:
            with Image.open(f) as im:
                im.verify()
        except (UnidentifiedImageError, OSError) as exc:
            raise PlaitError(f"{f}: not a readable image ({exc}); remove or replace it") from None
