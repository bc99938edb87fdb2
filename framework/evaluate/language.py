"""Analysis of a causal language model on held-out documents: perplexity and bits per byte
with intervals (documents resampled), the per-token loss distribution, the contexts where the
model was most surprised, and the best and worst documents."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from framework.evaluate import stats
from framework.evaluate.inference import TokenLosses

SURPRISES = 12
"""Most surprising tokens shown, each in its context."""
BEFORE, AFTER = 24, 6
"""Context tokens shown before and after a surprising token."""
DOCUMENTS = 5
"""Best and worst documents listed."""
MIN_TOKENS = 16
"""Documents shorter than this are left out of the best/worst lists (too noisy)."""


def per_document(scored: TokenLosses, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """(loss sum, predicted tokens) of each document."""
    loss = np.bincount(scored.document, weights=scored.losses, minlength=n_docs)
    count = np.bincount(scored.document, minlength=n_docs)
    return loss, count


def surprises(scored: TokenLosses, tokenizer: Any, k: int = SURPRISES) -> list[dict[str, Any]]:
    """The k tokens with the highest loss, each with its context as (piece, loss) pairs
    (the context's losses colour the report); at most one per document region."""
    out: list[dict[str, Any]] = []
    taken: list[int] = []
    for t in np.argsort(-scored.losses):
        if len(out) == k:
            break
        pos = int(scored.position[t])
        if any(abs(pos - p) < BEFORE for p in taken):
            continue
        taken.append(pos)
        lo, hi = max(0, pos - BEFORE), min(len(scored.stream), pos + AFTER + 1)
        pieces = []
        for q in range(lo, hi):
            loss = float(scored.losses[q - 1]) if q >= 1 else 0.0
            pieces.append([tokenizer.decode([int(scored.stream[q])]), round(loss, 3)])
        out.append(
            {
                "token": tokenizer.decode([int(scored.stream[pos])]),
                "loss": float(scored.losses[t]),
                "document": int(scored.document[t]),
                "focus": pos - lo,
                "context": pieces,
            }
        )
    return out


def analyse(
    scored: TokenLosses,
    texts: list[str],
    tokenizer: Any,
    seed: int = 0,
    replicates: int = stats.REPLICATES,
) -> dict[str, Any]:
    """Every number of the language-model report (JSON-ready)."""
    loss, count = per_document(scored, len(texts))
    nbytes = np.array([len(t.encode("utf-8")) + 1 for t in texts], dtype=float)  # + end-of-text
    keep = count > 0
    ppl = stats.ratio_interval(loss[keep], count[keep], np.exp, replicates, seed)
    bpb = stats.ratio_interval(
        loss[keep] / math.log(2), nbytes[keep], replicates=replicates, seed=seed
    )
    doc_ppl = np.exp(loss / np.maximum(count, 1))
    ranked = [i for i in np.argsort(doc_ppl) if count[i] >= MIN_TOKENS]
    shown = min(DOCUMENTS, len(ranked) // 2)  # best and worst never list one document twice
    hist, edges = np.histogram(scored.losses, bins=40)

    def doc(i: int) -> dict[str, Any]:
        return {"index": int(i), "perplexity": float(doc_ppl[i]), "tokens": int(count[i])}

    return {
        "documents": len(texts),
        "tokens": len(scored.losses),
        "metrics": {
            "perplexity": ppl.to_dict(),
            "bits_per_byte": bpb.to_dict(),
            "loss": stats.mean_interval(scored.losses, replicates, seed).to_dict(),
        },
        "token_loss": {
            "counts": hist.tolist(),
            "edges": edges.tolist(),
            "median": float(np.median(scored.losses)),
        },
        "surprises": surprises(scored, tokenizer),
        "best": [doc(i) for i in ranked[:shown]],
        "worst": [doc(i) for i in ranked[::-1][:shown]],
        "per_document": [float(p) for p in doc_ppl],
    }
