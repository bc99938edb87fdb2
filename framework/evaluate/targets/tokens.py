"""Tokens (language models): perplexity, bits per byte and the mean token loss with
intervals, the most surprising contexts, the best and worst documents, samples from the
recipe's prompts; tokens and perplexity per text in ``plait predict``; paired perplexity in
``plait compare``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from framework.eda.html import esc
from framework.evaluate import charts
from framework.evaluate.analysis import Analysis
from framework.evaluate.records import EvalSet
from framework.evaluate.report import metrics_table, rows_with_inputs
from framework.evaluate.scoring import write_predictions
from framework.records import TEXT, column


def evaluate(
    m: Any, evalset: EvalSet, registry: Any, opts: Any, out: Path, files: dict[str, str]
) -> dict[str, Any]:
    """Score ``evalset``'s documents token by token (see :class:`Analysis`)."""
    from framework.evaluate import language
    from framework.evaluate.inference import token_losses

    texts = [t for t in column(evalset.records, TEXT) if t]
    docs = m.tokenizer.encode_batch(texts)
    scored = token_losses(
        m.model, docs, m.info.max_length, opts.batch_size, m.tokenizer.eos_id, m.precision
    )
    t0 = time.perf_counter()
    numbers = language.analyse(scored, texts, m.tokenizer, opts.seed, opts.replicates)
    numbers["samples"] = list(opts.samples)
    files["Per-token loss"] = charts.token_loss(numbers["token_loss"], out)
    files["Per-document perplexity"] = charts.document_perplexity(numbers["per_document"], out)
    loss, count = language.per_document(scored, len(texts))
    write_predictions(
        out,
        texts,
        [
            {"tokens": int(c), "loss_sum": float(lo), "perplexity": float(np.exp(lo / max(c, 1)))}
            for lo, c in zip(loss, count)
        ],
    )
    return {
        "language": numbers,
        "seconds": {"model": scored.seconds, "analysis": time.perf_counter() - t0},
    }


def predict(m: Any, texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    """Tokens and perplexity per text."""
    from framework.evaluate.inference import token_losses

    out = []
    for ids in m.tokenizer.encode_batch(texts):  # each on its own: no other text in its score
        scored = token_losses(
            m.model, [ids], m.info.max_length, batch_size, m.tokenizer.eos_id, m.precision
        )
        n = len(scored.losses)
        loss = float(scored.losses.sum())
        out.append({"tokens": n, "perplexity": float(np.exp(loss / max(n, 1)))})
    return out


def paired(a: list[dict[str, str]], b: list[dict[str, str]], idx: np.ndarray) -> dict[str, Any]:
    """Perplexity of b minus a over the resamples ``idx`` (documents)."""
    la = np.array([float(r["loss_sum"]) for r in a])
    lb = np.array([float(r["loss_sum"]) for r in b])
    n = np.array([float(r["tokens"]) for r in a])
    full = float(np.exp(lb.sum() / n.sum()) - np.exp(la.sum() / n.sum()))
    tokens = n[idx].sum(1)
    boot = np.exp(lb[idx].sum(1) / tokens) - np.exp(la[idx].sum(1) / tokens)
    return {"perplexity": (full, boot)}


def _context(s: dict[str, Any]) -> str:
    """Tokens of a context shaded by their loss; the surprising one outlined."""
    top = max((loss for _, loss in s["context"]), default=1.0) or 1.0
    spans = []
    for i, (piece, loss) in enumerate(s["context"]):
        alpha = min(1.0, loss / top)
        cls = ' class="focus"' if i == s["focus"] else ""
        spans.append(
            f'<span{cls} style="background: rgba(230,60,40,{alpha:.2f})" '
            f'title="loss {loss:.2f}">{esc(piece)}</span>'
        )
    return f'<div class="tok">{"".join(spans)}</div>'


def report(lm: dict[str, Any], texts: list[str]) -> list[str]:
    """The report's sections for a language model."""
    parts = ["<h2>Metrics</h2>", metrics_table(lm["metrics"])]
    parts.append(
        f"<p>{lm['documents']:,} documents, {lm['tokens']:,} predicted tokens; bits per byte "
        "divide the loss by the documents' UTF-8 bytes, so they compare across tokenizers.</p>"
    )
    parts.append(
        "<h2>Most surprising contexts</h2><p>Each token shaded by its loss; the "
        "outlined one is the surprise.</p>"
    )
    rows = [
        f"<tr><td>{s['loss']:.2f}</td><td>{s['document']}</td>"
        f"<td class=text>{_context(s)}</td></tr>"
        for s in lm["surprises"]
    ]
    parts.append(
        f"<table><tr><th>loss</th><th>document</th><th>context</th></tr>{''.join(rows)}</table>"
    )
    for title, key in (("Best documents", "best"), ("Worst documents", "worst")):
        shown = [[d["perplexity"], d["tokens"]] for d in lm[key]]
        parts.append(f"<h2>{title} (per-document perplexity)</h2>")
        parts.append(
            rows_with_inputs(["perplexity", "tokens"], shown, [texts[d["index"]] for d in lm[key]])
        )
    if lm.get("samples"):
        parts.append("<h2>Samples from the recipe's prompts</h2>")
        parts += [
            f'<div class="tok" style="border:1px solid #ddd;padding:.5em;margin:.4em 0">'
            f"{esc(s)}</div>"
            for s in lm["samples"]
        ]
    return parts


ANALYSIS = Analysis("language", evaluate, predict, report, paired, samples=True, empty_inputs=False)
"""Language models' analysis."""
