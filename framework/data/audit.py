"""The data report: rows in and out of every step, with examples of what each removed or
changed; saved as ``data_report.json`` and printed as a rich table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from framework.records import ROW, TEXT, arrow_column, column

EXAMPLES = 3
"""Examples kept per step of what it removed and of what it changed."""
SHOWN = 160
"""Characters of each example kept in the report."""


def shorten(text: Any) -> str:
    """``text`` cut to the report's example length."""
    s = str(text)
    return s if len(s) <= SHOWN else s[: SHOWN - 1] + "…"


@dataclass
class StepRecord:
    """What one step did."""

    stage: str
    """``source``, ``curate``, ``clean``, ``labels``, ``split``, ``balance``, ``augment`` or
    ``tokenize``."""
    name: str
    """The step's name in the recipe."""
    rows_in: int
    rows_out: int
    changed: int = 0
    """Records whose text the step rewrote."""
    seconds: float = 0.0
    removed_examples: list[str] = field(default_factory=list)
    changed_examples: list[dict[str, str]] = field(default_factory=list)
    note: str = ""
    """Anything else worth knowing (overlap found, weights computed)."""


@dataclass
class DataReport:
    """The audit of one data stage."""

    steps: list[StepRecord] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    """Records per split after balancing (-1: streamed, not counted)."""
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    """Records per class name, per split."""
    fingerprint: str = ""
    """Hash of the data configuration and the source files; names the cache entry."""
    cache: str = "off"
    """``hit``, ``miss`` or ``off``."""
    lineage: ClassVar[Any] = None
    """The :class:`framework.data.lineage.Lineage` every :meth:`diff` also writes to (set on
    the report of a data stage that records it; not saved with the report)."""

    def add(self, step: StepRecord) -> None:
        """Append a record."""
        self.steps.append(step)

    def diff(
        self,
        stage: str,
        name: str,
        before: Any,
        after: Any,
        seconds: float,
        settings: str = "",
        duplicates: Any = None,
    ) -> StepRecord:
        """Record a step from the data before and after it (rows matched by ``_row``); with a
        lineage, each record it removed or changed too (``settings``: the step's, for the
        reason; ``duplicates``: removed and kept positions, from a dedupe)."""
        rec = StepRecord(stage, name, len(before), len(after), seconds=round(seconds, 3))
        if ROW in before.column_names and ROW in after.column_names:
            import numpy as np

            b_rows = arrow_column(before, ROW).to_numpy()
            a_rows = arrow_column(after, ROW).to_numpy()
            gone = np.isin(b_rows, a_rows, invert=True)
            if self.lineage is not None:
                self.lineage.step(stage, name, before, after, b_rows, gone, settings, duplicates)
            has_text = TEXT in before.column_names and TEXT in after.column_names
            first = np.flatnonzero(gone)[:EXAMPLES].tolist()
            if has_text:
                rec.removed_examples = [shorten(before[i][TEXT]) for i in first]
            else:
                rec.removed_examples = [f"record {i}" for i in first]
            if has_text:
                rec.changed, rec.changed_examples = _changes(
                    before, after, b_rows.tolist(), a_rows.tolist()
                )
        self.add(rec)
        return rec

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)

    def save(self, path: str | Path) -> None:
        """Write ``data_report.json``."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: str | Path) -> DataReport:
        """Read a report written by :meth:`save`."""
        d = json.loads(Path(path).read_text("utf-8"))
        d["steps"] = [StepRecord(**s) for s in d.get("steps", [])]
        return cls(**d)

    def print(self, console: Any = None) -> None:
        """The report as rich tables: steps with counts, then examples, then splits."""
        from rich.console import Console
        from rich.table import Table

        console = console or Console()
        steps = Table(title=f"data report (cache: {self.cache})", title_justify="left")
        widest = max((len(s.name) for s in self.steps), default=4)
        wide = console.width >= 110  # notes get their own column, else a list below
        steps.add_column("stage", no_wrap=True)
        steps.add_column("step", min_width=min(widest, 24), no_wrap=True)
        for col in ("rows in", "rows out", "removed", "changed", "s"):
            steps.add_column(col, justify="right", no_wrap=True)
        if wide:
            steps.add_column("note", overflow="fold")
        for s in self.steps:
            removed = f"{s.rows_in - s.rows_out:,}" if s.rows_in > s.rows_out else ""
            changed = f"{s.changed:,}" if s.changed else ""
            counts = [f"{s.rows_in:,}", f"{s.rows_out:,}", removed, changed, f"{s.seconds:.2f}"]
            steps.add_row(s.stage, s.name, *counts, *([s.note] if wide else []))
        console.print(steps)
        if not wide:
            for s in self.steps:
                if s.note:
                    console.print(f"  {s.name}: {s.note}")
        shown = [s for s in self.steps if s.removed_examples or s.changed_examples]
        if shown:
            ex = Table(title="examples", title_justify="left", show_lines=True)
            ex.add_column("step")
            ex.add_column("what")
            ex.add_column("text", overflow="fold")
            for s in shown:
                for t in s.removed_examples:
                    ex.add_row(s.name, "removed", t)
                for c in s.changed_examples:
                    ex.add_row(s.name, "changed", f"{c['before']}\n→ {c['after']}")
            console.print(ex)
        sizes = Table(title="splits", title_justify="left")
        sizes.add_column("split")
        sizes.add_column("records", justify="right")
        for name, n in self.splits.items():
            sizes.add_row(name, f"{n:,}" if n >= 0 else "streamed")
        console.print(sizes)
        if self.labels:
            classes = Table(title="classes", title_justify="left")
            classes.add_column("class")
            names = list(self.labels)
            for name in names:
                classes.add_column(name, justify="right")
            all_classes = list(dict.fromkeys(c for d in self.labels.values() for c in d))
            for c in all_classes[:50]:
                classes.add_row(c, *(f"{self.labels[n].get(c, 0):,}" for n in names))
            console.print(classes)


def _changes(
    before: Any, after: Any, b_rows: list[int], a_rows: list[int]
) -> tuple[int, list[dict[str, str]]]:
    if b_rows == a_rows:
        pairs = zip(column(before, TEXT), column(after, TEXT))
    else:
        pos = {r: i for i, r in enumerate(b_rows)}
        old = column(before, TEXT)
        pairs = ((old[pos[r]], t) for r, t in zip(a_rows, column(after, TEXT)))
    count, examples = 0, []
    for b, a in pairs:
        if b != a:
            count += 1
            if len(examples) < EXAMPLES:
                examples.append({"before": shorten(b), "after": shorten(a)})
    return count, examples
