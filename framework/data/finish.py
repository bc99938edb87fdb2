"""The second half of the data stage: labels, split (and the overlap check), balance, offline
text variants, the tokenizer trained on the training split, token ids; then the description
(DataInfo) and the online augmentation attached to the training split."""

from __future__ import annotations

import time
from typing import Any

from framework.data.artifacts import IDS, WEIGHT, Tables
from framework.data.audit import DataReport, StepRecord
from framework.data.balance import Balanced
from framework.data.labels import class_counts, encode_labels
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import IMAGE, LABEL, TEXT, column


def encode(ds: Any, task: Any, report: DataReport) -> tuple[Any, list[str] | None]:
    """Labels to ids as the task reads them (classes, label sets or numbers)."""
    if LABEL not in ds.column_names:
        return ds, None
    t0 = time.perf_counter()
    ds, labels = encode_labels(ds, task.target, task.label_separator)
    rec = report.diff("labels", "encode", ds, ds, time.perf_counter() - t0)
    kind = "labels" if task.target == "multilabel" else "classes"
    rec.note = f"{len(labels)} {kind}" if labels else "numeric targets"
    return ds, labels


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
    return remove_overlap(splits, splitter.overlap, report)


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


def token_ids(tokenizer: Any, texts: list[str], packed: bool, max_length: int) -> list[list[int]]:
    """The ids of ``texts``: whole documents plus end-of-text (packed tasks) or cut to
    ``max_length`` (every engine encodes through this)."""
    if packed:
        eos = tokenizer.eos_id
        ids = tokenizer.encode_batch(texts)
        return [[*x, eos] if eos is not None else x for x in ids]
    return tokenizer.encode_batch(texts, max_length)


def ids_array(tokenizer: Any, texts: list[str], packed: bool, max_length: int) -> Any:
    """:func:`token_ids` as one Arrow ``list<int32>`` array. The rows are converted once, in
    C++; a packed task's end-of-text is added with NumPy, not by copying every row in Python
    (what ``datasets.map``'s writer would do with the lists)."""
    import numpy as np
    import pyarrow as pa

    eos = tokenizer.eos_id if packed else None
    if eos is None:  # nothing to add: the rows as token_ids gives them
        return pa.array(token_ids(tokenizer, texts, packed, max_length), type=pa.list_(pa.int32()))
    ids = tokenizer.encode_batch(texts)
    rows = pa.array(ids, type=pa.list_(pa.int32()))
    offsets = rows.offsets.to_numpy()
    values = rows.values.to_numpy()
    # each row grows by one: row i's ids move i places right, its end-of-text follows them
    offsets = offsets + np.arange(len(offsets), dtype=offsets.dtype)
    out = np.full(len(values) + len(ids), eos, dtype=np.int32)
    kept = np.ones(len(out), dtype=bool)
    kept[offsets[1:] - 1] = False
    out[kept] = values
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(out))


TOKENIZE_BATCH = 1000
"""Texts encoded per call of the tokenizer (which spreads each call over the cores)."""


def tokenize(
    splits: dict[str, Any], tokenizer: Any, packed: bool, max_length: int
) -> dict[str, Any]:
    """Add ``input_ids``: whole documents plus end-of-text (packed tasks) or cut to max_length.
    The texts are read from Arrow a batch at a time and the ids (:func:`ids_array`) added as
    one column: nothing else is copied or passes through Python (``datasets.map`` would write
    every column again; 7% of the step on 20 MB of text). An existing ids column (tokenized
    again, with a model's own tokenizer) is replaced."""
    import datasets
    import pyarrow as pa
    from datasets.fingerprint import generate_random_fingerprint

    feature = datasets.Sequence(datasets.Value("int32"))
    out = {}
    for name, ds in splits.items():
        texts = ds.with_format("arrow", columns=[TEXT])
        ids = pa.chunked_array(
            [ids_array(tokenizer, texts[i : i + TOKENIZE_BATCH][TEXT].to_pylist(), packed,
                       max_length) for i in range(0, len(ds), TOKENIZE_BATCH)],
            type=pa.list_(pa.int32()),
        )  # fmt: skip
        if IDS in ds.column_names:
            ds = ds.remove_columns(IDS)
        # in memory, never cached by datasets (Plait's cache keys the whole stage): a fresh
        # fingerprint spares hashing the ids
        added = ds.add_column(IDS, ids, feature=feature,
                              new_fingerprint=generate_random_fingerprint())  # fmt: skip
        out[name] = added.with_format(ds.format["type"]) if ds.format["type"] else added
    return out


def tokenizer_sample(train: Any, max_chars: int | None) -> list[str]:
    """What the tokenizer trains on: the training split's texts, or its first records in
    split order up to ``max_chars`` characters (read a batch at a time)."""
    if max_chars is None:
        return column(train, TEXT)
    out: list[str] = []
    total = 0
    for start in range(0, len(train), 1000):
        for t in train[start : start + 1000][TEXT]:
            if total >= max_chars:
                return out
            out.append(t)
            total += len(t or "")
    return out


def fit_tokenizer(splits: dict[str, Any], tokenizer: Any, max_chars: int | None) -> str:
    """Train the tokenizer on the training split's sample; the report's note."""
    sample = tokenizer_sample(splits["train"], max_chars)
    tokenizer.train(sample)
    note = f"vocabulary {tokenizer.vocab_size:,}"
    if max_chars is not None:
        note += f", trained on the first {len(sample):,} training records"
    return note


def train_tokenizer(
    splits: dict[str, Any], tokenizer: Any, name: str, task: Any, max_length: int,
    report: DataReport, max_chars: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train the tokenizer on the training split only, then add token ids to every split."""
    t0 = time.perf_counter()
    note = fit_tokenizer(splits, tokenizer, max_chars)
    splits = tokenize(splits, tokenizer, task.packed, max_length)
    n = sum(len(s) for s in splits.values())
    seconds = round(time.perf_counter() - t0, 3)
    report.add(StepRecord("tokenize", name, n, n, seconds=seconds, note=note))
    return splits


def describe(tables: Tables) -> None:
    """Fill the report's split sizes and per-class counts."""
    tables.report.splits = {k: len(v) for k, v in tables.splits.items()}
    if tables.labels:
        tables.report.labels = {
            name: dict(zip(tables.labels, class_counts(ds, len(tables.labels))))
            for name, ds in tables.splits.items()
        }


def base_info(tables: Tables, max_length: int) -> DataInfo:
    """DataInfo from the tables: vocabulary, classes, class weights, image shape, sizes."""
    tok = tables.tokenizer
    train = tables.splits["train"]
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
        num_classes=len(tables.labels) if tables.labels else None,
        labels=tables.labels,
        class_weights=tables.class_weights,
        image_shape=image_shape,
        sizes={k: len(v) for k, v in tables.splits.items()},
        vocab=[tok.id_to_token(i) or "" for i in range(tok.vocab_size)]
        if tok is not None
        else None,
    )


def sample_weights(tables: Tables) -> list[float] | None:
    """Per-record sampling weights of the training split, if a balancer set them."""
    train = tables.splits["train"]
    return column(train, WEIGHT) if WEIGHT in train.column_names else None


def attach_text_augment(
    datasets: dict[str, Any], tables: Tables, augmenter: Any, max_length: int
) -> None:
    """Online mode: wrap the training split (never val or test) to draw fresh variants."""
    from framework.data.augmentation import augment_online

    train = tables.splits["train"]
    if TEXT not in train.column_names or tables.tokenizer is None:
        raise PlaitError("data/text_augment needs text and a tokenizer; use data/text_augment=[]")
    augmenter.load()
    datasets["train"] = augment_online(
        datasets["train"], column(train, TEXT), augmenter, tables.tokenizer, max_length
    )
    ops = ", ".join(op.name for op in augmenter.operations)
    note = f"each read: a fresh variant with chance {augmenter.rate:.2f} ({ops})"
    tables.report.add(StepRecord("augment", "text (online)", len(train), len(train), note=note))


def attach_image_augment(
    datasets: dict[str, Any], augments: list[Any], info: DataInfo, report: DataReport
) -> None:
    """Attach the built image augmentations to the training split (never val or test)."""
    train = datasets["train"]
    if not hasattr(train, "augment") or not info.image_shape:
        raise PlaitError(
            "data/image_augment needs a task that reads images; use data/image_augment=[]"
        )
    from framework.augment.images import AugmentImages

    transforms = [t for a in augments for t in a.transforms(*info.image_shape)]
    if transforms:
        train.augment = AugmentImages(transforms)
        names = ", ".join(type(t).__name__ for t in transforms)
        rows = len(train)
        report.add(StepRecord("augment", "images (online)", rows, rows, note=f"each read: {names}"))
