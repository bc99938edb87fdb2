"""The Ray engine's halves of the data stage: the source and the curate/clean steps as Ray
tasks (per-record steps fused into ``map_batches``, dedupe as group-bys), and tokenization as
one Ray task per shard. Labels, the split, balancing and the tokenizer's training run on the
driver over the memory-mapped result, through the local engine's own functions, so both
engines give the same tables.

Every part is marked complete in a work folder under the data fingerprint
(``$PLAIT_CACHE/ray/<fingerprint>``): a driver killed and started again reuses the curated
records, the trained tokenizer and every finished token shard; a worker killed mid-task is
retried by Ray. ``data.cache=false`` starts the folder afresh. The token shards stay there:
the data cache refers to them (nothing is copied) and training streams them
(``data.train_stream``). On a cluster that folder must be on storage every node sees (set
``PLAIT_CACHE``)."""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from framework.data import audit
from framework.data.audit import DataReport, StepRecord
from framework.data.ray import shards
from framework.data.ray.context import RayContext, write_json
from framework.data.ray.records import PerRecord, merged
from framework.data.steps import RowFilter, TextMap
from framework.data.steps_loop import emptied, no_text
from framework.errors import PlaitError
from framework.paths import plait_cache
from framework.records import ROW, TEXT, arrow_rows

log = logging.getLogger("plait")
IN_FLIGHT = 2
"""Token-shard tasks queued per CPU of the cluster."""


def work_folder(fingerprint: str) -> Path:
    """Where the Ray engine keeps a data stage's parts and markers."""
    return plait_cache("ray") / fingerprint


class RayRunner:
    """The Ray halves of one data stage (``DataStage`` calls them in its order)."""

    def __init__(self, stage: Any) -> None:
        self.stage, self.engine = stage, stage.cfg.engine
        self.work = work_folder(getattr(stage, "_fp", None) or stage.fingerprint())
        if not stage.cfg.cache:  # no reuse asked for: nothing of an earlier attempt either
            shutil.rmtree(self.work, ignore_errors=True)

    def session(self) -> AbstractContextManager[Any]:
        """Ray, joined or started for the stage."""
        from framework.data.ray.cluster import connected

        return connected(self.engine)

    # curate and clean -------------------------------------------------------------------

    def curated(self, steps: list[tuple[str, str, Any, Any]], report: DataReport) -> Any:
        """The source's records after every curate and clean step, memory-mapped from the
        parts the tasks wrote (reused when a previous attempt finished them)."""
        folder = self.work / "curated"
        done = folder / "DONE.json"
        if done.is_file():
            meta = json.loads(done.read_text("utf-8"))
            for rec in meta["steps"]:
                report.add(StepRecord(**rec))
            log.info("data (ray): curated records reused from %s", folder)
            parts = shards.load([Path(p) for p in meta["parts"]])
            return _ordered(_features(parts, meta["features"]))

        shutil.rmtree(folder, ignore_errors=True)
        from framework.data.ray.source import read

        source = read(self.stage, report, self.engine.block_rows, self.engine.cpus_per_task)
        ds, rows, first_step = source.ds, source.rows, len(report.steps)
        partitions = min(64, max(2, math.ceil(rows / self.engine.block_rows)))
        for stretch in _stretches(steps):
            t0 = time.perf_counter()
            if stretch[0][3].distributed is None:
                named = [(kind, name) for kind, name, _s, _c in stretch]
                stats = folder / "stats" / f"{len(report.steps):03d}"
                fn = PerRecord([(name, step) for _k, name, step, _c in stretch], stats)
                ds = ds.map_batches(fn, batch_format="pyarrow", batch_size=None,
                                    num_cpus=self.engine.cpus_per_task).materialize()  # fmt: skip
                recs = merged(stats, named, time.perf_counter() - t0)
            else:
                kind, name, step, contract = stretch[0]
                ctx = RayContext(name, kind, rows, self.stage.seed, self.engine.cpus_per_task,
                                 partitions)  # fmt: skip
                ds, rec = contract.distributed(step, ds, ctx)
                ds, recs = ds.materialize(), [rec]
            before = rows
            for rec in recs:
                report.add(rec)
                if rec.rows_out == 0:
                    raise emptied(rec.stage, rec.name, rec.rows_in)
                rows = rec.rows_out
            if rows < before:  # even blocks again: none emptied (Ray's shuffles trip on them)
                blocks = max(1, math.ceil(rows / self.engine.block_rows))
                ds = ds.repartition(blocks).materialize()
        written = ds.map_batches(shards.WriteBlock(folder / "parts", source.schema),
                                 batch_format="pyarrow", batch_size=None).take_all()  # fmt: skip
        parts = [r["path"] for r in sorted(written, key=lambda r: r["first"])]
        features = source.features
        out = _features(shards.load([Path(p) for p in parts]), features)
        if len(out) != rows:
            raise PlaitError(f"data (ray): {len(out):,} records written, {rows:,} expected")
        out = _ordered(out)
        _check_texts(out)
        steps_done = [audit.asdict(r) for r in report.steps[first_step - 1 :]]
        write_json(done, {"steps": steps_done, "parts": parts, "features": features})
        return out

    # tokenize ---------------------------------------------------------------------------

    def tokenized(
        self, splits: dict[str, Any], tokenizer: Any, name: str, task: Any, report: DataReport
    ) -> tuple[dict[str, Any], Any]:
        """The tokenizer trained on the driver (or reloaded), then every split tokenized one
        shard per Ray task; the splits read back from the shards."""
        import ray

        from framework.data.finish import fit_tokenizer
        from framework.data.tokenizers import TextTokenizer

        t0 = time.perf_counter()
        saved = self.work / "tokenizer.json"
        meta = self.work / "tokenizer.done"
        if meta.is_file() and saved.is_file():
            special = tokenizer.add_special_tokens
            tokenizer = TextTokenizer.load(saved)
            tokenizer.add_special_tokens = special
            note = json.loads(meta.read_text("utf-8"))["note"]
        else:
            note = fit_tokenizer(splits, tokenizer, self.stage.cfg.tokenizer_max_chars)
            tokenizer.save(saved)
            write_json(meta, {"note": note})
        data = (tokenizer.to_str(), tokenizer.add_special_tokens)
        tok_ref = ray.put(data)
        limit = max(1, int(IN_FLIGHT * ray.cluster_resources().get("CPU", 1)))
        task_fn = ray.remote(num_cpus=self.engine.cpus_per_task, max_retries=3)(_tokenize_shard)
        out: dict[str, Any] = {}
        pending: list[Any] = []
        written = 0
        for split, ds in splits.items():
            features = ds.features.copy()
            import datasets

            features["input_ids"] = datasets.Sequence(datasets.Value("int32"))
            paths = []
            size = self.engine.shard_rows
            for k in range(math.ceil(len(ds) / size)):
                path = self.work / "shards" / split / f"{k:05d}.arrow"
                paths.append(path)
                if shards.is_done(path):
                    continue
                if len(pending) >= limit:
                    _ready, pending = ray.wait(pending, num_returns=1)
                    ray.get(_ready)
                part = arrow_rows(ds, k * size, (k + 1) * size)  # one chunk: one batch
                pending.append(task_fn.remote(part, tok_ref, task.packed,
                                              self.stage.cfg.max_length, str(path),
                                              features.arrow_schema))  # fmt: skip
                written += 1
            out[split] = paths
        ray.get(pending)
        splits = {split: shards.load(paths) for split, paths in out.items()}
        if written < sum(len(p) for p in out.values()):
            note += f"; {sum(len(p) for p in out.values()) - written} shards reused"
        n = sum(len(s) for s in splits.values())
        seconds = round(time.perf_counter() - t0, 3)
        report.add(StepRecord("tokenize", name, n, n, seconds=seconds, note=note))
        return splits, tokenizer


def _tokenize_shard(
    table: Any, tok: tuple[str, bool], packed: bool, max_length: int, path: str, schema: Any
) -> dict[str, Any]:
    """One Ray task: token ids of a shard's texts, written with its marker."""
    import pyarrow as pa

    from framework.data.finish import token_ids
    from framework.data.tokenizers import TextTokenizer

    tokenizer = TextTokenizer.from_str(tok[0])
    tokenizer.add_special_tokens = tok[1]
    ids = token_ids(tokenizer, table.column(TEXT).to_pylist(), packed, max_length)
    table = table.append_column("input_ids", pa.array(ids, pa.list_(pa.int32())))
    tokens = sum(len(x) for x in ids)
    return shards.write_table(table.cast(schema), Path(path), {"tokens": tokens})


def _stretches(steps: list[tuple[str, str, Any, Any]]) -> list[list[tuple[str, str, Any, Any]]]:
    """The steps in runs: consecutive per-record steps together (one ``map_batches``), each
    step with a Ray form alone."""
    out: list[list[Any]] = []
    for item in steps:
        step, contract = item[2], item[3]
        per_record = contract.distributed is None and isinstance(step, (TextMap, RowFilter))
        if per_record and out and out[-1][0][3].distributed is None:
            out[-1].append(item)
        elif per_record or contract.distributed is not None:
            out.append([item])
        else:
            raise PlaitError(
                f"data step '{item[1]}' ({item[0]}) cannot run on data/engine=ray; take it out "
                "or use data/engine=local"
            )
    return out


def _features(ds: Any, features: dict[str, Any]) -> Any:
    """``ds`` with the source's column types (Ray's blocks drop the metadata)."""
    import datasets

    want = datasets.Features.from_dict(features)
    return ds if ds.features == want else ds.cast(want)


def _ordered(ds: Any) -> Any:
    """``ds`` in record-id order (the parts are sorted by their first id; blocks that came
    back interleaved are sorted by id)."""
    ids = ds.data.column(ROW).to_numpy()
    return ds.sort(ROW) if len(ids) > 1 and (ids[1:] < ids[:-1]).any() else ds


def _check_texts(ds: Any) -> None:
    """Records without text stop the run, as on the local engine."""
    nulls = ds.data.column(TEXT).null_count
    if nulls:
        import pyarrow.compute as pc

        first = ds.data.column(ROW).filter(pc.is_null(ds.data.column(TEXT)))[0].as_py()
        raise no_text(nulls, first)


def tidy(fingerprint: str) -> None:
    """Once the data cache holds a finished stage (its token shards by reference), remove
    what only a rerun of a killed stage needed: the curated parts and per-block counts."""
    shutil.rmtree(work_folder(fingerprint) / "curated", ignore_errors=True)
