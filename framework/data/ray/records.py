"""The per-record steps (``TextMap``, ``RowFilter``) of one stretch of the recipe, fused into
one ``map_batches`` call; each block writes what each step did (counts and the first
examples by record id) beside the shards, and the driver merges them into the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.data.audit import EXAMPLES, StepRecord, shorten
from framework.data.ray.context import read_jsons, write_json
from framework.data.steps import TextMap
from framework.records import ROW, TEXT


class PerRecord:
    """The batch function: the steps in order over one block (a ``pyarrow.Table``)."""

    def __init__(self, steps: list[tuple[str, Any]], stats: Path) -> None:
        self.steps, self.stats = steps, stats

    def __call__(self, table: Any) -> Any:
        import pyarrow as pa

        batch = table.to_pydict()
        rows = batch[ROW]
        tag = min(rows) if rows else -1
        said = []
        for _name, step in self.steps:
            n_in = len(batch[ROW])
            before = batch.get(TEXT)
            removed: list[list[Any]] = []
            if isinstance(step, TextMap):
                batch.update(step.batch(batch))
            else:
                keep = step.keep(batch)
                removed = [[r, shorten(t)] for r, t, ok in zip(batch[ROW], before or [], keep)
                           if not ok][:EXAMPLES]  # fmt: skip
                batch = {k: [v for v, ok in zip(vals, keep) if ok] for k, vals in batch.items()}
            changed: list[list[Any]] = []
            count = 0
            if before is not None and isinstance(step, TextMap):
                for r, b, a in zip(batch[ROW], before, batch[TEXT]):
                    if b != a:
                        count += 1
                        if len(changed) < EXAMPLES:
                            changed.append([r, shorten(b), shorten(a)])
            said.append({"in": n_in, "out": len(batch[ROW]), "changed": count,
                         "removed": removed, "changed_examples": changed})  # fmt: skip
        write_json(self.stats / f"{tag:012d}.json", said)
        return pa.Table.from_pydict(batch, schema=table.schema)


def merged(stats: Path, steps: list[tuple[str, str]], seconds: float) -> list[StepRecord]:
    """One report record per step from every block's statistics, examples by record id."""
    blocks = read_jsons(stats)
    out = []
    for k, (kind, name) in enumerate(steps):
        mine = [b[k] for b in blocks]
        removed = sorted((r for b in mine for r in b["removed"]), key=lambda x: x[0])
        changed = sorted((c for b in mine for c in b["changed_examples"]), key=lambda x: x[0])
        rec = StepRecord(
            kind, name, sum(b["in"] for b in mine), sum(b["out"] for b in mine),
            changed=sum(b["changed"] for b in mine), seconds=round(seconds / len(steps), 3),
            removed_examples=[t for _r, t in removed[:EXAMPLES]],
            changed_examples=[{"before": b, "after": a} for _r, b, a in changed[:EXAMPLES]],
        )  # fmt: skip
        out.append(rec)
    return out
