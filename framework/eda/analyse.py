"""The analysis: per split and overall statistics of the data stage's output, imbalance,
leakage between splits and warnings, as one JSON-ready dict (``eda.json``) plus the raw
series the charts are drawn from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framework.data.curate import dedupe_key
from framework.eda import text as tx
from framework.records import IMAGE, LABEL, ROW, SPLIT, TEXT, column, image_array

IDS = "input_ids"
WEIGHT = "_weight"
HIDDEN = {ROW, SPLIT, IDS, WEIGHT}
"""Columns the data stage adds for itself; not the user's data."""
NEAR_THRESHOLD = 0.8
"""Jaccard similarity of word 3-gram sets at which two texts are near duplicates (the
defaults of ``data/curate=[dedupe_minhash]``)."""
NEAR_CAP = 20_000
"""Texts per split compared for near duplicates (the first ones); exact duplicates and
every other statistic use all records."""
IMBALANCE_RATIO = 3.0
"""Largest over smallest class count from which the classes are called imbalanced."""
IMBALANCE_ENTROPY = 0.9
"""Normalized label entropy under which the classes are called imbalanced."""
TRUNCATION_WARN = 0.05
"""Share of truncated examples above which a warning suggests a longer ``data.max_length``."""


@dataclass
class Series:
    """Raw values the charts need (not written to ``eda.json``)."""

    lengths: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """split -> unit (chars, words, tokens) -> one length per record."""
    numeric: dict[str, tuple[list[float], list[int]]] = field(default_factory=dict)
    """column -> (values, character lengths) over all splits."""
    images: dict[str, list[Any]] = field(default_factory=dict)
    """class name -> a few uint8 (H, W, C) training images."""


def analyse(
    splits: dict[str, Any],
    tokenizer: Any,
    labels: list[str] | None,
    max_length: int,
    packed: bool,
    class_weights: list[float] | None = None,
    steps: list[Any] | None = None,
) -> tuple[dict[str, Any], Series]:
    """Everything ``eda.json`` holds, and the series behind the charts."""
    series = Series()
    report: dict[str, Any] = {"splits": {}, "warnings": []}
    if steps:
        report["data_stage"] = [
            {"stage": s.stage, "step": s.name, "rows_in": s.rows_in, "rows_out": s.rows_out}
            for s in steps
        ]
    empty = [n for n, ds in splits.items() if len(ds) == 0]
    for name in empty:
        report["warnings"].append(f"split '{name}' has no records")
    kind = "images" if any(IMAGE in ds.column_names for ds in splits.values()) else "text"
    report["kind"] = kind
    if kind == "images":
        _images(splits, labels, report, series)
    else:
        _texts(splits, tokenizer, labels, max_length, packed, report, series)
    _labels(splits, labels, class_weights, report)
    return report, series


# text -----------------------------------------------------------------------------------


def _user_columns(ds: Any) -> list[str]:
    return [c for c in ds.column_names if c not in HIDDEN]


def _texts(
    splits: dict[str, Any],
    tokenizer: Any,
    labels: list[str] | None,
    max_length: int,
    packed: bool,
    report: dict[str, Any],
    series: Series,
) -> None:
    texts = {n: [t or "" for t in column(ds, TEXT)] for n, ds in splits.items()}
    train_words: set[str] = set()
    overall_words: Counter[str] = Counter()
    overall_tokens: Counter[int] = Counter()
    keys_by_split: dict[str, list[str]] = {}
    for name, ds in splits.items():
        ts = texts[name]
        cols = {c: column(ds, c) for c in _user_columns(ds) if c != IMAGE}
        entry: dict[str, Any] = {"rows": len(ts), "missing": tx.missing_counts(cols)}
        keys = [dedupe_key(t) for t in ts]
        keys_by_split[name] = keys
        entry["duplicates"] = _exact_duplicates(keys, ts)
        chars = [len(t) for t in ts]
        words = [len(t.split()) for t in ts]
        lengths = {"chars": chars, "words": words}
        entry["length"] = {"chars": tx.distribution(chars), "words": tx.distribution(words)}
        if tokenizer is not None and ts:
            ids = _token_ids(ds, ts, tokenizer, packed)
            tokens = [len(x) for x in ids]
            lengths["tokens"] = tokens
            entry["length"]["tokens"] = tx.distribution(tokens)
            counts: Counter[int] = Counter()
            for x in ids:
                counts.update(x)
            overall_tokens.update(counts)
            entry["vocabulary"] = {"tokens": len(counts)}
            entry["top_tokens"] = [[_token(tokenizer, i), n] for i, n in counts.most_common(tx.TOP)]
            if not packed:
                cut = sum(n > max_length for n in tokens)
                entry["truncated"] = {
                    "max_length": max_length,
                    "count": cut,
                    "share": cut / len(tokens),
                }
        series.lengths[name] = lengths
        wc = tx.word_counts(ts)
        overall_words.update(wc)
        entry.setdefault("vocabulary", {})["words"] = len(wc)
        entry["top_words"] = tx.top(wc)
        if name == "train":
            train_words = set(wc)
        elif train_words and ts:
            entry["oov"] = tx.oov_rates(wc, train_words)
        entry["numeric"] = _numeric(ds, labels, chars, series)
        entry["outliers"] = tx.outliers(chars, ts)
        report["splits"][name] = entry
    all_texts = [t for ts in texts.values() for t in ts]
    all_keys = [k for ks in keys_by_split.values() for k in ks]
    overall: dict[str, Any] = {
        "rows": len(all_texts),
        "duplicates": _exact_duplicates(all_keys, all_texts),
        "vocabulary": {"words": len(overall_words), "tokens": len(overall_tokens)},
        "top_words": tx.top(overall_words),
        "length": {
            unit: tx.distribution([v for s in series.lengths.values() for v in s.get(unit, [])])
            for unit in ("chars", "words", "tokens")
        },
    }
    report["overall"] = overall
    near = _near_duplicates(texts, keys_by_split)
    for name, found in near["within"].items():
        report["splits"][name]["duplicates"]["near"] = found
    report["leakage"] = _leakage(texts, keys_by_split, near["across"])
    _text_warnings(report)


def _token_ids(ds: Any, texts: list[str], tokenizer: Any, packed: bool) -> list[list[int]]:
    """Each text's token ids, untruncated: packed tasks stored whole documents (plus the
    end-of-text id the stage appended), others are encoded again (their ids are cut)."""
    if packed and IDS in ds.column_names:
        eos = tokenizer.eos_id
        return [x[:-1] if x and eos is not None and x[-1] == eos else x for x in column(ds, IDS)]
    return tokenizer.encode_batch(texts)


def _token(tokenizer: Any, i: int) -> str:
    piece = tokenizer.id_to_token(i) if hasattr(tokenizer, "id_to_token") else None
    return piece if piece is not None else str(i)


def _exact_duplicates(keys: list[str], texts: list[str]) -> dict[str, Any]:
    """Records whose text (NFKC, whitespace collapsed) an earlier record already has."""
    seen: set[str] = set()
    extra: Counter[str] = Counter()
    first: dict[str, str] = {}
    for k, t in zip(keys, texts):
        if k in seen:
            extra[k] += 1
        else:
            seen.add(k)
            first[k] = t
    count = sum(extra.values())
    return {
        "exact": count,
        "share": count / len(keys) if keys else 0.0,
        "examples": [f"{n + 1}x {tx.short(first[k])}" for k, n in extra.most_common(tx.EXAMPLES)],
    }


def _near_duplicates(texts: dict[str, list[str]], keys: dict[str, list[str]]) -> dict[str, Any]:
    """Near-duplicate pairs (Jaccard >= :data:`NEAR_THRESHOLD`, not exact) within each split
    and across splits, from one MinHash pass over the first :data:`NEAR_CAP` texts of each."""
    from framework.data.minhash import MinHashDedupe

    finder = MinHashDedupe(NEAR_THRESHOLD, 64, 3, "words", TEXT)
    owner: list[tuple[str, int]] = []
    pool: list[str] = []
    for name, ts in texts.items():
        for i, t in enumerate(ts[:NEAR_CAP]):
            owner.append((name, i))
            pool.append(t)
    within: dict[str, dict[str, Any]] = {
        n: {"near": 0, "compared": min(len(ts), NEAR_CAP), "examples": []}
        for n, ts in texts.items()
    }
    across: list[tuple[str, int, str, int]] = []
    if pool:
        for a, b in finder.find(pool):
            (sa, ia), (sb, ib) = owner[a], owner[b]
            if keys[sa][ia] == keys[sb][ib]:
                continue  # exact: counted as such
            if sa == sb:
                found = within[sa]
                found["near"] += 1
                if len(found["examples"]) < tx.EXAMPLES:
                    found["examples"].append(f"{tx.short(pool[a])}  ≈  {tx.short(pool[b])}")
            else:
                across.append((sa, ia, sb, ib))
    return {"within": within, "across": across}


def _leakage(
    texts: dict[str, list[str]],
    keys: dict[str, list[str]],
    near: list[tuple[str, int, str, int]],
) -> dict[str, Any]:
    """Texts of validation or test that training (or validation) also holds: exact and
    near duplicates, with examples."""
    out: dict[str, Any] = {}
    names = list(texts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            held = set(keys[a])
            shared = [j for j, k in enumerate(keys[b]) if k in held]
            pairs = [p for p in near if {p[0], p[2]} == {a, b}]
            examples = [tx.short(texts[b][j]) for j in shared[: tx.EXAMPLES]]
            for sa, ia, sb, ib in pairs[: max(0, tx.EXAMPLES - len(examples))]:
                examples.append(f"{tx.short(texts[sa][ia])}  ≈  {tx.short(texts[sb][ib])}")
            out[f"{a}/{b}"] = {"exact": len(shared), "near": len(pairs), "examples": examples}
    return out


def _numeric(ds: Any, labels: list[str] | None, chars: list[int], series: Series) -> dict:
    """Summaries of the numeric user columns (a numeric label included)."""
    out = {}
    for c in _user_columns(ds):
        if c in (TEXT, IMAGE) or (c == LABEL and labels):
            continue
        dtype = getattr(ds.features[c], "dtype", "")
        if not any(dtype.startswith(p) for p in ("int", "uint", "float")):
            continue
        values = column(ds, c)
        out[c] = tx.numeric_summary(values)
        xs, ls = series.numeric.setdefault(c, ([], []))
        for v, n in zip(values, chars):
            if not tx.is_missing(v):
                xs.append(float(v))
                ls.append(n)
    return out


def _text_warnings(report: dict[str, Any]) -> None:
    warn = report["warnings"]
    selected = {s["step"] for s in report.get("data_stage", [])}
    near_fix = (
        "dedupe_minhash is selected but runs before data/clean; lower "
        "data.curate.dedupe_minhash.threshold to catch these"
        if "dedupe_minhash" in selected
        else "remove them with data/curate=[dedupe_minhash]"
    )
    for name, s in report["splits"].items():
        dup = s["duplicates"]
        if dup["exact"]:
            warn.append(
                f"{name}: {dup['exact']:,} exact duplicate texts ({dup['share']:.1%}); remove "
                "them with data/curate=[dedupe_exact]"
            )
        if dup.get("near", {}).get("near"):
            warn.append(f"{name}: {dup['near']['near']:,} near-duplicate texts; {near_fix}")
        cut = s.get("truncated")
        if cut and cut["share"] > TRUNCATION_WARN:
            p95 = round(s["length"]["tokens"]["p95"])
            warn.append(
                f"{name}: {cut['share']:.0%} of the texts are cut at data.max_length="
                f"{cut['max_length']}; data.max_length={p95} keeps 95% whole"
            )
    for pair, leak in report["leakage"].items():
        if leak["exact"] or leak["near"]:
            a, b = pair.split("/")
            warn.append(
                f"leakage: {leak['exact']:,} exact and {leak['near']:,} near-duplicate {b} "
                f"texts are also in {a}; "
                + (
                    "set data.split.overlap=remove (the default)"
                    if leak["exact"]
                    else near_fix.replace("remove them with", "add")
                )
            )


# labels ---------------------------------------------------------------------------------


def _labels(
    splits: dict[str, Any],
    labels: list[str] | None,
    class_weights: list[float] | None,
    report: dict[str, Any],
) -> None:
    with_labels = [n for n, ds in splits.items() if LABEL in ds.column_names]
    if not with_labels:
        return
    for name in splits:
        if name not in with_labels:
            report["warnings"].append(f"split '{name}' has no label column")
    if not labels:
        return
    counts: dict[str, dict[str, int]] = {}
    for name in with_labels:
        c: Counter[str] = Counter()
        for y in column(splits[name], LABEL):
            for k in y if isinstance(y, list) else [y]:
                if k is not None:
                    c[labels[k]] += 1
        counts[name] = {label: c.get(label, 0) for label in labels}
        report["splits"].setdefault(name, {})["labels"] = counts[name]
    total = {label: sum(c[label] for c in counts.values()) for label in labels}
    report.setdefault("overall", {})["labels"] = total
    train = counts.get("train", total)
    stats = tx.imbalance(train)
    stats["overall"] = tx.imbalance(total)
    imbalanced = stats["classes"] >= 2 and (
        stats["ratio"] >= IMBALANCE_RATIO or stats["entropy"] < IMBALANCE_ENTROPY
    )
    stats["imbalanced"] = imbalanced
    stats["handled_by_class_weights"] = class_weights is not None
    report["imbalance"] = stats
    if imbalanced:
        (big, n_big), (small, n_small) = stats["largest"], stats["smallest"]
        hint = (
            "the loss already weights the classes (data/balance=class_weights); "
            "data/balance=oversample is the other option"
            if class_weights is not None
            else "try data/balance=class_weights (weights in the loss) or data/balance=oversample"
        )
        if n_small < 10:
            hint += (
                "; classes with under 10 examples can go with data/curate=[min_class_count] "
                "data.curate.min_class_count.min_count=10"
            )
        report["warnings"].append(
            f"imbalanced classes in train: '{big}' {n_big:,} vs '{small}' {n_small:,} "
            f"({stats['ratio']:.0f}x, normalized entropy {stats['entropy']:.2f}); {hint}"
        )


# images ---------------------------------------------------------------------------------

SAMPLES_PER_CLASS = 8
"""Training images per class in the sample grid."""


def _image_batches(ds: Any, size: int = 4096) -> Any:
    """The split's images as uint8 (N, H, W, C) batches of one shape: whole chunks of an
    array column, one image at a time for PIL images."""
    whole = image_array(ds)
    if whole is not None:
        whole = whole[..., None] if whole.ndim == 3 else whole
        for start in range(0, len(whole), size):
            yield whole[start : start + size]
        return
    for img in ds[IMAGE]:
        a = np.asarray(img, dtype=np.uint8)
        yield (a[..., None] if a.ndim == 2 else a)[None]


def _images(
    splits: dict[str, Any], labels: list[str] | None, report: dict[str, Any], series: Series
) -> None:
    for name, ds in splits.items():
        sizes: Counter[str] = Counter()
        channels: Counter[int] = Counter()
        total = np.zeros(4)
        square = np.zeros(4)
        pixels = 0
        ys = column(ds, LABEL) if LABEL in ds.column_names else [None] * len(ds)
        seen = 0
        for batch in _image_batches(ds):
            n, h, w, c = batch.shape
            sizes[f"{h}x{w}"] += n
            channels[c] += n
            flat = batch.reshape(-1, c).astype(np.float64) / 255.0
            total[:c] += flat.sum(axis=0)
            square[:c] += (flat**2).sum(axis=0)
            pixels += n * h * w
            if name == "train" and labels:
                for img, y in zip(batch, ys[seen : seen + n]):
                    shown = series.images.setdefault(labels[y], []) if y is not None else None
                    if shown is not None and len(shown) < SAMPLES_PER_CLASS:
                        shown.append(img)
            seen += n
        c = max(channels) if channels else 0
        mean = total[:c] / pixels if pixels else np.zeros(c)
        std = np.sqrt(np.maximum(square[:c] / pixels - mean**2, 0)) if pixels else np.zeros(c)
        entry = {
            "rows": len(ds),
            "sizes": dict(sizes.most_common()),
            "channels": {str(k): v for k, v in sorted(channels.items())},
            "mean": [round(float(m), 6) for m in mean],
            "std": [round(float(s), 6) for s in std],
            "missing": tx.missing_counts(
                {col: column(ds, col) for col in _user_columns(ds) if col != IMAGE}
            ),
        }
        report["splits"][name] = entry
        if len(sizes) > 1:
            report["warnings"].append(
                f"{name}: images of {len(sizes)} sizes; set task.image_size to resize them"
            )
    train = report["splits"].get("train")
    if train:
        report["normalization"] = {"mean": train["mean"], "std": train["std"]}
    report["overall"] = {"rows": sum(len(ds) for ds in splits.values())}
