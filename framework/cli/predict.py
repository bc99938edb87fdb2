"""``plait predict run=DIR input=FILE [output=FILE]``: predictions for new records, one row
per input row, in order, written beside the input."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from framework.checks import COUNT
from framework.cli.command_config import (
    CommandSpec,
    HydraFlags,
    compose_command,
    compose_one,
    option,
)


@dataclass
class PredictCommand:
    """``plait predict`` options."""

    run: str | None = option(None, "the run dir plait train wrote (runs/NAME/<time>)")
    ckpt: str | None = option(None, "a checkpoint to predict with instead of the run's best")
    input: str | None = option(None, "the records: a CSV, JSONL or text-lines file")
    output: str | None = option(None, "the file to write; null: beside the input")
    text_column: str | None = option(None, "the input's text column; null: the run's")
    bad_records: str | None = option(None, "fail or skip a malformed record; null: the run's")
    batch_size: int = option(64, "records per forward pass", check=COUNT)
    overwrite: bool = option(False, "replace an output= file Plait did not write (or the input)")
    task: str | None = option(None, "the task you expect; a checkpoint of another task stops")


SPEC = CommandSpec("predict", PredictCommand, "run=runs/tweets_sentiment/<time> input=new.csv")
"""How ``plait predict`` reads its command line."""
EXAMPLE = SPEC.example


def predict_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait predict`` (once per combination with ``--multirun``); returns the exit
    status."""
    for opts, _ in compose_command(SPEC, items, flags) or []:
        _predict_and_say(opts)
    return 0


def _predict_and_say(opts: Any) -> None:
    from rich.console import Console

    started = time.perf_counter()
    out, inputs, good = predict_options(opts)
    console = Console(markup=False)  # paths and records as they are
    bad = inputs.bad
    console.print(
        f"{len(good):,} records predicted, {len(bad):,} malformed or empty "
        f"in {time.perf_counter() - started:.1f} s: {out}"
    )
    for r in bad[:10]:
        console.print(f"  {inputs.path}:{r.line}: {r.problem} (no prediction)")
    if len(bad) > 10:
        console.print(f"  ... and {len(bad) - 10} more (the 'error' column lists every one)")


def predict_items(items: list[str]) -> tuple[Any, Any, list[int]]:
    """``plait predict ITEMS`` without printing (``framework.api.predict``): the output
    file, the inputs read, and the positions of the records predicted."""
    return predict_options(compose_one(SPEC, items)[0])


def predict_options(opts: Any) -> tuple[Any, Any, list[int]]:
    """Predict with composed options."""
    from framework.errors import PlaitError

    if not opts.input:
        raise PlaitError(f"missing input=FILE (CSV, JSONL or text lines); e.g. {EXAMPLE}")
    from framework.evaluate.loading import load_model
    from framework.evaluate.predict import (
        check_bad,
        input_file,
        output_path,
        predict_texts,
        preprocess,
        read_inputs,
        write_predictions,
    )
    from framework.outputs import output_file
    from framework.registry import default_registry

    source = input_file(opts.input)
    out = output_file(output_path(source, opts.output), "output", opts.overwrite, (source,))
    registry = default_registry()
    m, _ = load_model(opts.run, opts.ckpt, opts.task, registry)
    if m.tokenizer is None:
        raise PlaitError("plait predict reads text records; this run reads images")
    source = m.cfg.data.source
    text_column = opts.text_column or source.get("text_column") or "text"
    inputs = read_inputs(opts.input, text_column, source.get("encoding") or "utf-8")
    check_bad(inputs, opts.bad_records or source.get("bad_records") or "fail")
    good = [i for i, r in enumerate(inputs.records) if r.problem is None]
    texts, dropped = preprocess([inputs.records[i].text for i in good], m.cfg, registry)
    predicted = predict_texts(m, texts, opts.batch_size)
    results: list = [None] * len(inputs.records)
    notes = [""] * len(inputs.records)
    for i, res, note in zip(good, predicted, dropped):
        results[i], notes[i] = res, note
    write_predictions(inputs, results, notes, out)
    return out, inputs, good
