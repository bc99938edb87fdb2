"""The evaluation charts, drawn with matplotlib into PNG files of the ``eval/`` folder; each
function returns the file's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> str:
    plt = _pyplot()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def confusion(cm: np.ndarray, labels: list[str], folder: Path, normalized: bool) -> str:
    """The confusion matrix as counts or as shares of each true class; readable at 40+
    classes (the figure grows with the classes, numbers only while they fit)."""
    plt = _pyplot()
    n = len(labels)
    size = min(3.5 + 0.3 * n, 26)  # about 0.3 in per class: 8 pt names stay apart
    fig, ax = plt.subplots(figsize=(size + 1, size))
    rows = cm.sum(1, keepdims=True).clip(min=1)
    shown = cm / rows if normalized else cm
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalized else max(cm.max(), 1))
    fig.colorbar(im, ax=ax, fraction=0.04)
    font = 9 if n <= 12 else 8
    short = [s if len(s) <= 18 else s[:17] + "…" for s in labels]
    ax.set_xticks(range(n), short, rotation=90, fontsize=font)
    ax.set_yticks(range(n), short, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("share of each true class" if normalized else "records")
    if n <= 15:
        for i in range(n):
            for j in range(n):
                v = shown[i, j]
                text = f"{v:.2f}" if normalized else str(int(v))
                dark = (cm[i, j] / rows[i, 0]) > 0.5
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    name = "confusion_normalized.png" if normalized else "confusion_counts.png"
    return _save(fig, folder / name)


def class_curves(curves: dict[str, Any], folder: Path) -> str:
    """ROC and precision-recall curves, one line per class (the legend names the ten with
    the lowest area when there are more)."""
    plt = _pyplot()
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(11, 4.6))
    worst_roc = sorted(curves["roc"], key=lambda c: _area(c["auroc"]))[:10]
    by_ap = sorted(curves["pr"], key=lambda c: _area(c["average_precision"]))
    worst_pr = {c["class"] for c in by_ap[:10]}
    named = {c["class"] for c in worst_roc}
    for c in curves["roc"]:
        label = f"{c['class'][:20]} ({_area(c['auroc']):.2f})" if c["class"] in named else None
        roc.plot(c["fpr"], c["tpr"], lw=1, alpha=0.8, label=label)
    for c in curves["pr"]:
        label = (
            f"{c['class'][:20]} ({_area(c['average_precision']):.2f})"
            if c["class"] in worst_pr
            else None
        )
        pr.plot(c["recall"], c["precision"], lw=1, alpha=0.8, label=label)
    roc.plot([0, 1], [0, 1], "k:", lw=0.8)
    roc.set(
        xlabel="false positive rate", ylabel="true positive rate", title="ROC, one vs rest (AUROC)"
    )
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall (average precision)")
    for ax in (roc, pr):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right" if ax is roc else "lower left")
    return _save(fig, folder / "roc_pr.png")


def _area(value: float | None) -> float:
    """An area under a curve, NaN where the class had no records."""
    return float("nan") if value is None else value


def reliability(cal: dict[str, Any], folder: Path) -> str:
    """Accuracy against confidence per bin, before (and after) temperature scaling."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect calibration")
    for key, style in (("before", "o-"), ("after", "s--")):
        r = cal.get(key)
        if not r:
            continue
        keep = [i for i, n in enumerate(r["counts"]) if n]
        what = "model" if key == "before" else f"temperature {cal['temperature']:.2f}"
        ax.plot(
            [r["confidence"][i] for i in keep],
            [r["accuracy"][i] for i in keep],
            style,
            ms=4,
            label=f"{what}: ECE {r['ece']:.3f}",
        )
    ax.set(
        xlabel="confidence (top class)",
        ylabel="accuracy",
        xlim=(0, 1),
        ylim=(0, 1),
        title="reliability",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, folder / "reliability.png")


def regression(pred: np.ndarray, true: np.ndarray, folder: Path) -> str:
    """Predicted against true, and the residuals against the prediction."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    a.scatter(true, pred, s=6, alpha=0.4)
    lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    a.plot([lo, hi], [lo, hi], "k:", lw=0.8)
    a.set(xlabel="true", ylabel="predicted", title="predicted vs true")
    b.scatter(pred, pred - true, s=6, alpha=0.4)
    b.axhline(0, color="k", lw=0.8, ls=":")
    b.set(xlabel="predicted", ylabel="residual (predicted - true)", title="residuals")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    return _save(fig, folder / "regression.png")


def token_loss(hist: dict[str, Any], folder: Path) -> str:
    """Histogram of per-token loss."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    edges = np.array(hist["edges"])
    ax.bar(edges[:-1], hist["counts"], width=np.diff(edges), align="edge", alpha=0.8)
    ax.axvline(hist["median"], color="k", ls=":", label=f"median {hist['median']:.2f}")
    ax.set(xlabel="loss of a token (nats)", ylabel="tokens", title="per-token loss")
    ax.legend()
    return _save(fig, folder / "token_loss.png")


def document_perplexity(values: list[float], folder: Path) -> str:
    """Histogram of per-document perplexity (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    v = np.array(values)
    v = v[np.isfinite(v) & (v > 0)]
    bins = np.logspace(np.log10(v.min()), np.log10(v.max() + 1e-9), 30) if len(v) else 10
    ax.hist(v, bins=bins, alpha=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="perplexity of a document", ylabel="documents", title="per-document perplexity")
    return _save(fig, folder / "document_perplexity.png")


def thumbnail(image: np.ndarray) -> bytes:
    """A small PNG of one image (uint8 (H, W), (H, W, C) or (C, H, W)), for the report."""
    import io

    from PIL import Image

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    img = Image.fromarray(a.astype(np.uint8))
    img = img.resize((max(56, img.width), max(56, img.height * max(56, img.width) // img.width)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
