"""The records an evaluation scores: a split of the run's own data stage (from the data cache
when the run left it there), or new data through any source with the run's preprocessing;
labels in the run's numbering, token ids from the run's own tokenizer (never retrained)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from framework.errors import PlaitError
from framework.records import IMAGE, LABEL, ROW, SPLIT, TEXT, column

INTERNAL = {TEXT, LABEL, IMAGE, ROW, SPLIT, "input_ids", "_weight"}
"""Columns of the data stage that are not the source's own."""
NO_TEST = (
    "the data has no test split (data.split.test=0), so this is the validation split, which "
    "also chose the best checkpoint: its figures are optimistic"
)
"""The note of an evaluation that fell back to the validation split."""
MAX_CATEGORIES = 50
"""A text column with more distinct values than this is free text, not a slice."""


@dataclass
class EvalSet:
    """Records to evaluate, as the data stage leaves them (``text``/``image``, ``label`` in
    the run's class ids, the source's other columns)."""

    name: str
    """``test``, ``val``, or the new source's description."""
    records: Any
    """A ``datasets.Dataset``."""
    val: Any = None
    """The run's validation records (temperature scaling), or None."""
    train_texts: list[str] | None = None
    """The training split's texts (the near-duplicate slice), or None."""
    notes: list[str] = field(default_factory=list)
    """What the report should say about how the records were read."""


def run_split(cfg: Any, task: Any, registry: Any, split: str, labels: list[str] | None) -> EvalSet:
    """Split ``split`` of the run's own data stage (the data cache holds it when the run
    cached its data: nothing is recomputed)."""
    from framework.data.stage import DataStage

    if cfg.data.get("streaming", False):
        raise PlaitError(
            "this run streamed its data, so it has no stored test split; evaluate it on a file: "
            "data.source.paths=[FILE]"
        )
    tables = DataStage(cfg.data, task, registry, cfg.seed).tables()
    notes = []
    if split == "test" and "test" not in tables.splits and "val" in tables.splits:
        split = "val"
        notes.append(NO_TEST)
    if split not in tables.splits:
        raise PlaitError(
            f"split={split}: the run's data has no such split; splits: {', '.join(tables.splits)}"
        )

    def own(ds: Any) -> Any:
        return in_run_labels(ds, tables.labels, labels)

    train = tables.splits["train"]
    texts = column(train, TEXT) if TEXT in train.column_names and split != "train" else None
    val = tables.splits.get("val")
    return EvalSet(
        split, own(tables.splits[split]), own(val) if val is not None else None, texts, notes
    )


def new_source(
    cfg: Any, task: Any, registry: Any, data_overrides: list[str], labels: list[str] | None
) -> EvalSet:
    """New records through the source ``data_overrides`` describe (``data.source.paths=[..]``,
    ``data/source=csv``), with the run's per-record curation and cleaning; steps that need
    the whole data set (deduplication, rare classes) are left out and said so."""
    from framework.data.audit import DataReport
    from framework.data.finish import encode
    from framework.data.steps import RowFilter, TextMap
    from framework.data.steps_loop import build_steps, load_source, run_steps

    data_cfg = with_overrides(cfg.data, data_overrides)
    report = DataReport()
    ds = load_source(data_cfg, registry, report)
    steps = build_steps(registry, data_cfg)
    kept = [s for s in steps if isinstance(s[2], (TextMap, RowFilter))]
    notes = [
        f"left out '{name}' ({kind}): it needs the whole data set"
        for kind, name, step, _ in steps
        if not isinstance(step, (TextMap, RowFilter))
    ]
    ds = run_steps(ds, kept, 1, report, cfg.seed)
    if LABEL not in ds.column_names:
        raise PlaitError(
            "the new data has no labels to score against; set data.source.label_column, or "
            "use plait predict for unlabelled records"
        )
    ds, found = encode(ds, task, report)
    where = describe_source(data_cfg.source)
    return EvalSet(where, in_run_labels(ds, found, labels), notes=notes)


def with_overrides(data_cfg: Any, overrides: list[str]) -> Any:
    """The run's data config with ``data.*`` overrides applied; ``data/source=NAME`` selects
    another registered source (its settings start from its defaults)."""
    from framework.kinds import NAME_KEY

    out = OmegaConf.create(OmegaConf.to_container(data_cfg, resolve=True))
    dotted = []
    for item in overrides:
        key, _, value = item.partition("=")
        if key == "data/source":
            out.source = {NAME_KEY: value}
        else:
            dotted.append(f"{key.removeprefix('data.')}={value}")
    merged = OmegaConf.merge(out, OmegaConf.from_dotlist(dotted))
    return merged


def describe_source(node: Any) -> str:
    """A short name for the records a source node reads (its paths, else its name)."""
    from framework.kinds import NAME_KEY

    paths = node.get("paths") or node.get("path")
    if paths:
        shown = list(paths) if not isinstance(paths, str) else [paths]
        return ", ".join(str(p) for p in shown)
    return str(node.get(NAME_KEY, "source"))


def in_run_labels(ds: Any, found: list[str] | None, labels: list[str] | None) -> Any:
    """Relabel ``ds`` (ids into ``found``, or lists of them for label sets) with the run's
    ids (into ``labels``); a class the run never saw stops with its name."""
    if LABEL not in ds.column_names or not labels or not found or found == labels:
        return ds
    index = {name: i for i, name in enumerate(labels)}
    unknown = sorted({n for n in found if n not in index})
    if unknown:
        raise PlaitError(
            f"the new data has labels the run was not trained on: {', '.join(unknown[:10])}; "
            f"the run knows {', '.join(labels[:10])}{' ...' if len(labels) > 10 else ''}"
        )
    remap = [index[n] for n in found]
    values = [[remap[i] for i in v] if isinstance(v, list) else remap[v] for v in column(ds, LABEL)]
    return ds.remove_columns(LABEL).add_column(LABEL, values)


def slice_columns(ds: Any, asked: list[str] | None) -> dict[str, list[Any]]:
    """The source columns to slice by: those ``asked`` (each must exist), else every numeric
    column and every text column with at most :data:`MAX_CATEGORIES` values."""
    own = [c for c in ds.column_names if c not in INTERNAL and not c.startswith("_")]
    if asked is not None:
        missing = [c for c in asked if c not in own]
        if missing:
            raise PlaitError(
                f"slices: no column {', '.join(missing)} in the records; columns: "
                f"{', '.join(own) or 'none beyond text and label'}"
            )
        return {c: column(ds, c) for c in asked}
    out = {}
    for c in own:
        values = column(ds, c)
        if any(v is None for v in values):
            continue
        if (
            all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            or len({str(v) for v in values}) <= MAX_CATEGORIES
        ):
            out[c] = values
    return out


def tokenized(ds: Any, tokenizer: Any, packed: bool, max_length: int) -> Any:
    """``ds`` with ``input_ids`` from the run's tokenizer (the stored ids are not trusted to
    be its: a data cache rebuilt since may hold another tokenizer's)."""
    from framework.data.finish import tokenize

    if tokenizer is None or TEXT not in ds.column_names:
        return ds
    return tokenize({"eval": ds}, tokenizer, packed, max_length)["eval"]


def prepared(task: Any, ds: Any, tokenizer: Any, info: Any) -> Any:
    """The torch dataset training would have made of ``ds``, with the statistics training
    took from its own split (target scale, image normalization) restored from ``info``."""
    task.restore(info)
    out, _ = task.prepare({"train": ds}, tokenizer, copy.deepcopy(info))
    return out["train"]


def record_inputs(ds: Any) -> list[Any]:
    """What each record shows in the report: its text, or its image as an array."""
    if TEXT in ds.column_names:
        return column(ds, TEXT)
    if IMAGE in ds.column_names:
        from framework.records import image_array

        arr = image_array(ds)
        return list(arr) if arr is not None else [np.asarray(im) for im in ds[IMAGE]]
    return [""] * len(ds)
