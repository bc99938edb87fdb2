"""``plait data``: run a recipe's data stage alone and print its report; ``--why TEXT_OR_ID``:
what the stage did to one record, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.cli.spine import load, stage
from framework.rundir import DATA_REPORT, recipe_dir


def data(overrides: list[str], why: str | None = None) -> int:
    """Compose the recipe, run (or load from the cache) its data stage, print and save the
    report to ``runs/<name>/data_report.json`` (and its lineage); ``why``: then tell what
    happened to the records it names. Returns the exit status."""
    from rich.console import Console

    loaded = load(overrides)
    data_stage = stage(loaded)
    lineage = None
    if loaded.cfg.data.streaming:  # nothing to count in advance: the validation blocks it holds
        prepared = data_stage.prepare()
        report, tokenizer, labels = prepared.report, None, None
    else:
        tables = data_stage.tables()
        report, tokenizer, labels, lineage = tables.report, None, tables.labels, tables.lineage
    console = Console()
    run = recipe_dir(loaded.cfg.name)
    run.write_data(report, tokenizer, labels, lineage)
    if why is not None:
        explain_record(why, lineage, loaded.cfg, console)
        return 0
    report.print(console)
    console.print(f"report: {run.path / DATA_REPORT}")
    if lineage is not None:
        console.print(f"lineage: {run.lineage} (plait data --why TEXT_OR_RECORD)")
    return 0


def explain_record(query: str, lineage: Path | None, cfg: Any, console: Any) -> None:
    """Print every event of the records ``query`` names (a record number or a text)."""
    from framework.data.lineage import events_of, records_matching, text_of
    from framework.errors import PlaitError

    if lineage is None:
        why = ("the data streamed" if cfg.data.streaming else
               "data.lineage is false, the engine does not record it, or the cached tables "
               "were made without it")  # fmt: skip
        raise PlaitError(f"--why: no lineage for this data ({why}); run plait data with "
                         "data.lineage=true data.cache=false")  # fmt: skip
    records, total = records_matching(lineage, query)
    if not records:
        raise PlaitError(
            f"--why: no record is numbered or holds the text {query!r} at any step; give a "
            "record number (its position in the source, from 0) or a text from it"
        )
    if total > len(records):
        console.print(f"{total:,} records match {query!r}; the first {len(records)}:")
    events = events_of(lineage, records)
    kept = sorted({e["duplicate_of"] for ev in events.values() for e in ev
                   if e["duplicate_of"] is not None})  # fmt: skip
    kept_text = text_of(lineage, kept) if kept else {}
    for record in records:
        console.print(f"record {record}:", markup=False)
        for e in events[record]:
            console.print(_event_line(e, kept_text), markup=False, soft_wrap=True)
        if not any(e["event"] == "placed" for e in events[record]):
            console.print("  not in any split: training never sees it", markup=False)


def _event_line(e: dict[str, Any], kept_text: dict[int, str | None]) -> str:
    from framework.data.audit import shorten

    if e["event"] == "removed":
        line = f"  {e['stage']} {e['step']}: removed by {e['reason']}"
        if e["duplicate_of"] is not None:
            shown = kept_text.get(e["duplicate_of"])
            line += f"; a duplicate of record {e['duplicate_of']}, which was kept"
            line += f": {shorten(shown)!r}" if shown is not None else ""
        line += f"\n      text: {shorten(e['text'])!r}" if e["text"] is not None else ""
        return line
    if e["event"] == "changed":
        head = f"  {e['stage']} {e['step']}: changed by {e['reason']}"
        return f"{head}\n      from: {shorten(e['text'])!r}\n      to:   {shorten(e['after'])!r}"
    text = f": {shorten(e['text'])!r}" if e["text"] is not None else ""
    return f"  split: {e['reason']}{text}"
