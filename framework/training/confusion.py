"""Artifacts of metrics that declare ``logs="artifact"``: ``<name>_<split>.json`` and, for a
class-by-class matrix, a heat map ``<name>_<split>.png`` (rows: true class, columns:
predicted); ``confusion_matrix_<split>`` for the built-in confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_confusion(
    matrix: Any,
    labels: list[str],
    run_dir: str | Path,
    split: str,
    name: str = "confusion_matrix",
) -> Path:
    """Write metric ``name``'s value for ``split``: a (C, C) matrix (with its heat map) or,
    multi-label, a (C, 2, 2) array; any other shape as its values. Returns the JSON path."""
    from framework.rundir import RunDir

    run = RunDir(run_dir)
    values = matrix.tolist()
    names = [labels[i] if i < len(labels) else str(i) for i in range(len(values))]
    if matrix.ndim not in (2, 3) or len(values) != len(labels or values):
        doc: dict[str, Any] = {"split": split, "values": values}
    elif matrix.ndim == 3:
        doc = {
            "split": split,
            "layout": "per label: [[true negatives, false positives], "
            "[false negatives, true positives]]",
            "labels": {name: m for name, m in zip(names, values)},
        }
    else:
        doc = {"split": split, "rows": "true class", "columns": "predicted class",
               "labels": names, "matrix": values}  # fmt: skip
    path = run.write_json(run.confusion(split, "json", name).name, doc)
    if "matrix" in doc:
        _heat_map(matrix, names, run.confusion(split, "png", name), split)
    return path


def _heat_map(matrix: Any, names: list[str], out: Path, split: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    size = min(4 + 0.35 * n, 16)
    fig, ax = plt.subplots(figsize=(size, size))
    rows = matrix.sum(1, keepdims=True).clip(min=1)
    ax.imshow(matrix / rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), names, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix ({split})\ncolour: share of the true class", fontsize=10)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                share = matrix[i, j] / rows[i, 0]
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center",
                        color="white" if share > 0.5 else "black", fontsize=8)  # fmt: skip
    fig.tight_layout()
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out)
