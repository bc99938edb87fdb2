"""Helpers every source shares: reading files with an encoding policy, building the
``datasets.Dataset``, mapping user columns onto Plait's ``text``/``label`` names."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

TEXT = "text"
"""Column holding the text of a record after column mapping."""
LABEL = "label"
"""Column holding the target of a record after column mapping."""
IMAGE = "image"
"""Column holding the image of a record."""
SPLIT = "_split"
"""Column naming the split a source already assigned (``train``/``val``/``test``)."""
ROW = "_row"
"""Column with each record's original position, so the audit can tell what a step removed."""

ENCODING_POLICIES = ("strict", "replace")
BAD_RECORD_POLICIES = ("fail", "skip")


class Rejects:
    """Records a source left out (``bad_records: skip``), counted with examples for the data
    report: nothing is dropped without being said."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []

    def add(self, where: str, why: str) -> None:
        """Count one record left out at ``where`` (file:line) because of ``why``."""
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append(f"{where}: {why}")


def check_policy(errors: str) -> None:
    """Refuse an unknown encoding-error policy."""
    if errors not in ENCODING_POLICIES:
        raise PlaitError(f"data.source.errors must be 'strict' or 'replace', not '{errors}'")


def decode(data: bytes, path: str | Path, encoding: str, errors: str, first_line: int = 1) -> str:
    """Bytes to text under the policy; ``strict`` fails with file:line of the first bad byte
    (``first_line``: the line number ``data`` starts at)."""
    check_policy(errors)
    try:
        return data.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + first_line
        raise PlaitError(
            f"{path}:{line}: bytes that are not {encoding} ({exc.reason}); "
            "set data.source.errors=replace to replace them, or fix the file"
        ) from None
    except LookupError:
        raise PlaitError(f"data.source.encoding: unknown encoding '{encoding}'") from None


def read_text(path: str | Path, encoding: str = "utf-8", errors: str = "strict") -> str:
    """A whole file as text under the encoding policy (gzip files are unpacked)."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix in (".gz", ".dz"):
        import gzip

        data = gzip.decompress(data)
    return decode(data, path, encoding, errors)


def collect(paths: Sequence[str], key: str = "data.source.paths") -> list[Path]:
    """Expand paths and globs (``**`` recurses) into files; a pattern matching nothing fails."""
    if not paths:
        raise PlaitError(f"{key} is empty; give at least one file or glob such as corpus/*.txt")
    found: list[Path] = []
    for pattern in paths:
        hits = sorted(glob.glob(os.path.expanduser(str(pattern)), recursive=True))
        files = [Path(h) for h in hits if Path(h).is_file()]
        if not files:
            raise PlaitError(f"{key}: no file matches '{pattern}'; check the path")
        found.extend(files)
    return found


SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "valid": "val",
               "test": "test"}  # fmt: skip
"""Names a file source accepts as keys of ``paths`` (``{train: ..., val: ..., test: ...}``)."""


def split_paths(paths: Any, key: str = "data.source.paths") -> list[tuple[str | None, list[Path]]]:
    """(split or None, files) per group of ``paths``: a list is one group without a split; a
    mapping ``{train: [...], val: [...], test: [...]}`` keeps the user's own splits (read
    them with ``data/split=existing``)."""
    if isinstance(paths, dict):
        out = []
        for name, group in paths.items():
            if name not in SPLIT_NAMES:
                raise PlaitError(f"{key}.{name}: not a split; name the groups train, val and test")
            group = [group] if isinstance(group, str) else list(group)
            out.append((SPLIT_NAMES[name], collect(group, f"{key}.{name}")))
        return out
    return [(None, collect(list(paths or []), key))]


def with_splits(columns: dict[str, list[Any]], splits: list[str | None]) -> dict[str, list[Any]]:
    """Add the ``_split`` column when the files came in named groups."""
    if any(s is not None for s in splits):
        columns = {**columns, SPLIT: [s or "train" for s in splits]}
    return columns


def dataset(columns: dict[str, list[Any]], where: str, features: Any = None) -> Any:
    """A ``datasets.Dataset`` from columns; an empty one fails naming where it came from."""
    import datasets

    if not columns or not next(iter(columns.values())):
        raise PlaitError(f"{where}: no records; check the path and the source's filters")
    return datasets.Dataset.from_dict(columns, features=features)


def map_columns(ds: Any, where: str, text_column: str | None, label_column: str | None) -> Any:
    """Rename the user's columns to ``text``/``label``; a missing column lists those present."""
    renames = {}
    for key, col, target in (
        ("text_column", text_column, TEXT),
        ("label_column", label_column, LABEL),
    ):
        if col is None:
            continue
        if col not in ds.column_names:
            raise PlaitError(
                f"{where}: data.source.{key}='{col}' is not a column; columns: "
                f"{', '.join(ds.column_names)}"
            )
        if col != target:
            renames[col] = target
    clash = [t for c, t in renames.items() if t in ds.column_names and t not in renames]
    if clash:
        ds = ds.rename_columns({t: f"{t}_original" for t in clash})
    return ds.rename_columns(renames) if renames else ds


def has_labels(ds: Any) -> bool:
    """Whether records carry a target."""
    return LABEL in ds.column_names


def column(ds: Any, name: str) -> list[Any]:
    """A whole column as a Python list, read through Arrow in one call.

    (``ds[name]`` is a lazy column in ``datasets`` 4+, and iterating it decodes row by row.)
    """
    return ds.with_format("arrow")[name].to_pylist()


def arrow_column(ds: Any, name: str) -> Any:
    """A whole column as an Arrow chunked array in the dataset's order, read in place: an
    indexed dataset (after ``select``, ``shuffle``) is read with one ``take`` over its index
    (``datasets``' own reader gives one chunk per record there, 10x slower to use)."""
    column = ds.data.table.column(name)
    indices = ds._indices  # datasets' index mapping: None when the rows are in order
    return column if indices is None else column.take(indices.column(0))


def arrow_rows(ds: Any, start: int, stop: int, columns: list[str] | None = None) -> Any:
    """Records ``[start, stop)`` of the dataset in its order as one Arrow table (one chunk
    per column; ``columns``: only these), read with one ``take`` over an indexed dataset's
    index."""
    indices = ds._indices  # datasets' index mapping: None when the rows are in order
    table = ds.data.table if columns is None else ds.data.table.select(columns)
    if indices is None:
        return table.slice(start, max(0, stop - start)).combine_chunks()
    return table.take(indices.column(0).slice(start, max(0, stop - start))).combine_chunks()


def image_array(ds: Any) -> Any:
    """The images of a fixed-shape (``Array2D``/``Array3D``) image column as one uint8 array
    (N, *shape), read from the Arrow buffers at once (the NumPy formatter of ``datasets``
    converts one row at a time, 100x slower); None for other image columns."""
    import numpy as np

    feature = ds.features[IMAGE]
    shape = getattr(feature, "shape", None)
    if shape is None:
        return None
    col = ds.with_format("arrow")[IMAGE]
    parts = []
    for chunk in getattr(col, "chunks", [col]):
        values = getattr(chunk, "storage", chunk)
        for _ in shape:
            values = values.flatten()
        parts.append(values.to_numpy(zero_copy_only=False))
    flat = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
    return flat.astype(np.uint8, copy=False).reshape(len(ds), *shape)


def iterable_source(gen: Any, **kwargs: Any) -> Any:
    """A ``datasets.IterableDataset`` over ``gen(**kwargs)`` (for sources' streaming mode)."""
    import datasets

    return datasets.IterableDataset.from_generator(gen, gen_kwargs=kwargs)
