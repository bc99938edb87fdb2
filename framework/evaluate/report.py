"""``eval/report.html``: one self-contained page (charts and thumbnails embedded as base64)
of an evaluation: metrics with intervals, then what the task's analysis found."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from framework.eda.html import STYLE, esc, image
from framework.evaluate.records import EvalSet, record_inputs

EXTRA_STYLE = """
.iv { color: #666; font-size: .85em; }
.tok { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: .85em; }
.focus { outline: 2px solid #c00; }
td.thumb img { width: 56px; border: none; }
td.text { white-space: pre-wrap; }
"""
REPORT = "report.html"
"""The page's file name in the evaluation folder."""
SNIPPET = 300
"""Characters of a record's text shown in the report's tables."""
SNIPPET_LINES = 8
"""Lines of a record's text shown in the report's tables."""


def iv(d: dict[str, float]) -> str:
    """A figure with its interval, as HTML."""
    return f"{d['value']:.4f} <span class=iv>[{d['low']:.4f}, {d['high']:.4f}]</span>"


def metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    """Each metric with its interval, as a table."""
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{iv(v)}</td></tr>" for k, v in metrics.items())
    return f"<table><tr><th>metric</th><th>value [95% bootstrap interval]</th></tr>{rows}</table>"


def input_cell(value: Any) -> str:
    """A record's input as a table cell: its text (cut), or its image as a thumbnail."""
    if isinstance(value, str):
        lines = value.splitlines()
        cut = value if len(value) <= SNIPPET else value[:SNIPPET] + " …"
        if len(lines) > SNIPPET_LINES:
            cut = "\n".join(lines[:SNIPPET_LINES])[:SNIPPET] + "\n …"
        return f'<td class="text">{esc(cut)}</td>'
    from framework.evaluate.charts import thumbnail

    data = base64.b64encode(thumbnail(value)).decode("ascii")
    return f'<td class="thumb"><img src="data:image/png;base64,{data}" alt="record"></td>'


def rows_with_inputs(header: list[str], rows: list[list[Any]], inputs: list[Any]) -> str:
    """A table whose first column is each row's record input."""
    head = "".join(f"<th>{esc(h)}</th>" for h in ["input", *header])
    body = ""
    for row, value in zip(rows, inputs):
        cells = "".join(
            f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{esc(v)}</td>" for v in row
        )
        body += f"<tr>{input_cell(value)}{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def render(doc: dict[str, Any], folder: Path, inputs: list[Any], title: str) -> str:
    """The page as a string: the target's own sections (its analysis), then the charts."""
    from framework.evaluate.analysis import analysis_named

    body = doc.get(doc["kind"], {})
    count = body.get("records", body.get("documents", 0))
    where = doc["records_from"]
    where = f"the run's {where} split" if where in ("train", "val", "test") else where
    scored = f", scored in {doc['precision']}" if doc.get("precision") else ""
    parts = [f"<h1>{esc(title)}</h1>", f"<p>{count:,} records: {esc(where)}{esc(scored)}</p>"]
    parts += [f'<div class="warn">{esc(n)}</div>' for n in doc.get("notes", [])]
    parts += analysis_named(doc["kind"]).report(doc.get(doc["kind"], {}), inputs)
    if doc.get("charts"):
        parts.append("<h2>Charts</h2>")
        parts += [image(folder / name, caption) for caption, name in doc["charts"].items()]
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def write_report(doc: dict[str, Any], folder: Path, evalset: EvalSet) -> Path:
    """Write ``report.html`` into ``folder``; returns its path."""
    from framework.evaluate.analysis import analysis_named

    inputs = record_inputs(evalset.records)
    if not analysis_named(doc["kind"]).empty_inputs:
        inputs = [t for t in inputs if t]
    title = f"plait eval: {doc.get('checkpoint_config') or 'run'} on {doc['records_from']}"
    path = folder / REPORT
    path.write_text(render(doc, folder, inputs, title), "utf-8")
    return path
