"""The evaluation's headline numbers in the terminal: each metric with its interval, the
calibration, the notes and where the report is (``plait eval`` and ``eval: true``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_summary(doc: dict[str, Any], out: Path) -> None:
    """The headline numbers with their intervals, and where the report is."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    body = doc.get(doc["kind"], {})
    table = Table(title=f"eval: {doc['records_from']} ({doc['kind']})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% interval", justify="right")
    for name, iv in body.get("metrics", {}).items():
        table.add_row(name, f"{iv['value']:.4f}", f"[{iv['low']:.4f}, {iv['high']:.4f}]")
    console = Console(markup=False)  # record sources and paths as they are
    console.print(table)
    cal = body.get("calibration")
    if cal and "after" in cal:
        console.print(
            f"ECE {cal['before']['ece']:.4f} -> {cal['after']['ece']:.4f} with "
            f"temperature {cal['temperature']:.3f} (fitted on val)"
        )
    for note in doc.get("notes", []):
        console.print(Text("note: ", style="yellow") + Text(note))
    secs = doc.get("seconds", {})
    reused = doc.get("outputs_from_training")
    if reused:
        console.print(f"model outputs on {' and '.join(reused)}: those of training's own "
                      "passes with these weights, not computed again")  # fmt: skip
    console.print(
        f"model {secs.get('model', 0):.1f} s ({doc.get('precision', 'float32')}), "
        f"total {secs.get('total', 0):.1f} s; "
        f"report: {out / 'report.html'}"
    )
