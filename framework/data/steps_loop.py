"""The first half of the data stage: the source, then the curation and cleaning steps in the
recipe's order, each audited; a step that empties the data stops the run."""

from __future__ import annotations

import time
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.data.artifacts import IDS
from framework.data.audit import DataReport, StepRecord
from framework.data.steps import StepContext
from framework.errors import PlaitError
from framework.kinds import ENABLED_KEY, NAME_KEY
from framework.records import IMAGE, ROW, TEXT, Rejects, column
from framework.registry import Registry

STEP_KINDS = ("curate", "clean")
"""Kinds of the ordered record steps, in the order they run."""


def plain(cfg: Any) -> dict[str, Any]:
    """A config node as a plain dict, interpolations resolved."""
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


def name_of(node: Any, default: str) -> str:
    """The registered name a node selects (a raw ``_target_`` node: ``default``)."""
    return plain(node).get(NAME_KEY, default)


def build_steps(registry: Registry, data_cfg: Any) -> list[tuple[str, str, Any, Any]]:
    """(kind, name, step, contract) of every enabled curate then clean step, in order."""
    out = []
    for kind in STEP_KINDS:
        for name, node in (data_cfg.get(kind) or {}).items():
            params = plain(node)
            if not params.pop(ENABLED_KEY, True):
                continue
            contract = registry.contract(kind, params)
            out.append((kind, name, registry.build(kind, params), contract))
    return out


def check_source(name: str, rows: int, columns: list[str], text_dtype: Any) -> None:
    """A source's records must exist and hold text, images or token ids, the text as strings
    (``text_dtype``: the text column's type, None when there is none); on every engine."""
    if rows == 0:
        raise PlaitError(f"data source '{name}' produced no records; check its settings")
    if TEXT not in columns and IMAGE not in columns and IDS not in columns:
        raise PlaitError(
            f"data source '{name}' has no 'text', 'image' or '{IDS}' column; columns: "
            f"{', '.join(columns)}; set data.source.text_column"
        )
    if TEXT in columns and str(text_dtype) not in ("string", "large_string"):
        raise PlaitError(
            f"data source '{name}': the text column holds {text_dtype}, not text; point "
            "data.source.text_column at a text column"
        )


def emptied(kind: str, name: str, rows_in: int) -> PlaitError:
    """The error of a step that removed every record (on every engine)."""
    return PlaitError(
        f"data step '{name}' ({kind}) removed every record ({rows_in:,} in, 0 out); "
        f"loosen its settings or take it out of data/{kind}"
    )


def no_text(count: int, first_row: int) -> PlaitError:
    """The error of records left without text after curation (on every engine)."""
    return PlaitError(
        f"data: {count:,} records have no text (the first is record {first_row} of the "
        "source); drop them with data/curate=[missing] or fix the data"
    )


def load_source(data_cfg: Any, registry: Registry, report: DataReport) -> Any:
    """Build the source and check it has text or images; every record gets a ``_row`` id."""
    t0 = time.perf_counter()
    rejects = Rejects()
    ds = registry.build("source", data_cfg.source, rejects=rejects)
    name = name_of(data_cfg.source, "source")
    text = (
        getattr(ds.features[TEXT], "dtype", ds.features[TEXT]) if TEXT in ds.column_names else None
    )
    check_source(name, len(ds), ds.column_names, text)
    ds = ds.add_column(ROW, list(range(len(ds))))
    rec = StepRecord(
        "source", name, len(ds) + rejects.count, len(ds), seconds=round(time.perf_counter() - t0, 3)
    )
    if rejects.count:
        rec.note = f"{rejects.count:,} malformed records skipped (bad_records=skip)"
        rec.removed_examples = list(rejects.examples)
    report.add(rec)
    return ds


def step_settings(data_cfg: Any) -> dict[str, str]:
    """Each curate and clean step's settings as ``key=value, ...``, by its name (the reason
    lineage gives for what the step did)."""
    from framework.data.lineage import settings_of

    found = {}
    for kind in STEP_KINDS:
        for name, node in (data_cfg.get(kind) or {}).items():
            found[name] = settings_of(plain(node))
    return found


def run_steps(
    ds: Any,
    steps: list[tuple[str, str, Any, Any]],
    num_proc: int,
    report: DataReport,
    seed: int,
    settings: dict[str, str] | None = None,
) -> Any:
    """Run the built steps in order, each audited with what it removed or changed
    (``settings``: each step's, by name, for the lineage's reasons)."""
    for kind, name, step, contract in steps:
        ctx = StepContext(num_proc=num_proc, seed=seed, name=name)
        t0 = time.perf_counter()
        out = step(ds, ctx)
        if len(out) == 0:
            raise emptied(kind, name, len(ds))
        rec = report.diff(kind, name, ds, out, time.perf_counter() - t0,
                          (settings or {}).get(name, ""),
                          getattr(step, "duplicate_pairs", None))  # fmt: skip
        if contract.reports_removed and step.examples:  # the step's own account
            rec.removed_examples = list(step.examples)[:3]
        ds = out
    if TEXT in ds.column_names:
        empty = [i for i, t in enumerate(column(ds, TEXT)) if t is None]
        if empty:
            raise no_text(len(empty), column(ds, ROW)[empty[0]])
    return ds
