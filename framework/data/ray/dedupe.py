"""The dedupe steps' Ray forms: the same records kept as the local engine keeps.

Exact: a hash of each text, a hash-partitioned group-by of (hash, record id) alone (the texts
never travel), the smallest record id of each group kept. MinHash: signatures and LSH band
keys per block (the bands of rensa's LSH index, which the local engine asks for its candidates),
a group-by on (band, key), then the local engine's own rule replayed over
the records that share a bucket: in record order, a record goes when its exact Jaccard
similarity with an earlier *kept* record of one of its buckets reaches the threshold. (A
chain A≈B≈C with A≉C keeps A and C on both engines: a record is only ever removed for a
record that stays.)"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from framework.data.audit import EXAMPLES, StepRecord, shorten
from framework.data.ray.context import RayContext
from framework.data.records import ROW

HASH = "_hash"


def _keep_rows(ds: Any, keep: np.ndarray, ctx: RayContext) -> Any:
    """The records of ``ds`` whose id is in ``keep`` (sorted ids, shipped once)."""
    import ray

    ref = ray.put(np.sort(keep))

    def select(table: Any) -> Any:
        ids = table.column(ROW).to_numpy()
        return table.filter(np.isin(ids, ray.get(ref), assume_unique=False))

    return ds.map_batches(select, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)


def _texts_of(ds: Any, rows: list[int], column: str) -> dict[int, str]:
    """The texts of the records ``rows`` (a few: examples, candidates)."""
    import ray

    ref = ray.put(np.asarray(sorted(set(rows)), dtype=np.int64))

    def pick(table: Any) -> Any:
        return table.select([ROW, column]).filter(np.isin(table.column(ROW).to_numpy(),
                                                          ray.get(ref)))  # fmt: skip

    out = ds.map_batches(pick, batch_format="pyarrow", batch_size=None).take_all()
    return {r[ROW]: r[column] for r in out}


def dedupe_exact(step: Any, ds: Any, ctx: RayContext) -> tuple[Any, StepRecord]:
    """Keep the record with the smallest id of every group of equal (normalized) texts."""
    from framework.data.curate import _hash_batch

    t0 = time.perf_counter()
    column, fold, case = step.column, step.normalized, step.ignore_case

    def hashed(table: Any) -> Any:
        import pyarrow as pa

        texts = table.column(column).to_pylist()
        h = _hash_batch({column: texts}, column, fold, case)[HASH]
        rows = pa.array(np.asarray(table.column(ROW).to_numpy(), np.int64), pa.int64())
        return pa.table({HASH: pa.array(h, pa.binary(16)), ROW: rows})

    def first(group: Any) -> Any:
        import pyarrow as pa

        rows = np.sort(group.column(ROW).to_numpy())
        return pa.table({
            "keep": pa.array([int(rows[0])], pa.int64()),
            "gone": pa.array([rows[1 : 1 + EXAMPLES].tolist()], pa.list_(pa.int64())),
        })  # fmt: skip

    keys = ds.map_batches(hashed, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)
    groups = keys.groupby(HASH, num_partitions=ctx.partitions).map_groups(
        first, batch_format="pyarrow", num_cpus=ctx.cpus
    )
    found = groups.to_arrow_refs()
    import pyarrow as pa
    import ray

    table = pa.concat_tables(ray.get(found)) if found else pa.table({"keep": [], "gone": []})
    keep = table.column("keep").to_numpy()
    gone = sorted(r for rs in table.column("gone").to_pylist() for r in rs)[:EXAMPLES]
    out = _keep_rows(ds, keep, ctx) if len(keep) < ctx.rows else ds
    texts = _texts_of(ds, gone, column) if gone else {}
    rec = StepRecord(
        ctx.kind, ctx.name, ctx.rows, len(keep), seconds=round(time.perf_counter() - t0, 3),
        removed_examples=[shorten(texts[r]) for r in gone],
    )  # fmt: skip
    return out, rec


def dedupe_minhash(step: Any, ds: Any, ctx: RayContext) -> tuple[Any, StepRecord]:
    """MinHash LSH with every removal confirmed by exact Jaccard, as the local step does."""
    import pyarrow as pa
    import ray

    t0 = time.perf_counter()
    column, bands = step.column, step.bands

    def keyed(table: Any) -> Any:
        rows = np.asarray(table.column(ROW).to_numpy(), dtype=np.int64)
        keys = step.band_keys(step.hasher.signatures(table.column(column))) if len(rows) else []
        flat = np.concatenate([np.asarray(k, np.uint64) for k in keys]) if keys else []
        return pa.table({  # typed: an emptied block must have the same schema
            "band": pa.array(np.repeat(np.arange(bands, dtype=np.int16), len(rows)), pa.int16()),
            "key": pa.array(np.asarray(flat, np.uint64), pa.uint64()),
            ROW: pa.array(np.tile(rows, bands), pa.int64()),
        })  # fmt: skip

    def members(group: Any) -> Any:
        rows = np.sort(group.column(ROW).to_numpy())
        if len(rows) < 2:
            return pa.table({"rows": pa.array([], pa.list_(pa.int64()))})
        return pa.table({"rows": pa.array([rows.tolist()], pa.list_(pa.int64()))})

    keys = ds.map_batches(keyed, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)
    buckets = keys.groupby(["band", "key"], num_partitions=ctx.partitions).map_groups(
        members, batch_format="pyarrow", num_cpus=ctx.cpus
    )
    refs = buckets.to_arrow_refs()
    lists = [rs for t in ray.get(refs) for rs in t.column("rows").to_pylist()] if refs else []
    from framework.data.minhash import resolve

    texts = _texts_of(ds, [r for rows in lists for r in rows], column) if lists else {}
    pairs = resolve(lists, step.similar_texts(texts), step.clusters)
    dropped = {i for i, _ in pairs}
    out = ds
    if dropped:
        out = _drop_rows(ds, np.fromiter(dropped, np.int64, len(dropped)), ctx)
    step.examples = [f"{texts[i][:150]}  ≈  {texts[j][:150]}" for i, j in pairs[:EXAMPLES]]
    rec = StepRecord(
        ctx.kind, ctx.name, ctx.rows, ctx.rows - len(dropped),
        seconds=round(time.perf_counter() - t0, 3), removed_examples=list(step.examples),
    )  # fmt: skip
    return out, rec


def _drop_rows(ds: Any, drop: np.ndarray, ctx: RayContext) -> Any:
    """``ds`` without the records ``drop``."""
    import ray

    ref = ray.put(np.sort(drop))

    def select(table: Any) -> Any:
        return table.filter(~np.isin(table.column(ROW).to_numpy(), ray.get(ref)))

    return ds.map_batches(select, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)
