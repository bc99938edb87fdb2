"""What every target's evaluation shares: the model's outputs on records, the recipe's
metrics, and ``predictions.csv``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from framework.evaluate.records import prepared, tokenized
from framework.rundir import PREDICTIONS


def score(m: Any, ds: Any, batch_size: int, split: str | None = None) -> tuple[Any, Any]:
    """(outputs, the prepared torch dataset) of the model on the records ``ds``; ``split``:
    the run's split they are, whose outputs ``m.outputs`` may already hold."""
    from framework.evaluate.inference import predict_records

    ds = tokenized(ds, m.tokenizer, False, m.info.max_length)
    data = prepared(m.task, ds, m.tokenizer, m.info)
    known = m.outputs.get(split) if split is not None else None
    if known is not None and len(known.targets) == len(data):
        m.reused.append(split)
        return known, data
    return predict_records(m.model, m.task, data, batch_size, m.precision), data


def score_texts(m: Any, texts: list[str], batch_size: int, blank_label: Any) -> Any:
    """The model's outputs on unlabelled ``texts`` (``blank_label`` stands for their label)."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": texts, "label": [blank_label] * len(texts)})
    return score(m, ds, batch_size)[0]


def recipe_metrics(m: Any, registry: Any) -> dict[str, Any]:
    """The recipe's metric nodes by key (the task's defaults when it names none) that log
    one number: the report's own tables show the per-class and matrix ones."""
    from framework.kinds import NAME_KEY

    nodes = m.cfg.get("metric") or {n: {NAME_KEY: n} for n in m.task.default_metrics}
    return {key: node for key, node in nodes.items()
            if registry.contract("metric", node).logs == "number"}  # fmt: skip


def write_predictions(out: Path, inputs: list[Any], rows: list[dict[str, Any]]) -> None:
    """``predictions.csv``: one row per record, in order, its input (text) first."""
    if not rows:
        return
    text = bool(inputs) and isinstance(inputs[0], str)
    header = ["index", *(["text"] if text else []), *rows[0]]
    with open(out / PREDICTIONS, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, row in enumerate(rows):
            w.writerow(
                [
                    i,
                    *([inputs[i]] if text else []),
                    *[f"{v:.6g}" if isinstance(v, float) else v for v in row.values()],
                ]
            )
