"""Streaming (``data.streaming: true``): corpora larger than memory for causal LM.

Records are read lazily from the source, cleaned batch by batch with the per-record steps,
assigned to a split by a hash of their text (no need to know the corpus size), tokenized and
packed into blocks on the fly. Memory is bounded by the tokenizer's training sample
(``data.stream_tokenizer_chars``), the validation blocks (``data.stream_val_blocks``) and a
shuffle buffer of blocks, not by the corpus.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import torch
import torch.utils.data

from framework.data.artifacts import PreparedData
from framework.data.audit import DataReport, StepRecord
from framework.data.shard_stream import SlotStream, shuffled
from framework.data.steps import RowFilter, TextMap
from framework.data.steps_loop import build_steps, name_of, plain
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import TEXT

BATCH = 256
"""Records read, cleaned and tokenized together."""


def split_of(text: str, val: float, test: float) -> str:
    """``train``, ``val`` or ``test`` from a hash of the text: stable across runs and passes."""
    h = int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest(), "big"
    )
    u = h / 2**64
    return "val" if u < val else "test" if u < val + test else "train"


class StreamReader:
    """Cleaned texts of one split, read from the source batch by batch."""

    def __init__(self, source: Any, steps: list[tuple[str, Any]], val: float, test: float) -> None:
        self.source, self.steps, self.val, self.test = source, steps, val, test

    def batches(self, split: str, shard: int = 0, shards: int = 1) -> Iterator[list[str]]:
        """Lists of texts of ``split``; with ``shards`` > 1, every shards-th batch only."""
        buf: dict[str, list[Any]] = {}
        n = 0
        for rec in self.source:
            for k, v in rec.items():
                buf.setdefault(k, []).append(v)
            if len(buf[TEXT]) == BATCH:
                if n % shards == shard:
                    yield from self._finish(buf, split)
                buf, n = {}, n + 1
        if buf.get(TEXT) and n % shards == shard:
            yield from self._finish(buf, split)

    def _finish(self, batch: dict[str, list[Any]], split: str) -> Iterator[list[str]]:
        for _name, step in self.steps:
            if isinstance(step, TextMap):
                batch.update(step.batch(batch))
            else:
                keep = step.keep(batch)
                batch = {k: [v for v, ok in zip(vals, keep) if ok] for k, vals in batch.items()}
        texts = [t for t in batch[TEXT] if t and split_of(t, self.val, self.test) == split]
        if texts:
            yield texts


def blocks_of(texts: Iterator[list[str]], tokenizer: Any, size: int) -> Iterator[list[int]]:
    """Token blocks of ``size`` ids, each document followed by end-of-text."""
    eos = [tokenizer.eos_id] if tokenizer.eos_id is not None else []
    buf: list[int] = []
    for batch in texts:
        for ids in tokenizer.encode_batch(batch):
            buf.extend(ids)
            buf.extend(eos)
        while len(buf) >= size:
            yield buf[:size]
            del buf[:size]


class StreamingBlocks(SlotStream):
    """An endless torch ``IterableDataset`` of (input, target) blocks of the training split.

    Each pass re-reads the source; blocks go through a seeded shuffle buffer. DataLoader
    workers and DDP ranks read disjoint batches of records (their slots); resuming skips
    what the slot served before.
    """

    def __init__(self, reader: StreamReader, tokenizer: Any, block: int, seed: int) -> None:
        super().__init__()
        self.reader, self.tokenizer, self.block, self.seed = reader, tokenizer, block, seed

    def _blocks(self, shard: int, shards: int) -> Iterator[list[int]]:
        epoch = 0
        while True:
            rng = random.Random(self.seed * 1000 + epoch * 7919 + shard)
            produced = False
            batches = self.reader.batches("train", shard, shards)
            for b in shuffled(blocks_of(batches, self.tokenizer, self.block + 1), rng):
                produced = True
                yield b
            if not produced:
                raise PlaitError("streaming: the training split holds less than one block of text")
            epoch += 1


def _streaming_steps(stage: Any) -> list[tuple[str, Any]]:
    """(name, step) of the enabled curate and clean steps; each must declare that it streams."""
    steps = build_steps(stage.registry, stage.cfg)
    for kind, name, step, contract in steps:
        if not contract.streams or not isinstance(step, (TextMap, RowFilter)):
            able = ", ".join(stage.registry.declaring(kind, "streams")) or "none"
            raise PlaitError(
                f"data step '{name}' needs the whole data set and cannot stream ({kind} steps "
                f"that stream: {able}); take it out or set data.streaming=false"
            )
    return [(name, step) for _kind, name, step, _contract in steps]


def _refuse(stage: Any, kind: str, node: Any, fix: str) -> None:
    """Stop unless the component ``node`` selects declares that it streams."""
    if node is not None and not stage.registry.contract(kind, node).streams:
        able = ", ".join(stage.registry.declaring(kind, "streams")) or "none"
        raise PlaitError(
            f"data.streaming=true: {kind} '{name_of(node, kind)}' cannot stream ({kind}s that "
            f"stream: {able}); {fix}"
        )


def build_streaming(stage: Any) -> PreparedData:
    """The streaming data stage: a bounded tokenizer sample, in-memory validation blocks and
    an endless stream of training blocks."""
    from framework.tasks.causal_lm import PackedBlocks

    data_cfg, task, registry = stage.cfg, stage.task, stage.registry
    if not task.packed:
        raise PlaitError("data.streaming=true is for causal LM (packed) tasks; set it to false")
    split_cfg = plain(data_cfg.split)
    _refuse(stage, "split", split_cfg, "it splits by a hash of each text")
    _refuse(stage, "balance", data_cfg.balance, "use data/balance=none")
    _refuse(stage, "source", data_cfg.source, "or set data.streaming=false")
    val, test = float(split_cfg.get("val", 0.05)), float(split_cfg.get("test", 0.0))
    source_name = name_of(data_cfg.source, "source")
    source = registry.build("source", data_cfg.source, streaming=True)
    if not isinstance(source, datasets_module().IterableDataset):
        raise PlaitError(
            f"source '{source_name}' declares that it streams but built "
            f"{type(source).__name__}, not a datasets.IterableDataset; fix the source"
        )
    reader = StreamReader(source, _streaming_steps(stage), val, test)
    report = DataReport(cache="off (streaming)")
    report.add(StepRecord("source", source_name, 0, 0, note="streaming: read lazily, not counted"))

    tokenizer = registry.build("tokenizer", data_cfg.tokenizer)
    tokenizer.train(_sample(reader.batches("train"), data_cfg.stream_tokenizer_chars))
    block = data_cfg.max_length
    datasets: dict[str, Any] = {"train": StreamingBlocks(reader, tokenizer, block, stage.seed)}
    sizes = {}
    for name in ("val", "test"):
        if (val if name == "val" else test) <= 0:
            continue
        ids: list[int] = []
        for b in blocks_of(reader.batches(name), tokenizer, block + 1):
            ids.extend(b)
            if len(ids) >= data_cfg.stream_val_blocks * (block + 1):
                break
        if not ids:
            raise PlaitError(f"streaming: the {name} split is empty; raise data.split.{name}")
        ids = ids[: data_cfg.stream_val_blocks * block + 1]
        datasets[name] = PackedBlocks(torch.tensor(ids, dtype=torch.int32), block)
        sizes[name] = len(datasets[name])
        n = sizes[name]
        report.add(StepRecord("split", name, n, n, note=f"{n:,} blocks held in memory"))
    report.splits = {"train": -1, **sizes}
    info = DataInfo(
        vocab_size=tokenizer.vocab_size,
        max_length=block,
        eos_id=tokenizer.eos_id,
        pad_id=tokenizer.pad_id,
        sizes={"train": -1, **sizes},
    )
    return PreparedData(datasets, info, tokenizer, report)


def _sample(batches: Iterator[list[str]], max_chars: int) -> Iterator[str]:
    total = 0
    for batch in batches:
        for t in batch:
            yield t
            total += len(t)
            if total >= max_chars:
                return


def datasets_module() -> Any:
    """The ``datasets`` library, imported on use."""
    import datasets

    return datasets
