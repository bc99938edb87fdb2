"""The EDA charts, drawn with matplotlib into PNG files of the ``eda/`` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.eda.analyse import Series

UNITS = ("chars", "words", "tokens")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> str:
    """Lay out, write and close a figure; its file name."""
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def draw(report: dict[str, Any], series: Series, folder: Path, max_length: int) -> dict[str, str]:
    """Every chart the report has data for; returns {chart title: file name}."""
    folder.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    out: dict[str, str] = {}
    if series.lengths:
        out["Length distributions"] = _lengths(plt, series, folder, report, max_length)
    if report.get("overall", {}).get("labels"):
        out["Labels per split"] = _labels(plt, report, folder)
    train = report["splits"].get("train", {})
    for key, title in (("top_tokens", "Top tokens (train)"), ("top_words", "Top words (train)")):
        if train.get(key):
            out[title] = _bars(plt, train[key], title, folder / f"{key}.png")
    for name, (values, lengths) in series.numeric.items():
        if values:
            out[f"{name} against text length"] = _scatter(plt, name, values, lengths, folder)
    if series.images:
        out["Training images per class"] = _samples(plt, series, folder)
    return out


def _lengths(plt: Any, series: Series, folder: Path, report: dict, max_length: int) -> str:
    units = [u for u in UNITS if any(u in s for s in series.lengths.values())]
    fig, axes = plt.subplots(1, len(units), figsize=(4.2 * len(units), 3.2), squeeze=False)
    for ax, unit in zip(axes[0], units):
        for split, lengths in series.lengths.items():
            values = lengths.get(unit)
            if values:
                ax.hist(values, bins=40, histtype="step", density=True, label=split, lw=1.4)
        ax.set_xlabel(unit)
        ax.set_ylabel("share of texts")
        if unit == "tokens" and any("truncated" in s for s in report["splits"].values()):
            ax.axvline(max_length, color="red", ls="--", lw=1, label="max_length")
        ax.legend(fontsize=7)
    fig.suptitle("text length", fontsize=10)
    return _save(plt, fig, folder / "lengths.png")


def _labels(plt: Any, report: dict, folder: Path) -> str:
    import numpy as np

    names = list(report["overall"]["labels"])
    splits = [s for s, e in report["splits"].items() if e.get("labels")]
    x = np.arange(len(names))
    width = 0.8 / max(1, len(splits))
    fig, ax = plt.subplots(figsize=(max(5, 0.45 * len(names) + 2), 3.4))
    for k, split in enumerate(splits):
        counts = [report["splits"][split]["labels"][n] for n in names]
        ax.bar(x + k * width, counts, width, label=split)
    ax.set_xticks(x + width * (len(splits) - 1) / 2)
    ax.set_xticklabels(names, rotation=45 if len(names) > 6 else 0, ha="right", fontsize=7)
    ax.set_ylabel("records")
    ax.legend(fontsize=7)
    ax.set_title("labels per split", fontsize=10)
    return _save(plt, fig, folder / "labels.png")


def _bars(plt: Any, pairs: list[list[Any]], title: str, path: Path) -> str:
    names = [str(p[0]) for p in pairs][::-1]
    counts = [p[1] for p in pairs][::-1]
    fig, ax = plt.subplots(figsize=(4.8, 0.22 * len(names) + 1.2))
    ax.barh(range(len(names)), counts, color="#4c72b0")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("occurrences")
    ax.set_title(title, fontsize=10)
    return _save(plt, fig, path)


def _scatter(plt: Any, name: str, values: list[float], lengths: list[int], folder: Path) -> str:
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    ax.scatter(lengths, values, s=3, alpha=0.3)
    ax.set_xlabel("text length (chars)")
    ax.set_ylabel(name)
    ax.set_title(f"{name} against text length", fontsize=10)
    return _save(
        plt, fig, folder / f"numeric_{''.join(c if c.isalnum() else '_' for c in name)}.png"
    )


def _samples(plt: Any, series: Series, folder: Path) -> str:
    classes = list(series.images)
    cols = max(len(v) for v in series.images.values())
    fig, axes = plt.subplots(
        len(classes), cols, figsize=(1.0 * cols + 1.2, 1.0 * len(classes)), squeeze=False
    )
    for r, name in enumerate(classes):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(series.images[name]):
                img = series.images[name][c]
                gray = img.shape[2] == 1
                ax.imshow(img[:, :, 0] if gray else img, cmap="gray" if gray else None,
                          vmin=0, vmax=255)  # fmt: skip
            if c == 0:
                ax.set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    return _save(plt, fig, folder / "samples.png")
