"""The source on Ray: a source that declares ``shards`` (the file sources, GCIDE) is read one
piece per Ray task (a file, or a byte range, run of row groups or of dictzip chunks of a big
one), and every record gets the id the local engine gives it (its position in the whole
source); any other source is read by the driver and handed over in blocks."""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from framework.data.audit import DataReport, StepRecord
from framework.data.steps_loop import check_source, load_source, name_of, plain
from framework.errors import PlaitError
from framework.kinds import NAME_KEY
from framework.records import ROW, TEXT, Rejects

PIECE, LOCAL = "_piece", "_local"


@dataclass
class RaySource:
    """The source's records on Ray."""

    ds: Any
    """A ``ray.data.Dataset`` with the source's columns and ``_row``."""
    schema: Any
    """Its Arrow schema."""
    features: dict[str, Any]
    """Its ``datasets`` features (as a dict), for the tables read back."""
    rows: int
    """Records read."""


def read(stage: Any, report: DataReport, block_rows: int, cpus: float) -> RaySource:
    """The source as a Ray dataset, its record step added to ``report``."""
    import ray.data

    cfg, registry = stage.cfg, stage.registry
    contract = registry.contract("source", cfg.source)
    params = plain(cfg.source)
    pieces = contract.shards(params) if contract.shards is not None else []
    if len(pieces) < 2:
        source = load_source(cfg, registry, report)
        if TEXT not in source.column_names:
            raise PlaitError(_not_text())
        table = source.with_format("arrow")[:]
        blocks = [table.slice(i, block_rows) for i in range(0, table.num_rows, block_rows)]
        return RaySource(ray.data.from_arrow(blocks), table.schema, source.features.to_dict(),
                         table.num_rows)  # fmt: skip
    t0 = time.perf_counter()
    name = name_of(cfg.source, "source")
    builder = registry.get("source", params[NAME_KEY]).builder
    pieces = _numbered_lines(pieces, cpus)
    task = ray.remote(num_cpus=cpus, num_returns=2, max_retries=3)(_read_piece)
    refs, metas = [], []
    for k, piece in enumerate(pieces):
        table_ref, meta_ref = task.remote(builder, piece, k)
        refs.append(table_ref)
        metas.append(meta_ref)
    metas = ray.get(metas)
    counts = np.array([m["rows"] for m in metas], dtype=np.int64)
    rows = int(counts.sum())
    import pyarrow as pa

    schema = pa.unify_schemas([pa.schema(m["schema"]) for m in metas if m["rows"]])
    text = schema.field(TEXT).type if TEXT in schema.names else None
    check_source(name, rows, schema.names, text)
    if TEXT not in schema.names:
        raise PlaitError(_not_text())
    schema = schema.append(pa.field(ROW, pa.int64()))
    offsets = ray.put(np.r_[0, np.cumsum(counts)[:-1]])

    def numbered(table: Any) -> Any:
        ids = ray.get(offsets)[table.column(PIECE).to_numpy()] + table.column(LOCAL).to_numpy()
        table = table.drop_columns([PIECE, LOCAL]).append_column(ROW, pa.array(ids, pa.int64()))
        return _conform(table, schema)

    ds = ray.data.from_arrow_refs(refs).map_batches(
        numbered, batch_format="pyarrow", batch_size=None, num_cpus=cpus
    )
    ds = ds.repartition(max(len(pieces), math.ceil(rows / block_rows)))
    rejected = sum(m["rejected"] for m in metas)
    rec = StepRecord("source", name, rows + rejected, rows,
                     seconds=round(time.perf_counter() - t0, 3))  # fmt: skip
    rec.note = f"read in {len(pieces)} pieces by Ray tasks"
    if rejected:
        rec.note += f"; {rejected:,} malformed records skipped (bad_records=skip)"
        rec.removed_examples = [e for m in metas for e in m["examples"]][:3]
    report.add(rec)
    import datasets

    features = datasets.Features.from_arrow_schema(schema).to_dict()
    return RaySource(ds, schema, features, rows)


def _numbered_lines(pieces: list[dict[str, Any]], cpus: float) -> list[dict[str, Any]]:
    """Pieces with a ``byte_range`` get ``first_line``, the number of their first line in
    the file (its lines counted by one Ray task per piece), so that every message names
    file:line as the local engine does."""
    import ray

    from framework.data.sources.ranges import line_starts

    ranged = [k for k, piece in enumerate(pieces) if piece.get("byte_range") is not None]
    if not ranged:
        return pieces
    count = ray.remote(num_cpus=cpus, max_retries=3)(line_starts)
    counts = ray.get([count.remote(pieces[k]["paths"][0], *pieces[k]["byte_range"])
                      for k in ranged])  # fmt: skip
    out = [dict(piece) for piece in pieces]
    seen: dict[str, int] = {}
    for k, n in zip(ranged, counts):
        path = out[k]["paths"][0]
        out[k]["first_line"] = 1 + seen.get(path, 0)
        seen[path] = seen.get(path, 0) + n
    return out


def _read_piece(builder: Any, params: dict[str, Any], index: int) -> tuple[Any, dict[str, Any]]:
    """One Ray task: one piece of the source, its records numbered within the piece."""
    import pyarrow as pa

    rejects = Rejects()
    kwargs = {k: v for k, v in params.items() if k != NAME_KEY}
    if "rejects" in inspect.signature(builder).parameters:
        kwargs["rejects"] = rejects
    try:
        ds = builder(**kwargs)
        table = ds.with_format("arrow")[:]
    except PlaitError as e:
        if "no records" not in str(e):
            raise
        table = pa.table({})
    n = table.num_rows
    meta = {"rows": n, "schema": table.schema, "rejected": rejects.count,
            "examples": list(rejects.examples)}  # fmt: skip
    table = table.append_column(PIECE, pa.array(np.full(n, index, np.int64)))
    table = table.append_column(LOCAL, pa.array(np.arange(n, dtype=np.int64)))
    return table, meta


def _conform(table: Any, schema: Any) -> Any:
    """``table`` with every column of ``schema``, in its order (nulls where a file had none)."""
    import pyarrow as pa

    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]  # fmt: skip
    return pa.Table.from_arrays(columns, schema=schema)


def _not_text() -> str:
    return (
        "data/engine=ray curates text records; this source has none (images or token ids): "
        "use data/engine=local"
    )
