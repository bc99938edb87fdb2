"""The data stage of one run, as one object: the config, the task, the registry, the seed and
the augmenter are held once, every component is built before any data work, and the stage
returns its artifacts (the run dir writes them).

    source -> curate -> clean -> labels -> split -> balance -> (offline augment)
    -> tokenizer trained on the train split -> ids           (cached by fingerprint)
    -> DataInfo, torch datasets, online augmentation of the training split
"""

from __future__ import annotations

import logging
from typing import Any

from framework import collector
from framework.data import cache
from framework.data.artifacts import IDS, PreparedData, Tables
from framework.data.audit import DataReport, StepRecord
from framework.data.finish import (
    attach_image_augment,
    attach_text_augment,
    balance_train,
    base_info,
    describe,
    encode,
    sample_weights,
    split_records,
    train_tokenizer,
)
from framework.data.steps_loop import (
    build_steps,
    load_source,
    name_of,
    plain,
    run_steps,
    step_settings,
)
from framework.data.train_stream import wanted as train_stream
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import TEXT
from framework.registry import Registry

log = logging.getLogger("plait")


class DataStage:
    """Runs (or loads from the cache) one recipe's data stage for ``task``.

    ``augmenter``: the text augmenter validation built (None: built here when the config asks
    for text augmentation), so that a run builds it once.
    """

    def __init__(
        self, data_cfg: Any, task: Any, registry: Registry, seed: int, augmenter: Any = None
    ) -> None:
        from framework.data.augmentation import text_augmenter

        self.cfg, self.task, self.registry, self.seed = data_cfg, task, registry, seed
        self.augmenter = augmenter if augmenter is not None else text_augmenter(data_cfg, registry)
        mode = (data_cfg.get("augment") or {}).get("mode", "online")
        self.offline = self.augmenter is not None and mode == "offline"

    # the cacheable tables -------------------------------------------------------------

    def fingerprint(self) -> str:
        """What the cached tables depend on: the data config, the seed, the task's reading of
        the data, and the files the source declares (an undeclared source: a warning)."""
        cfg = plain(self.cfg)
        files = self.declared_files(warn=True)
        if self.offline:  # the variants are stored: their settings shape the tables
            cfg["offline_augment"] = {
                k: cfg.get(k) for k in ("text_augment", "synonyms", "augment")
            }
            table = (cfg.get("synonyms") or {}).get("path")  # an edited table misses the cache
            files += [table] if isinstance(table, str) else []
        return cache.fingerprint(
            {**cfg, "seed": self.seed}, self.task.cache_key(), self.task.packed, files
        )

    def declared_files(self, warn: bool = False) -> list[str]:
        """The files (or folders, globs) the source declares it reads; ``warn``: say so when
        it declares none (the cache cannot tell when such data changes)."""
        cfg = plain(self.cfg)
        contract = self.registry.contract("source", cfg["source"])
        if contract.files is not None:
            return list(contract.files(cfg["source"]))
        if warn:
            log.warning(
                "data source '%s' declares no files, so the data cache cannot tell when its "
                "data changes: set data.cache=false after changing it, or declare files= when "
                "registering the source",
                name_of(cfg["source"], "source"),
            )
        return []

    def tables(self) -> Tables:
        """The tables from the cache when the fingerprint matches, else computed (and saved);
        described (split sizes, class counts)."""
        import datasets

        datasets.disable_progress_bars()  # the report says what each step did
        fp = self._fp = self.fingerprint()
        found = cache.lookup(fp) if self.cfg.cache else None
        if found is not None and found.lineage is None and self.records_lineage():
            log.info("the cached data holds no lineage (it was made with data.lineage=false); "
                     "data.cache=false records it")  # fmt: skip
        if found is None:
            found = self.compute()
            found.report.fingerprint = fp
            if self.cfg.cache:
                cache.store(fp, found)  # the Ray engine's shards by reference, not copied
                if self.cfg.get("engine") is not None and self.cfg.engine.name == "ray":
                    from framework.data.ray.stage import tidy

                    tidy(fp)
        describe(found)
        return found

    def compute(self) -> Tables:
        """Everything up to token ids, without the cache."""
        collector.resume()  # the corpus's work, and its libraries' garbage, grow with it
        cfg, registry, report = self.cfg, self.registry, DataReport()
        # every component is built before any data work, so a config error costs nothing
        splitter = registry.build("split", cfg.split)
        balancer = registry.build("balance", cfg.balance) if cfg.balance is not None else None
        tokenizer = (
            registry.build("tokenizer", cfg.tokenizer) if cfg.tokenizer is not None else None
        )
        steps = build_steps(registry, cfg)
        runner = self.runner()
        lineage = self._lineage()
        report.lineage = lineage
        with runner.session():
            ds = runner.curated(steps, report)
            ds, labels = encode(ds, self.task, report)
            splits = split_records(ds, splitter, name_of(cfg.split, "split"), report, self.seed)
            class_weights = None
            if balancer is not None:
                splits["train"], class_weights = balance_train(
                    splits["train"], balancer, name_of(cfg.balance, "balance"), report, self.seed
                )
            if lineage is not None:
                lineage.placed(splits, name_of(cfg.split, "split"))
                report.lineage = None
            if self.offline:
                from framework.data.augmentation import augment_offline

                self.augmenter.load()
                splits["train"] = augment_offline(
                    splits["train"], self.augmenter, self.seed, report
                )
            name = name_of(cfg.tokenizer, "tokenizer") if tokenizer is not None else ""
            if TEXT not in splits["train"].column_names:
                if IDS in splits["train"].column_names and tokenizer is not None:
                    _keep_source_ids(splits, tokenizer, name, report)
                else:
                    tokenizer = None
            elif tokenizer is not None:
                splits, tokenizer = runner.tokenized(splits, tokenizer, name, self.task, report)
        found = Tables(splits, tokenizer, report, labels, class_weights)
        found.lineage = lineage.close() if lineage is not None else None
        return found

    def _lineage(self) -> Any:
        """The lineage this stage writes (``data.lineage``), to a file of its own until the
        cache takes it; None when off, or on an engine that does not record one."""
        if not self.records_lineage():
            return None
        import tempfile
        from pathlib import Path

        from framework.data.lineage import FILE, Lineage

        return Lineage(Path(tempfile.mkdtemp(prefix="plait-lineage-")) / FILE)

    def runner(self) -> Any:
        """The engine that runs the source, the steps and tokenization (``data.engine``)."""
        return self._runner_class()(self)

    def _runner_class(self) -> Any:
        if self.cfg.get("engine") is not None and self.cfg.engine.name == "ray":
            from framework.data.ray.stage import RayRunner

            return RayRunner
        return LocalRunner

    def records_lineage(self) -> bool:
        """Whether this stage writes a lineage: ``data.lineage``, on an engine that knows each
        record's fate."""
        return bool(self.cfg.get("lineage", True)) and getattr(
            self._runner_class(), "records_lineage", False
        )

    # what training reads ----------------------------------------------------------------

    def prepare(self) -> PreparedData:
        """Torch datasets per split and the DataInfo; augmentation attached to the training
        split. Streaming configs read the source lazily instead."""
        if self.cfg.get("streaming", False):
            from framework.data.streaming import build_streaming

            return build_streaming(self)
        image_augments = [
            self.registry.build("image_augment", node)
            for node in (self.cfg.get("image_augment") or {}).values()
        ]
        tables = self.tables()
        info = base_info(tables, self.cfg.max_length)
        weights = sample_weights(tables)
        datasets, info = self.task.prepare(tables.splits, tables.tokenizer, info)
        if train_stream(self.cfg, self.task.packed):
            datasets["train"] = self._stream(tables)
        if image_augments:
            attach_image_augment(datasets, image_augments, info, tables.report)
        if self.augmenter is not None and not self.offline:
            attach_text_augment(datasets, tables, self.augmenter, self.cfg.max_length)
        if self.cfg.cache:
            cache.write_info(self._fp, self._info_key(), info.to_dict())
        return PreparedData(datasets, info, tables.tokenizer, tables.report, weights, tables)

    def _stream(self, tables: Tables) -> Any:
        """The training split as a stream of its token shards (``data.train_stream``)."""
        from framework.data.shard_stream import TokenShards

        train = tables.splits["train"]
        stream = TokenShards(train, self.cfg.engine.shard_rows, self.cfg.max_length, self.seed)
        n = len(train)
        note = (f"training reads {len(stream.shards)} shards of <= {self.cfg.engine.shard_rows:,} "
                "records as a stream (each rank and worker its own)")  # fmt: skip
        tables.report.add(StepRecord("split", "train (stream)", n, n, note=note))
        return stream

    def info(self) -> DataInfo:
        """The DataInfo training will use; read from the data cache, without loading any
        table, when a run of this data config and task stored it (``plait show``)."""
        if self.cfg.cache and not self.cfg.get("streaming", False):
            found = cache.read_info(self.fingerprint(), self._info_key())
            if found is not None:
                return DataInfo.from_dict(found)
        return self.prepare().info

    def _info_key(self) -> str:
        """What of the task and config shapes the DataInfo beyond the cached tables."""
        import hashlib
        import json

        task = {k: v for k, v in vars(self.task).items()
                if isinstance(v, (str, int, float, bool, list, type(None)))}  # fmt: skip
        image = plain(self.cfg.get("image_augment") or {})
        blob = json.dumps([type(self.task).__qualname__, task, self.cfg.max_length, image],
                          sort_keys=True, default=str)  # fmt: skip
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _keep_source_ids(splits: dict[str, Any], tokenizer: Any, name: str, report: DataReport) -> None:
    """A source of token ids (tokenized elsewhere): kept as they are; the tokenizer must be
    the one that made them (it gives the vocabulary and decodes samples), never trained."""
    if tokenizer.trainable:
        raise PlaitError(
            f"data: the source gives token ids already, and data/tokenizer={name} would train a "
            "new vocabulary; set data/tokenizer=pretrained data.tokenizer.path=<the "
            "tokenizer.json that made them>"
        )
    n = sum(len(s) for s in splits.values())
    note = f"vocabulary {tokenizer.vocab_size:,}; the source's ids, not re-tokenized"
    report.add(StepRecord("tokenize", name, n, n, note=note))


class LocalRunner:
    """The local engine: this process, and ``data.num_proc`` workers for batched steps."""

    records_lineage = True
    """Every step runs here, on whole tables, so each record's fate is known."""

    def __init__(self, stage: DataStage) -> None:
        self.stage = stage

    def session(self) -> Any:
        """Nothing to join."""
        import contextlib

        return contextlib.nullcontext()

    def curated(self, steps: list[tuple[str, str, Any, Any]], report: DataReport) -> Any:
        """The source, then every curate and clean step in order."""
        cfg = self.stage.cfg
        ds = load_source(cfg, self.stage.registry, report)
        return run_steps(ds, steps, cfg.num_proc, report, self.stage.seed, step_settings(cfg))

    def tokenized(
        self, splits: dict[str, Any], tokenizer: Any, name: str, task: Any, report: DataReport
    ) -> tuple[dict[str, Any], Any]:
        """The tokenizer trained on the training split's sample, then every split's ids."""
        cfg = self.stage.cfg
        splits = train_tokenizer(splits, tokenizer, name, task, cfg.max_length, report,
                                 cfg.get("tokenizer_max_chars"))  # fmt: skip
        return splits, tokenizer


def prepare_data(data_cfg: Any, task: Any, registry: Registry, seed: int) -> PreparedData:
    """The prepared data of ``data_cfg`` for ``task`` (``DataStage(...).prepare()``)."""
    return DataStage(data_cfg, task, registry, seed).prepare()


def data_tables(data_cfg: Any, task: Any, registry: Registry, seed: int) -> Tables:
    """The data stage's tables alone, described (``plait data``, ``plait eda``)."""
    return DataStage(data_cfg, task, registry, seed).tables()
