"""The dedupe steps' Ray forms: the same records kept as the local engine keeps.

Exact: a hash of each text, a hash-partitioned group-by of (hash, record id) alone (the texts
never travel; each partition grouped in one NumPy pass, not a call per group), the smallest
record id of each group kept. MinHash: signatures and LSH band
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
from framework.records import ROW

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


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, run starts, run ends) of the rows sorted by ``keys`` (the last the major):
    rows with equal keys form one run, in ``keys[0]`` order within it."""
    order = np.lexsort(keys)
    if not len(order):
        return order, order, order
    change = np.zeros(len(order), bool)
    change[0] = True
    for k in keys[1:]:
        ranked = k[order]
        change[1:] |= ranked[1:] != ranked[:-1]
    starts = np.flatnonzero(change)
    return order, starts, np.r_[starts[1:], len(order)]


def dedupe_exact(step: Any, ds: Any, ctx: RayContext) -> tuple[Any, StepRecord]:
    """Keep the record with the smallest id of every group of equal (normalized) texts: the
    (hash, id) pairs hash-partitioned by hash, each partition grouped in one vector pass."""
    from framework.data.curate import _hash_batch

    t0 = time.perf_counter()
    column, fold, case = step.column, step.normalized, step.ignore_case

    def hashed(table: Any) -> Any:
        import pyarrow as pa

        texts = table.column(column).to_pylist()
        h = _hash_batch({column: texts}, column, fold, case)[HASH]
        halves = np.frombuffer(b"".join(h), "<u8").reshape(-1, 2) if h else np.zeros((0, 2))
        rows = np.asarray(table.column(ROW).to_numpy(), np.int64)
        return pa.table({"h0": pa.array(halves[:, 0], pa.uint64()),
                         "h1": pa.array(halves[:, 1], pa.uint64()),
                         ROW: pa.array(rows, pa.int64())})  # fmt: skip

    def first(table: Any) -> Any:
        import pyarrow as pa

        rows = table.column(ROW).to_numpy()
        order, starts, _ends = _runs(rows, table.column("h1").to_numpy(),
                                     table.column("h0").to_numpy())  # fmt: skip
        ranked = rows[order]
        keep = ranked[starts]
        gone = np.sort(np.delete(ranked, starts))[:EXAMPLES]
        return pa.table({"id": pa.array(np.r_[keep, gone], pa.int64()),
                         "kept": pa.array(np.r_[np.ones(len(keep), bool),
                                                np.zeros(len(gone), bool)])})  # fmt: skip

    keys = ds.map_batches(hashed, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)
    groups = keys.repartition(ctx.partitions, keys=["h0", "h1"]).map_batches(
        first, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus
    )
    import pyarrow as pa
    import ray

    found = [t for t in ray.get(groups.to_arrow_refs()) if t.num_rows]
    table = pa.concat_tables(found) if found else pa.table({"id": [], "kept": []})
    ids, kept = table.column("id").to_numpy(), table.column("kept").to_numpy(zero_copy_only=False)
    keep, gone = ids[kept], np.sort(ids[~kept])[:EXAMPLES].tolist()
    out = _keep_rows(ds, keep, ctx) if len(keep) < ctx.rows else ds
    texts = _texts_of(ds, gone, column) if gone else {}
    rec = StepRecord(
        ctx.kind, ctx.name, ctx.rows, len(keep), seconds=round(time.perf_counter() - t0, 3),
        removed_examples=[shorten(texts[r]) for r in gone],
    )  # fmt: skip
    return out, rec


def dedupe_minhash(step: Any, ds: Any, ctx: RayContext) -> tuple[Any, StepRecord]:
    """MinHash LSH with every removal confirmed by exact Jaccard, as the local step does: the
    (band, key, id) triples hash-partitioned by (band, key), each partition's buckets found
    in one vector pass."""
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

    def members(table: Any) -> Any:
        rows = table.column(ROW).to_numpy()
        order, starts, ends = _runs(rows, table.column("key").to_numpy(),
                                    table.column("band").to_numpy())  # fmt: skip
        shared = ends - starts > 1
        ranked = rows[order]
        pick = np.concatenate([ranked[a:b] for a, b in zip(starts[shared], ends[shared])]) if (
            shared.any()) else np.zeros(0, np.int64)  # fmt: skip
        offsets = np.r_[0, np.cumsum(ends[shared] - starts[shared])].astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(pick, pa.int64()))
        return pa.table({"rows": lists})

    keys = ds.map_batches(keyed, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus)
    buckets = keys.repartition(ctx.partitions, keys=["band", "key"]).map_batches(
        members, batch_format="pyarrow", batch_size=None, num_cpus=ctx.cpus
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
