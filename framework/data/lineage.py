"""Per-record lineage: every record the data stage removes or changes, at which step, why
and (for duplicates) for which kept record, then the split each surviving record went to;
streamed to ``lineage.parquet`` in pieces of :data:`CHUNK` records, so it holds no more than
one piece in memory whatever the corpus's size. ``plait data --why`` reads it back.

Records are named by ``_row``: their position in the source, counted from 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from framework.records import ROW, TEXT, arrow_column, arrow_rows, column

CHUNK = 10_000
"""Records handled (and written) at a time."""

FILE = "lineage.parquet"
"""The file's name, in the data cache's entry and in a run dir."""


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("record", pa.int64()),      # the record's _row
        ("stage", pa.string()),      # source, curate, clean, labels, split, balance
        ("step", pa.string()),       # the step's name in the recipe
        ("event", pa.string()),      # removed, changed, placed
        ("reason", pa.string()),     # the step and its settings; a split's name
        ("duplicate_of", pa.int64()),  # the kept record a duplicate was removed for
        ("text", pa.string()),       # the text before the step (placed: as trained on)
        ("after", pa.string()),      # changed: the text after the step
    ])  # fmt: skip


class Lineage:
    """A ``lineage.parquet`` being written; each call appends row groups."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: Any = None

    def _write(self, **columns: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(columns["record"])
        if n == 0:
            return
        empty = [None] * n
        full = {name: columns.get(name) or empty for name in _schema().names}
        table = pa.table(full, schema=_schema())
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(self.path), _schema(), compression="zstd")
        self._writer.write_table(table)

    def step(
        self,
        stage: str,
        name: str,
        before: Any,
        after: Any,
        rows_in: np.ndarray,
        gone: np.ndarray,
        settings: str = "",
        duplicates: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """The records a step removed and those whose text it changed: ``rows_in`` are the
        ``_row`` ids of ``before``, ``gone`` marks the ones not in ``after``; ``duplicates``:
        removed and kept positions in ``before``, from a dedupe."""
        if after is before:  # a step that kept the table as it was
            return
        reason = f"{stage} step '{name}'" + (f" ({settings})" if settings else "")
        has_text = TEXT in before.column_names
        kept_for = None
        if duplicates is not None and len(duplicates[0]):
            kept_for = np.full(len(rows_in), -1, np.int64)
            kept_for[duplicates[0]] = rows_in[duplicates[1]]
        for part in _pieces(np.flatnonzero(gone)):
            dup = None
            if kept_for is not None:
                dup = [int(k) if k >= 0 else None for k in kept_for[part]]
            texts = column(before.select(part), TEXT) if has_text else None
            self._write(record=rows_in[part].tolist(), stage=[stage] * len(part),
                        step=[name] * len(part), event=["removed"] * len(part),
                        reason=[reason] * len(part), duplicate_of=dup, text=texts)  # fmt: skip
        if has_text and TEXT in after.column_names:
            self._changes(stage, name, before, after, rows_in, gone, reason)

    def _changes(self, stage: str, name: str, before: Any, after: Any, rows_in: np.ndarray,
                 gone: np.ndarray, reason: str) -> None:  # fmt: skip
        kept = np.flatnonzero(~gone)
        if len(kept) != len(after):  # a step that reorders or adds records: no pairing
            return
        import pyarrow.compute as pc

        for at in range(0, len(kept), CHUNK):
            part = kept[at : at + CHUNK]
            now = arrow_rows(after, at, at + len(part), [ROW, TEXT])
            if not np.array_equal(rows_in[part], now.column(ROW).to_numpy()):
                return  # reordered: no pairing
            old = arrow_column(before.select(part), TEXT)
            new = now.column(TEXT)
            differ = np.asarray(pc.fill_null(pc.not_equal(old, new), True))
            idx = np.flatnonzero(differ)
            if len(idx):
                self._write(record=rows_in[part][idx].tolist(), stage=[stage] * len(idx),
                            step=[name] * len(idx), event=["changed"] * len(idx),
                            reason=[reason] * len(idx), text=old.take(idx).to_pylist(),
                            after=new.take(idx).to_pylist())  # fmt: skip

    def placed(self, splits: dict[str, Any], how: str) -> None:
        """Where every record that came through went: one ``placed`` event per record and
        split (``how``: the splitter's name), with the text training reads; a record copied
        by oversampling says how many copies."""
        for split, ds in splits.items():
            if ROW not in ds.column_names:
                continue
            rows = arrow_column(ds, ROW).to_numpy()
            order = np.argsort(rows, kind="stable")
            unique, first, counts = np.unique(rows[order], return_index=True, return_counts=True)
            positions = order[first]
            for part in _pieces(np.arange(len(unique))):
                texts = (column(ds.select(positions[part]), TEXT) if TEXT in ds.column_names
                         else None)  # fmt: skip
                reasons = [f"in the {split} split ({how})" if c == 1 else
                           f"in the {split} split ({how}), {c} copies (oversampled)"
                           for c in counts[part]]  # fmt: skip
                self._write(record=unique[part].tolist(), stage=["split"] * len(part),
                            step=[how] * len(part), event=["placed"] * len(part),
                            reason=reasons, text=texts)  # fmt: skip

    def close(self) -> Path | None:
        """Finish the file; its path (None when nothing was written)."""
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        return self.path


def _pieces(positions: np.ndarray) -> Iterator[np.ndarray]:
    for at in range(0, len(positions), CHUNK):
        yield positions[at : at + CHUNK]


def settings_of(node: Any) -> str:
    """A step's settings as ``key=value, ...`` (its config node without name and switch)."""
    from framework.kinds import ENABLED_KEY, NAME_KEY

    plain = dict(node) if isinstance(node, dict) else {}
    return ", ".join(f"{k}={v}" for k, v in plain.items() if k not in (NAME_KEY, ENABLED_KEY))


def records_matching(path: Path, query: str, limit: int = 5) -> tuple[list[int], int]:
    """The records ``query`` names: a record number, else the records whose text (at any
    step) equals it, else those whose text holds it; at most ``limit``, and how many match."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if query.strip().lstrip("#").isdigit():
        wanted = int(query.strip().lstrip("#"))
        found = set()
        for batch in pq.ParquetFile(path).iter_batches(columns=["record"]):
            if pc.any(pc.equal(batch.column(0), wanted)).as_py():
                found.add(wanted)
                break
        return sorted(found), len(found)
    for mode in ("equal", "holds"):
        found = set()
        for batch in pq.ParquetFile(path).iter_batches(columns=["record", "text"]):
            texts = batch.column(1)
            hit = (pc.equal(texts, query) if mode == "equal"
                   else pc.match_substring(texts, query))  # fmt: skip
            found.update(batch.column(0).filter(pc.fill_null(hit, False)).to_pylist())
        if found:
            return sorted(found)[:limit], len(found)
    return [], 0


def events_of(path: Path, records: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every event of ``records``, in the order the data stage made them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = pa.array(records, pa.int64())
    out: dict[int, list[dict[str, Any]]] = {r: [] for r in records}
    for batch in pq.ParquetFile(path).iter_batches():
        hit = batch.filter(pc.is_in(batch.column("record"), value_set=wanted))
        for row in hit.to_pylist():
            out[row["record"]].append(row)
    return out


def text_of(path: Path, records: list[int]) -> dict[int, str]:
    """The last text lineage holds for each of ``records`` (None where it holds none)."""
    found = {}
    for record, events in events_of(path, records).items():
        texts = [e["text"] for e in events if e["text"] is not None]
        found[record] = texts[-1] if texts else None
    return found


def summary(path: Path) -> list[dict[str, Any]]:
    """Per step, in order: how many records it removed (and of them, how many as duplicates
    of a kept record) and changed; the split placements last. Read a piece at a time."""
    import pyarrow.parquet as pq

    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for batch in pq.ParquetFile(path).iter_batches(columns=["stage", "step", "event",
                                                            "duplicate_of"]):  # fmt: skip
        cols = batch.to_pydict()
        for stage, step, event, dup in zip(cols["stage"], cols["step"], cols["event"],
                                           cols["duplicate_of"]):  # fmt: skip
            empty = {"stage": stage, "step": step, "removed": 0, "duplicates": 0, "changed": 0,
                     "placed": 0}  # fmt: skip
            row = counts.setdefault((stage, step), empty)
            row[event] += 1
            row["duplicates"] += dup is not None
    return list(counts.values())
