"""``eval/report.html``: one self-contained page (charts and thumbnails embedded as base64)
of an evaluation: metrics with intervals, then what the task's analysis found."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from framework.eda.html import STYLE, esc, image, table
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


def _iv(d: dict[str, float]) -> str:
    return f"{d['value']:.4f} <span class=iv>[{d['low']:.4f}, {d['high']:.4f}]</span>"


def _metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{_iv(v)}</td></tr>" for k, v in metrics.items())
    return f"<table><tr><th>metric</th><th>value [95% bootstrap interval]</th></tr>{rows}</table>"


def _input_cell(value: Any) -> str:
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


def _rows_with_inputs(header: list[str], rows: list[list[Any]], inputs: list[Any]) -> str:
    """A table whose first column is each row's record input."""
    head = "".join(f"<th>{esc(h)}</th>" for h in ["input", *header])
    body = ""
    for row, value in zip(rows, inputs):
        cells = "".join(
            f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{esc(v)}</td>" for v in row
        )
        body += f"<tr>{_input_cell(value)}{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def _classification(c: dict[str, Any], inputs: list[Any]) -> list[str]:
    parts = ["<h2>Metrics</h2>", _metrics_table(c["metrics"])]
    rows = [
        [r["class"], r["precision"], r["recall"], r["f1"], r["support"]] for r in c["per_class"]
    ]
    parts += ["<h2>Per class</h2>", table(["class", "precision", "recall", "F1", "support"], rows)]
    parts.append("<h2>Most confused classes</h2>")
    if c["confused_pairs"]:
        pair_rows = []
        for p in c["confused_pairs"]:
            examples = "\n".join(
                "• " + str(inputs[i])[:200] for i in p["examples"] if isinstance(inputs[i], str)
            )
            pair_rows.append(
                [p["true"], p["predicted"], p["count"], f"{p['share_of_true']:.1%}", examples]
            )
        header = ["true", "predicted as", "records", "share of true class", "examples"]
        parts.append(table(header, pair_rows, text_cols=(4,)))
    else:
        parts.append("<p>no mistakes</p>")
    cal = c["calibration"]
    line = f"expected calibration error {cal['before']['ece']:.4f}"
    if "after" in cal:
        line += (
            f"; temperature {cal['temperature']:.3f} fitted on the validation split: ECE "
            f"{cal['after']['ece']:.4f}, NLL {cal['nll_before']:.4f} → {cal['nll_after']:.4f}"
        )
    parts += ["<h2>Calibration</h2>", f"<p>{esc(line)}</p>"]
    worst = c["worst"]
    parts.append("<h2>Worst records (highest loss)</h2>")
    parts.append(
        _rows_with_inputs(
            ["true", "predicted", "confidence", "p(true)", "loss"],
            [[w["true"], w["predicted"], w["confidence"], w["p_true"], w["loss"]] for w in worst],
            [inputs[w["index"]] for w in worst],
        )
    )
    parts.append("<h2>Metrics per slice</h2>")
    for name, rows in c["slices"].items():
        shown = [
            [
                r["slice"],
                r["records"],
                r["accuracy"]["value"],
                f"[{r['accuracy']['low']:.3f}, {r['accuracy']['high']:.3f}]",
                "" if r["f1_macro"] is None else r["f1_macro"],
            ]
            for r in rows
        ]
        parts.append(f"<h3>by {esc(name)}</h3>")
        parts.append(table(["slice", "records", "accuracy", "95% interval", "macro-F1"], shown))
    return parts


def _regression(r: dict[str, Any], inputs: list[Any]) -> list[str]:
    parts = ["<h2>Metrics</h2>", _metrics_table(r["metrics"])]
    res = r["residuals"]
    parts.append(f"<p>residuals: mean {res['mean']:.4g}, standard deviation {res['std']:.4g}</p>")
    parts.append("<h2>Largest errors</h2>")
    parts.append(
        _rows_with_inputs(
            ["true", "predicted", "error"],
            [[x["true"], x["predicted"], x["error"]] for x in r["largest"]],
            [inputs[x["index"]] for x in r["largest"]],
        )
    )
    return parts


def _context(s: dict[str, Any]) -> str:
    """Tokens of a context shaded by their loss; the surprising one outlined."""
    top = max((loss for _, loss in s["context"]), default=1.0) or 1.0
    spans = []
    for i, (piece, loss) in enumerate(s["context"]):
        alpha = min(1.0, loss / top)
        cls = ' class="focus"' if i == s["focus"] else ""
        spans.append(
            f'<span{cls} style="background: rgba(230,60,40,{alpha:.2f})" '
            f'title="loss {loss:.2f}">{esc(piece)}</span>'
        )
    return f'<div class="tok">{"".join(spans)}</div>'


def _language(lm: dict[str, Any], texts: list[str]) -> list[str]:
    parts = ["<h2>Metrics</h2>", _metrics_table(lm["metrics"])]
    parts.append(
        f"<p>{lm['documents']:,} documents, {lm['tokens']:,} predicted tokens; bits per byte "
        "divide the loss by the documents' UTF-8 bytes, so they compare across tokenizers.</p>"
    )
    parts.append(
        "<h2>Most surprising contexts</h2><p>Each token shaded by its loss; the "
        "outlined one is the surprise.</p>"
    )
    rows = [
        f"<tr><td>{s['loss']:.2f}</td><td>{s['document']}</td>"
        f"<td class=text>{_context(s)}</td></tr>"
        for s in lm["surprises"]
    ]
    parts.append(
        f"<table><tr><th>loss</th><th>document</th><th>context</th></tr>{''.join(rows)}</table>"
    )
    for title, key in (("Best documents", "best"), ("Worst documents", "worst")):
        shown = [[d["perplexity"], d["tokens"]] for d in lm[key]]
        parts.append(f"<h2>{title} (per-document perplexity)</h2>")
        parts.append(
            _rows_with_inputs(["perplexity", "tokens"], shown, [texts[d["index"]] for d in lm[key]])
        )
    if lm.get("samples"):
        parts.append("<h2>Samples from the recipe's prompts</h2>")
        parts += [
            f'<div class="tok" style="border:1px solid #ddd;padding:.5em;margin:.4em 0">'
            f"{esc(s)}</div>"
            for s in lm["samples"]
        ]
    return parts


def render(doc: dict[str, Any], folder: Path, inputs: list[Any], title: str) -> str:
    """The page as a string."""
    body = doc.get(doc["kind"], {})
    count = body.get("records", body.get("documents", 0))
    where = doc["records_from"]
    where = f"the run's {where} split" if where in ("train", "val", "test") else where
    scored = f", scored in {doc['precision']}" if doc.get("precision") else ""
    parts = [f"<h1>{esc(title)}</h1>", f"<p>{count:,} records: {esc(where)}{esc(scored)}</p>"]
    parts += [f'<div class="warn">{esc(n)}</div>' for n in doc.get("notes", [])]
    if "classification" in doc:
        parts += _classification(doc["classification"], inputs)
    elif "regression" in doc:
        parts += _regression(doc["regression"], inputs)
    elif "language" in doc:
        parts += _language(doc["language"], inputs)
    elif "multilabel" in doc:
        ml = doc["multilabel"]
        rows = [
            [r["class"], r["precision"], r["recall"], r["f1"], r["support"]]
            for r in ml["per_class"]
        ]
        parts += [
            "<h2>Metrics</h2>",
            _metrics_table(ml["metrics"]),
            "<h2>Per label</h2>",
            table(["label", "precision", "recall", "F1", "support"], rows),
        ]
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
    inputs = record_inputs(evalset.records)
    if doc["kind"] == "language":
        inputs = [t for t in inputs if t]
    title = f"plait eval: {doc.get('checkpoint_config') or 'run'} on {doc['records_from']}"
    path = folder / REPORT
    path.write_text(render(doc, folder, inputs, title), "utf-8")
    return path
