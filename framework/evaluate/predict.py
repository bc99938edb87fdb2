"""Predictions for new records (CSV, TSV, JSONL, or plain text lines), one output row per
input row in order: the run's per-record preprocessing, its tokenizer, batched forward passes.
A malformed or empty record stops the command naming its line (``bad_records=fail``) or is
listed in the output with its reason and no prediction (``bad_records=skip``)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass
class InputRecord:
    """One input row."""

    line: int
    """Line number in the file (1-based; a CSV record's first line)."""
    fields: dict[str, Any]
    """The row's own columns (a text line: ``{"text": line}``)."""
    text: str | None
    """The text to predict, or None when the record is malformed."""
    problem: str | None = None
    """Why the record is malformed, or None."""


@dataclass
class Inputs:
    """Every record of an input file, malformed ones included."""

    path: Path
    """The file."""
    columns: list[str]
    """The file's columns, in order."""
    records: list[InputRecord] = field(default_factory=list)
    """Every row, in order."""

    @property
    def bad(self) -> list[InputRecord]:
        """The malformed or empty records."""
        return [r for r in self.records if r.problem is not None]


def input_file(path: str | Path) -> Path:
    """``input=``: a file that exists, or one line."""
    path = Path(path)
    if not path.is_file():
        raise PlaitError(f"input={path}: no such file; give a CSV, JSONL or text file")
    return path


def read_inputs(path: str | Path, text_column: str, encoding: str = "utf-8") -> Inputs:
    """Read every row of ``path``; CSV/TSV by header, JSONL by key, anything else one record
    per line. A file without ``text_column`` stops: the run reads its text from there."""
    path = input_file(path)
    try:
        raw = path.read_bytes().decode(encoding)  # newlines inside CSV fields kept as they are
    except UnicodeDecodeError as exc:
        raise PlaitError(f"input={path}: bytes that are not {encoding} ({exc.reason})") from None
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _table(path, raw, TABLE_SUFFIXES[suffix], text_column)
    if suffix in JSON_SUFFIXES:
        return _jsonl(path, raw, text_column)
    out = Inputs(path, ["text"])
    for n, line in enumerate(raw.splitlines(), 1):
        text = line if line.strip() else None
        out.records.append(InputRecord(n, {"text": line}, text, None if text else "empty text"))
    return _nonempty(out)


def _missing_column(path: Path, text_column: str, columns: list[str]) -> PlaitError:
    return PlaitError(
        f"input={path} has no column '{text_column}', where the run read its text; columns: "
        f"{', '.join(columns) or 'none'}; rename the column or pass text_column=NAME"
    )


def _table(path: Path, raw: str, delimiter: str, text_column: str) -> Inputs:
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise PlaitError(f"input={path}: empty file; give a header row and records") from None
    if text_column not in header:
        raise _missing_column(path, text_column, header)
    at = header.index(text_column)
    out = Inputs(path, header)
    line = reader.line_num + 1
    for row in reader:
        fields = dict(zip(header, row))
        problem = None
        if len(row) != len(header):
            problem = f"{len(row)} fields where the header has {len(header)}"
        elif not row[at].strip():
            problem = "empty text"
        text = row[at] if problem is None else None
        out.records.append(InputRecord(line, fields, text, problem))
        line = reader.line_num + 1
    return _nonempty(out)


def _jsonl(path: Path, raw: str, text_column: str) -> Inputs:
    out = Inputs(path, [])
    seen: dict[str, None] = {}
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            out.records.append(InputRecord(n, {}, None, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            out.records.append(InputRecord(n, {}, None, "not a JSON object"))
            continue
        seen.update(dict.fromkeys(row))
        text = row.get(text_column)
        problem = None
        if not isinstance(text, str):
            problem = f"no text in '{text_column}'"
        elif not text.strip():
            problem = "empty text"
        out.records.append(InputRecord(n, row, text if problem is None else None, problem))
    out.columns = list(seen)
    if out.records and all(text_column not in r.fields for r in out.records):
        raise _missing_column(path, text_column, out.columns)
    return _nonempty(out)


def _nonempty(inputs: Inputs) -> Inputs:
    if not inputs.records:
        raise PlaitError(f"input={inputs.path}: no records")
    if not any(r.problem is None for r in inputs.records):
        first = inputs.records[0]
        raise PlaitError(
            f"input={inputs.path}: every record is malformed or empty (line {first.line}: "
            f"{first.problem})"
        )
    return inputs


def check_bad(inputs: Inputs, policy: str) -> None:
    """``fail``: stop at the first malformed record, naming its line; ``skip``: go on (the
    records are listed in the output)."""
    if policy not in ("fail", "skip"):
        raise PlaitError(f"bad_records must be 'fail' or 'skip', not '{policy}'")
    bad = inputs.bad
    if bad and policy == "fail":
        r = bad[0]
        more = f" ({len(bad)} malformed records in all)" if len(bad) > 1 else ""
        raise PlaitError(
            f"{inputs.path}:{r.line}: malformed record ({r.problem}){more}; fix it, or pass "
            "bad_records=skip to list it in the output without a prediction"
        )


def preprocess(texts: list[str], cfg: Any, registry: Any) -> tuple[list[str], list[str]]:
    """The run's per-record text rewrites (whitespace, lowercase, ...) applied to ``texts``,
    and for each text the steps that would have dropped it in training (``""``: none)."""
    from framework.data.steps import RowFilter, TextMap
    from framework.data.steps_loop import build_steps

    batch: dict[str, list[Any]] = {"text": list(texts)}
    dropped = [""] * len(texts)
    for _kind, name, step, _contract in build_steps(registry, cfg.data):
        if isinstance(step, TextMap) and step.column == "text":
            batch.update(step.batch(batch))
        elif isinstance(step, RowFilter) and step.column in (None, "text"):
            try:
                keep = step.keep(batch)
            except KeyError:  # the filter reads a column new records do not have
                continue
            for i, ok in enumerate(keep):
                if not ok and not dropped[i]:
                    dropped[i] = f"training would drop it ({name})"
    return [t if isinstance(t, str) else "" for t in batch["text"]], dropped


def predict_texts(m: Any, texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    """One dict of output columns per text: the label and each class's probability
    (classifiers), the value (regressors), or tokens and perplexity (language models)."""
    from framework.evaluate.analysis import analysis_for

    return analysis_for(m.task).predict(m, texts, batch_size)


def output_path(source: Path, output: str | None) -> Path:
    """``output``, else ``<input stem>.predictions.csv`` (``.jsonl`` for JSONL input) beside
    the input file ``source``."""
    if output:
        return Path(output)
    suffix = ".jsonl" if source.suffix.lower() in JSON_SUFFIXES else ".csv"
    return source.with_name(f"{source.stem}.predictions{suffix}")


def write_predictions(
    inputs: Inputs, results: list[dict[str, Any] | None], notes: list[str], out: Path
) -> None:
    """One output row per input row, in order: the row's own columns, then the prediction
    (empty for a malformed record), ``error`` (why it was not predicted) and ``note``."""
    keys: dict[str, None] = {}
    for r in results:
        if r:
            keys.update(dict.fromkeys(r))
    rows = []
    for rec, res, note in zip(inputs.records, results, notes):
        row = {**rec.fields, **{k: "" for k in keys}, **(res or {})}
        row["error"] = rec.problem or ""
        row["note"] = note
        rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in JSON_SUFFIXES:
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        return
    header = [*[c for c in inputs.columns if c not in keys], *keys, "error", "note"]
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
