"""One self-contained HTML page of the analysis: tables, warnings and the charts embedded as
base64 PNG (no external file, script or font), readable offline and attachable anywhere."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; }
td.text { max-width: 700px; overflow-wrap: anywhere; }
.warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: .4em .8em; margin: .3em 0; }
figure { display: inline-block; margin: .5em 1em .5em 0; }
figcaption { font-size: .8em; color: #555; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def esc(value: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(value))


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return esc(v)


def table(header: list[str], rows: list[list[Any]], text_cols: tuple[int, ...] = ()) -> str:
    """An HTML table; cells in ``text_cols`` are left-aligned free text."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{esc(c)}</td>' if i in text_cols else f"<td>{_num(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _splits_table(report: dict[str, Any]) -> str:
    rows = []
    for name, s in report["splits"].items():
        dup = s.get("duplicates", {})
        near = dup.get("near", {}).get("near", "")
        cut = s.get("truncated", {})
        oov = s.get("oov", {})
        rows.append([
            name, s.get("rows", 0), dup.get("exact", ""), near,
            s.get("vocabulary", {}).get("words", ""), s.get("vocabulary", {}).get("tokens", ""),
            f"{cut['share']:.1%}" if cut else "", f"{oov['tokens']:.1%}" if oov else "",
            s.get("outliers", {}).get("count", ""),
        ])  # fmt: skip
    header = ["split", "rows", "exact dup.", "near dup.", "words", "tokens", "truncated",
              "OOV (word occurrences)", "length outliers"]  # fmt: skip
    return table(header, rows)


def _lengths_table(report: dict[str, Any]) -> str:
    rows = []
    for name, s in [*report["splits"].items(), ("all", report.get("overall", {}))]:
        for unit, d in s.get("length", {}).items():
            if d:
                keys = ["mean", "min", "p5", "p25", "p50", "p75", "p95", "p99", "max"]
                rows.append([name, unit, *[d[k] for k in keys]])
    header = ["split", "unit", "mean", "min", "p5", "p25", "median", "p75", "p95", "p99", "max"]
    return table(header, rows)


def _findings(report: dict[str, Any]) -> str:
    rows = []
    for name, s in report["splits"].items():
        dup = s.get("duplicates", {})
        for ex in dup.get("examples", []):
            rows.append([name, "exact duplicate", ex])
        for ex in dup.get("near", {}).get("examples", []):
            rows.append([name, "near duplicate", ex])
        for ex in s.get("outliers", {}).get("examples", []):
            rows.append([name, "length outlier", ex])
    for pair, leak in report.get("leakage", {}).items():
        for ex in leak["examples"]:
            rows.append([pair, "leakage", ex])
    return table(["where", "what", "example"], rows, text_cols=(2,)) if rows else "<p>none</p>"


def image(path: Path, caption: str) -> str:
    """A PNG file embedded as a captioned figure (base64: the page stays one file)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def render(report: dict[str, Any], charts: dict[str, str], folder: Path, title: str) -> str:
    """The page as a string."""
    parts = [f"<h1>{esc(title)}</h1>"]
    warnings = report.get("warnings", [])
    parts.append("<h2>Warnings</h2>")
    parts += [f'<div class="warn">{esc(w)}</div>' for w in warnings] or ["<p>none</p>"]
    if report.get("data_stage"):
        rows = [[s["stage"], s["step"], s["rows_in"], s["rows_out"]] for s in report["data_stage"]]
        parts += ["<h2>Data stage</h2>", table(["stage", "step", "rows in", "rows out"], rows)]
    if report["kind"] == "text":
        parts += ["<h2>Splits</h2>", _splits_table(report)]
        parts += ["<h2>Lengths</h2>", _lengths_table(report)]
        leak = report.get("leakage", {})
        rows = [[pair, v["exact"], v["near"]] for pair, v in leak.items()]
        parts += ["<h2>Leakage between splits</h2>", table(["splits", "exact", "near"], rows)]
        parts += ["<h2>Examples</h2>", _findings(report)]
        numeric = [
            [split, col, *[d.get(k, "") for k in ("count", "mean", "var", "min", "max")]]
            for split, s in report["splits"].items()
            for col, d in s.get("numeric", {}).items()
        ]
        if numeric:
            header = ["split", "column", "count", "mean", "variance", "min", "max"]
            parts += ["<h2>Numeric columns</h2>", table(header, numeric)]
        missing = [
            [split, col, n] for split, s in report["splits"].items()
            for col, n in s.get("missing", {}).items()
        ]  # fmt: skip
        parts += ["<h2>Missing values</h2>", table(["split", "column", "missing"], missing)]
    else:
        rows = [
            [name, s["rows"], ", ".join(f"{k} ({v:,})" for k, v in s["sizes"].items()),
             ", ".join(f"{k} ({v:,})" for k, v in s["channels"].items()),
             " / ".join(f"{m:.4f}" for m in s["mean"]), " / ".join(f"{d:.4f}" for d in s["std"])]
            for name, s in report["splits"].items()
        ]  # fmt: skip
        header = ["split", "rows", "sizes", "channels", "mean per channel", "std per channel"]
        parts += ["<h2>Images</h2>", table(header, rows, text_cols=(2, 3))]
        norm = report.get("normalization")
        if norm:
            parts.append(
                f"<p>Normalization from the training split (on [0, 1] pixels): mean "
                f"{esc(norm['mean'])}, std {esc(norm['std'])}; image_classification applies "
                "these itself.</p>"
            )
    labels = report.get("overall", {}).get("labels")
    if labels:
        splits = [s for s, e in report["splits"].items() if e.get("labels")]
        rows = [[c, *[report["splits"][s]["labels"][c] for s in splits]] for c in labels]
        parts += ["<h2>Labels</h2>", table(["class", *splits], rows)]
        imb = report.get("imbalance", {})
        if imb.get("classes", 0) >= 2:
            parts.append(
                f"<p>train: largest / smallest class {imb['ratio']:.1f}x, normalized entropy "
                f"{imb['entropy']:.3f}{' (imbalanced)' if imb['imbalanced'] else ''}</p>"
            )
    if charts:
        parts.append("<h2>Charts</h2>")
        parts += [image(folder / name, caption) for caption, name in charts.items()]
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )
