"""``plait predict run=DIR input=FILE [output=FILE]``: predictions for new records, one row
per input row, in order, written beside the input."""

from __future__ import annotations

import time
from typing import Any

OPTIONS = {
    "run": (str, None),
    "ckpt": (str, None),
    "input": (str, None),
    "output": (str, None),
    "text_column": (str, None),
    "bad_records": (str, None),
    "batch_size": (int, 64),
    "task": (str, None),
}
"""``plait predict`` options."""
EXAMPLE = "run=runs/tweets_sentiment/<time> input=new.csv"


def predict_command(items: list[str]) -> int:
    """Run ``plait predict``; returns the exit status."""
    from rich.console import Console

    started = time.perf_counter()
    out, inputs, good = predict_items(items)
    console = Console()
    bad = inputs.bad
    console.print(
        f"{len(good):,} records predicted, {len(bad):,} malformed or empty "
        f"in {time.perf_counter() - started:.1f} s: {out}"
    )
    for r in bad[:10]:
        console.print(f"  {inputs.path}:{r.line}: {r.problem} (no prediction)")
    if len(bad) > 10:
        console.print(f"  ... and {len(bad) - 10} more (the 'error' column lists every one)")
    return 0


def predict_items(items: list[str]) -> tuple[Any, Any, list[int]]:
    """``plait predict ITEMS`` without printing (``framework.api.predict``): the output
    file, the inputs read, and the positions of the records predicted."""
    from framework.cli.options import parse_options
    from framework.errors import PlaitError

    opts, _ = parse_options(items, OPTIONS, EXAMPLE)
    if not opts["input"]:
        raise PlaitError(f"missing input=FILE (CSV, JSONL or text lines); e.g. {EXAMPLE}")
    from framework.evaluate.loading import load_model
    from framework.evaluate.predict import (
        check_bad,
        output_path,
        predict_texts,
        preprocess,
        read_inputs,
        write_predictions,
    )
    from framework.registry import default_registry

    registry = default_registry()
    m, _ = load_model(opts["run"], opts["ckpt"], opts["task"], registry)
    if m.tokenizer is None:
        raise PlaitError("plait predict reads text records; this run reads images")
    source = m.cfg.data.source
    text_column = opts["text_column"] or source.get("text_column") or "text"
    inputs = read_inputs(opts["input"], text_column, source.get("encoding") or "utf-8")
    check_bad(inputs, opts["bad_records"] or source.get("bad_records") or "fail")
    good = [i for i, r in enumerate(inputs.records) if r.problem is None]
    texts, dropped = preprocess([inputs.records[i].text for i in good], m.cfg, registry)
    predicted = predict_texts(m, texts, opts["batch_size"])
    results: list = [None] * len(inputs.records)
    notes = [""] * len(inputs.records)
    for i, res, note in zip(good, predicted, dropped):
        results[i], notes[i] = res, note
    out = output_path(inputs, opts["output"])
    write_predictions(inputs, results, notes, out)
    return out, inputs, good
