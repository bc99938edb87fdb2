"""The data stage: source -> curate -> clean -> labels -> split -> balance -> tokenizer
(trained on train) -> token ids, audited step by step and cached by fingerprint; then the
task turns the token ids into torch datasets and a DataInfo."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.data.audit import DataReport, StepRecord
from framework.data.balance import Balanced
from framework.data.info import DataInfo
from framework.data.labels import class_counts, encode_labels
from framework.data.records import IMAGE, LABEL, ROW, TEXT, column
from framework.data.steps import StepContext
from framework.errors import PlaitError
from framework.registry import ENABLED_KEY, Registry

IDS = "input_ids"
"""Column of token ids written by the tokenize step."""
WEIGHT = "_weight"
"""Column of per-record sampling weights (``data/balance=weighted_sampler``)."""


@dataclass
class PreparedData:
    """What the data stage hands to the rest of the run."""

    datasets: dict[str, Any]
    """Torch datasets per split (``train``, ``val``, optional ``test``)."""
    info: DataInfo
    """Facts the builders need."""
    tokenizer: Any
    """The trained tokenizer (None for image data)."""
    report: DataReport = field(default_factory=DataReport)
    """The audit of every step."""
    sample_weights: list[float] | None = None
    """Per-record sampling weights of the training split, if a balancer set them."""
    stage: Any = None
    """The data stage's splits as ``datasets`` tables (None when streaming)."""


@dataclass
class Stage:
    """The cacheable part of the data stage: tokenized splits and what describes them."""

    splits: dict[str, Any]
    tokenizer: Any
    report: DataReport
    labels: list[str] | None = None
    class_weights: list[float] | None = None


def _plain(cfg: Any) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


def _steps(registry: Registry, kind: str, nodes: Any) -> list[tuple[str, Any]]:
    """(name, step) for each enabled step, in the recipe's order."""
    out = []
    for name, node in (nodes or {}).items():
        params = _plain(node)
        if not params.pop(ENABLED_KEY, True):
            continue
        out.append((name, registry.build(kind, params)))
    return out


def _check_nonempty(ds: Any, stage: str, name: str, rows_in: int) -> None:
    if len(ds) == 0:
        raise PlaitError(
            f"data step '{name}' ({stage}) removed every record ({rows_in:,} in, 0 out); "
            f"loosen its settings or take it out of data/{stage}"
        )


def load_source(data_cfg: Any, registry: Registry, report: DataReport) -> Any:
    """Build the source and check it has text or images; every record gets a ``_row`` id."""
    t0 = time.perf_counter()
    ds = registry.build("source", data_cfg.source)
    name = _plain(data_cfg.source).get("_name_", "source")
    if len(ds) == 0:
        raise PlaitError(f"data source '{name}' produced no records; check its settings")
    if TEXT not in ds.column_names and IMAGE not in ds.column_names:
        raise PlaitError(
            f"data source '{name}' has no 'text' or 'image' column; columns: "
            f"{', '.join(ds.column_names)}; set data.source.text_column"
        )
    if TEXT in ds.column_names:
        dtype = getattr(ds.features[TEXT], "dtype", None)
        if dtype not in ("string", "large_string"):
            raise PlaitError(
                f"data source '{name}': the text column holds {dtype or ds.features[TEXT]}, not "
                "text; point data.source.text_column at a text column"
            )
    ds = ds.add_column(ROW, list(range(len(ds))))
    report.add(
        StepRecord("source", name, len(ds), len(ds), seconds=round(time.perf_counter() - t0, 3))
    )
    return ds


def run_steps(ds: Any, data_cfg: Any, registry: Registry, report: DataReport, seed: int) -> Any:
    """Curation then cleaning steps, each audited; a step that empties the data stops the run."""
    for kind in ("curate", "clean"):
        for name, step in _steps(registry, kind, data_cfg.get(kind)):
            ctx = StepContext(num_proc=data_cfg.num_proc, seed=seed, name=name)
            t0 = time.perf_counter()
            out = step(ds, ctx)
            _check_nonempty(out, kind, name, len(ds))
            rec = report.diff(kind, name, ds, out, time.perf_counter() - t0)
            if getattr(step, "examples", None):  # a step's own account of what it removed
                rec.removed_examples = list(step.examples)[:3]
            ds = out
    return ds


def remove_overlap(splits: dict[str, Any], policy: str, report: DataReport) -> dict[str, Any]:
    """Exact texts shared between splits: removed from train (when val or test hold them) and
    from val (when test holds them), or only reported."""
    if any(TEXT not in ds.column_names for ds in splits.values()):
        return splits
    from framework.data.curate import text_hash

    held: set[bytes] = set()
    held_by: list[str] = []
    for name in [s for s in ("test", "val", "train") if s in splits]:
        ds = splits[name]
        keys = [text_hash(t or "") for t in column(ds, TEXT)]
        shared = [i for i, k in enumerate(keys) if k in held]
        if shared:
            note = f"{len(shared):,} {name} texts also in {' or '.join(held_by)}"
            if policy == "remove":
                gone = set(shared)
                out = ds.select([i for i in range(len(ds)) if i not in gone])
                if len(out) == 0:
                    raise PlaitError(
                        f"data.split: every {name} text is also in {' or '.join(held_by)}, so "
                        "removing the overlap leaves none; give more varied data or set "
                        "data.split.overlap=report"
                    )
                rec = report.diff("split", f"overlap ({name})", ds, out, 0.0)
                rec.note = note + ": removed"
                splits[name] = out
            else:
                rec = StepRecord("split", f"overlap ({name})", len(ds), len(ds))
                rec.note = note + ": kept (overlap=report)"
                report.add(rec)
        held.update(keys)
        held_by.append(name)
    return splits


def tokenize(
    splits: dict[str, Any], tokenizer: Any, packed: bool, max_length: int
) -> dict[str, Any]:
    """Add ``input_ids``: whole documents plus end-of-text (packed tasks) or cut to max_length."""
    import datasets

    eos = tokenizer.eos_id

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[list[int]]]:
        if packed:
            ids = tokenizer.encode_batch(batch[TEXT])
            return {IDS: [[*x, eos] if eos is not None else x for x in ids]}
        return {IDS: tokenizer.encode_batch(batch[TEXT], max_length)}

    out = {}
    for name, ds in splits.items():
        features = ds.features.copy()
        features[IDS] = datasets.Sequence(datasets.Value("int32"))
        out[name] = ds.map(
            encode, batched=True, batch_size=1000, features=features, desc=f"tokenize {name}"
        )
    return out


def split_records(
    ds: Any, splitter: Any, name: str, report: DataReport, seed: int
) -> dict[str, Any]:
    """Split, then remove (or report) exact texts shared between splits."""
    t0 = time.perf_counter()
    splits = splitter(ds, seed)
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in splits.items())
    rows_out = sum(len(s) for s in splits.values())
    seconds = round(time.perf_counter() - t0, 3)
    report.add(StepRecord("split", name, len(ds), rows_out, seconds=seconds, note=sizes))
    if "train" not in splits:
        raise PlaitError("data.split produced no training split; check the split ratios")
    return remove_overlap(splits, getattr(splitter, "overlap", "report"), report)


def balance_train(
    train: Any, balancer: Any, name: str, report: DataReport, seed: int
) -> tuple[Any, list[float] | None]:
    """Balance the training split; returns it and the class weights, if the balancer set any."""
    t0 = time.perf_counter()
    result = balancer(train, seed)
    if not isinstance(result, Balanced):
        result = Balanced(result)
    rec = report.diff("balance", name, train, result.dataset, time.perf_counter() - t0)
    out, class_weights = result.dataset, None
    if len(out) > len(train):
        rec.note = f"{len(out) - len(train):,} records added"
    if result.sample_weights is not None:
        out = out.add_column(WEIGHT, result.sample_weights)
        rec.note = "sampling weights 1/class count"
    if result.class_weights is not None:
        class_weights = [round(w, 6) for w in result.class_weights]
        shown = ", ".join(f"{w:.3g}" for w in class_weights[:8])
        rec.note = f"class weights {shown}" + (" ..." if len(class_weights) > 8 else "")
    return out, class_weights


def run_stage(data_cfg: Any, task: Any, registry: Registry, seed: int) -> Stage:
    """Everything up to token ids, without the cache."""
    import datasets

    datasets.disable_progress_bars()  # the report says what each step did
    report = DataReport()
    # every component is built before any data work, so a config error costs nothing
    split_cfg = _plain(data_cfg.split)
    splitter = registry.build("split", split_cfg)
    bal_cfg = _plain(data_cfg.balance) if data_cfg.balance is not None else None
    balancer = registry.build("balance", bal_cfg) if bal_cfg is not None else None
    tok_cfg = _plain(data_cfg.tokenizer) if data_cfg.tokenizer is not None else None
    tokenizer = registry.build("tokenizer", tok_cfg) if tok_cfg is not None else None
    ds = load_source(data_cfg, registry, report)
    ds = run_steps(ds, data_cfg, registry, report, seed)
    labels = None
    if LABEL in ds.column_names:
        t0 = time.perf_counter()
        ds, labels = encode_labels(ds, task.target, task.label_separator)
        rec = report.diff("labels", "encode", ds, ds, time.perf_counter() - t0)
        kind = "labels" if task.target == "multilabel" else "classes"
        rec.note = f"{len(labels)} {kind}" if labels else "numeric targets"
    splits = split_records(ds, splitter, split_cfg.get("_name_", "split"), report, seed)
    class_weights = None
    if balancer is not None:
        name = bal_cfg.get("_name_", "balance")  # type: ignore[union-attr]
        splits["train"], class_weights = balance_train(
            splits["train"], balancer, name, report, seed
        )
    augmenter = _offline_augmenter(data_cfg, registry)
    if augmenter is not None:
        from framework.augment.build import augment_offline

        splits["train"] = augment_offline(splits["train"], augmenter, seed, report)
    if TEXT not in splits["train"].column_names:
        tokenizer = None
    if tokenizer is not None:
        t0 = time.perf_counter()
        tokenizer.train(column(splits["train"], TEXT))
        splits = tokenize(splits, tokenizer, task.packed, data_cfg.max_length)
        n = sum(len(s) for s in splits.values())
        name = tok_cfg.get("_name_", "tokenizer")  # type: ignore[union-attr]
        seconds = round(time.perf_counter() - t0, 3)
        note = f"vocabulary {tokenizer.vocab_size:,}"
        report.add(StepRecord("tokenize", name, n, n, seconds=seconds, note=note))
    return Stage(splits, tokenizer, report, labels, class_weights)


def cached_stage(data_cfg: Any, task: Any, registry: Registry, seed: int) -> Stage:
    """The stage from the cache when its fingerprint matches, else computed and saved."""
    import datasets

    from framework.data import cache

    datasets.disable_progress_bars()
    plain = _plain(data_cfg)
    source = plain["source"]
    builder = registry.get("source", source["_name_"]).builder if "_name_" in source else None
    paths = getattr(builder, "data_paths", list)()  # a named set's files on this machine
    if _offline_augmenter(data_cfg, registry, load=False) is not None:  # variants are stored
        plain["offline_augment"] = {
            k: plain.get(k) for k in ("text_augment", "synonyms", "augment")
        }
        table = (plain.get("synonyms") or {}).get("path")  # an edited table misses the cache
        paths = [*paths, *([table] if isinstance(table, str) else [])]
    fp = cache.fingerprint({**plain, "seed": seed}, task.cache_key(), task.packed, paths)
    if data_cfg.cache:
        hit = cache.load(fp)
        if hit is not None:
            report = DataReport.load(hit["folder"] / "report.json")
            report.cache = "hit"
            meta = hit["meta"]
            return Stage(
                hit["splits"],
                hit["tokenizer"],
                report,
                meta.get("labels"),
                meta.get("class_weights"),
            )
    stage = run_stage(data_cfg, task, registry, seed)
    stage.report.fingerprint = fp
    if data_cfg.cache:
        stage.report.cache = "miss"
        meta = {"labels": stage.labels, "class_weights": stage.class_weights}
        cache.save(fp, stage.splits, stage.tokenizer, meta)
        stage.report.save(cache.cache_root() / fp / "report.json")
    return stage


def describe(stage: Stage) -> None:
    """Fill the report's split sizes and per-class counts."""
    stage.report.splits = {k: len(v) for k, v in stage.splits.items()}
    if stage.labels:
        stage.report.labels = {
            name: dict(zip(stage.labels, class_counts(ds, len(stage.labels))))
            for name, ds in stage.splits.items()
        }


def base_info(stage: Stage, max_length: int) -> DataInfo:
    """DataInfo from the stage: vocabulary, classes, class weights, image shape, sizes."""
    tok = stage.tokenizer
    train = stage.splits["train"]
    image_shape = None
    if IMAGE in train.column_names:
        import numpy as np

        first = np.asarray(train[0][IMAGE])
        image_shape = [1, *first.shape] if first.ndim == 2 else [first.shape[2], *first.shape[:2]]
    return DataInfo(
        vocab_size=tok.vocab_size if tok is not None else 0,
        max_length=max_length,
        eos_id=tok.eos_id if tok is not None else None,
        pad_id=tok.pad_id if tok is not None else None,
        num_classes=len(stage.labels) if stage.labels else None,
        labels=stage.labels,
        class_weights=stage.class_weights,
        image_shape=image_shape,
        sizes={k: len(v) for k, v in stage.splits.items()},
    )


def build_data(
    data_cfg: Any, task: Any, registry: Registry, seed: int, run_dir: str | Path | None
) -> PreparedData:
    """Run (or load from the cache) the data stage for ``task``; write its artifacts."""
    if data_cfg.get("streaming", False):
        from framework.data.streaming import build_streaming

        return build_streaming(data_cfg, task, registry, seed, run_dir)
    stage = cached_stage(data_cfg, task, registry, seed)
    describe(stage)
    info = base_info(stage, data_cfg.max_length)
    train = stage.splits["train"]
    weights = column(train, WEIGHT) if WEIGHT in train.column_names else None
    datasets, info = task.prepare(stage.splits, stage.tokenizer, info)
    _augment_images(data_cfg, registry, datasets, info, stage.report)
    _augment_text_online(data_cfg, registry, datasets, stage)
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        stage.report.save(run_dir / "data_report.json")
        if stage.tokenizer is not None:
            stage.tokenizer.save(run_dir / "tokenizer.json")
        if stage.labels:
            (run_dir / "labels.json").write_text(json.dumps(stage.labels, indent=2), "utf-8")
    return PreparedData(datasets, info, stage.tokenizer, stage.report, weights, stage)


def data_only(data_cfg: Any, task: Any, registry: Registry, seed: int) -> Stage:
    """The data stage alone (``plait data``): the stage, described, without torch datasets."""
    stage = cached_stage(data_cfg, task, registry, seed)
    describe(stage)
    return stage


def _offline_augmenter(data_cfg: Any, registry: Registry, load: bool = True) -> Any:
    """The text augmenter when ``data.augment.mode`` is offline, else None."""
    from framework.augment.build import text_augmenter

    if (data_cfg.get("augment") or {}).get("mode", "online") != "offline":
        return None
    return text_augmenter(data_cfg, registry, load)


def _augment_text_online(
    data_cfg: Any, registry: Registry, datasets: dict[str, Any], stage: Stage
) -> None:
    """Online mode: wrap the training split (never val or test) to draw fresh variants."""
    from framework.augment.build import augment_online, text_augmenter

    if (data_cfg.get("augment") or {}).get("mode", "online") != "online":
        return  # offline variants are in the stage already: no synonym source to read
    augmenter = text_augmenter(data_cfg, registry)
    if augmenter is None:
        return
    train = stage.splits["train"]
    if TEXT not in train.column_names or stage.tokenizer is None:
        raise PlaitError("data/text_augment needs text and a tokenizer; use data/text_augment=[]")
    datasets["train"] = augment_online(
        datasets["train"], column(train, TEXT), augmenter, stage.tokenizer, data_cfg.max_length
    )
    ops = ", ".join(op.name for op in augmenter.operations)
    note = f"each read: a fresh variant with chance {augmenter.rate:.2f} ({ops})"
    stage.report.add(StepRecord("augment", "text (online)", len(train), len(train), note=note))


def _augment_images(
    data_cfg: Any, registry: Registry, datasets: dict[str, Any], info: Any, report: DataReport
) -> None:
    """Attach the selected image augmentation to the training split (never val or test)."""
    nodes = list((data_cfg.get("image_augment") or {}).values())
    if not nodes:
        return
    train = datasets["train"]
    if not hasattr(train, "augment") or not info.image_shape:
        raise PlaitError("data/image_augment needs images (task image_classification); use []")
    from framework.augment.images import AugmentImages

    transforms = [
        t for n in nodes for t in registry.build("image_augment", n).transforms(*info.image_shape)
    ]
    if transforms:
        train.augment = AugmentImages(transforms)
        names = ", ".join(type(t).__name__ for t in transforms)
        rows = len(train)
        report.add(StepRecord("augment", "images (online)", rows, rows, note=f"each read: {names}"))
