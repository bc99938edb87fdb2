"""Run the analysis on a data stage and write ``eda/``: ``eda.json``, the PNG charts and
``report.html``; print a rich summary."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from framework.errors import PlaitError


def run_eda(tables: Any, task: Any, data_cfg: Any, folder: Path, title: str) -> dict[str, Any]:
    """Analyse ``tables`` (the data stage's output), write the folder; the report."""
    from framework.eda.analyse import analyse
    from framework.eda.charts import draw
    from framework.eda.html import render

    if not tables.splits:
        raise PlaitError("eda: the data stage produced no splits; check data.split")
    t0 = time.perf_counter()
    report, series = analyse(
        tables.splits,
        tables.tokenizer,
        tables.labels,
        data_cfg.max_length,
        task.packed,
        tables.class_weights,
        tables.report.steps,
    )
    folder.mkdir(parents=True, exist_ok=True)
    report["charts"] = draw(report, series, folder, data_cfg.max_length)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    (folder / "eda.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    (folder / "report.html").write_text(render(report, report["charts"], folder, title), "utf-8")
    return report


def print_summary(report: dict[str, Any], folder: Path, console: Any = None) -> None:
    """The analysis as rich tables and warnings."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="exploratory analysis", title_justify="left")
    if report["kind"] == "text":
        cols = ["split", "rows", "exact dup.", "near dup.", "median chars", "median tokens",
                "truncated", "words", "OOV"]  # fmt: skip
        for c in cols:
            table.add_column(c, justify="left" if c == "split" else "right")
        for name, s in report["splits"].items():
            length = s.get("length", {})
            cut, oov = s.get("truncated"), s.get("oov")
            table.add_row(
                name, f"{s['rows']:,}", f"{s['duplicates']['exact']:,}",
                f"{s['duplicates'].get('near', {}).get('near', 0):,}",
                f"{length.get('chars', {}).get('p50', 0):.0f}",
                f"{length['tokens']['p50']:.0f}" if length.get("tokens") else "",
                f"{cut['share']:.1%}" if cut else "", f"{s['vocabulary']['words']:,}",
                f"{oov['tokens']:.1%}" if oov else "",
            )  # fmt: skip
    else:
        for c in ("split", "rows", "sizes", "channels", "mean", "std"):
            table.add_column(c)
        for name, s in report["splits"].items():
            table.add_row(
                name, f"{s['rows']:,}", ", ".join(s["sizes"]), ", ".join(s["channels"]),
                " ".join(f"{m:.3f}" for m in s["mean"]), " ".join(f"{d:.3f}" for d in s["std"]),
            )  # fmt: skip
    console.print(table)
    norm = report.get("normalization")
    if norm:
        console.print(
            f"normalization (train, [0, 1] pixels): mean {norm['mean']} std {norm['std']}"
        )
    imb = report.get("imbalance")
    if imb and imb.get("classes", 0) >= 2:
        console.print(
            f"classes (train): largest/smallest {imb['ratio']:.1f}x, normalized entropy "
            f"{imb['entropy']:.3f}"
        )
    from rich.markup import escape

    for w in report["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}", highlight=False)
    console.print(f"eda: {folder / 'report.html'} ({report['seconds']:.1f} s)")
