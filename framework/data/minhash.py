"""Near-duplicate detection with MinHash signatures and LSH banding: signatures by rensa (Rust)
or NumPy from the same shingle hashes.

Signatures are computed a chunk at a time (one matrix product per chunk, on ``num_proc``
processes); candidates from the LSH bands are confirmed by the Jaccard similarity of their
sets of 32-bit shingle hashes before a record is dropped, so a band collision alone never
removes text and the threshold means what it says. Texts are shingled a window at a time,
so memory is bounded by ``WINDOW`` and ``ROWS`` whatever a record's length (confirming a
candidate keeps 4 bytes per distinct shingle of the two records).
"""

from __future__ import annotations

import itertools
import re
import zlib
from typing import Any

import numpy as np

from framework.data.records import column
from framework.data.steps import StepContext, require_column
from framework.errors import PlaitError

CHUNK = 500
"""Texts hashed together (one (shingles x permutations) matrix per chunk)."""


def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimizing the weighted false-positive and false-negative probability
    mass of the LSH S-curve around ``threshold``."""
    xs = np.linspace(0.0, 1.0, 201)
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - xs**r) ** b
            lo, hi = xs <= threshold, xs >= threshold
            err = fp_weight * np.trapezoid(p[lo], xs[lo]) + fn_weight * np.trapezoid(
                1.0 - p[hi], xs[hi]
            )
            if err < best_err:
                best, best_err = (b, r), err
    return best


def shingles(text: str, size: int, unit: str) -> list[str]:
    """Overlapping word (or character) n-grams of lower-cased text; short texts give one."""
    return [s for window in shingle_windows(text, size, unit) for s in window]


WINDOW = 1 << 16
"""Characters of a text shingled at a time: what bounds memory, whatever a record's length."""


def _windows(text: str) -> Any:
    """``text`` in pieces of ``WINDOW`` characters."""
    for start in range(0, len(text), WINDOW):
        yield text[start : start + WINDOW]


def shingle_windows(text: str, size: int, unit: str) -> Any:
    """The shingles of ``text`` (as :func:`shingles` lists them), one list per window of
    ``WINDOW`` characters: a 40 MB record never becomes one list of millions of strings."""
    if unit == "words" and len(text) <= WINDOW:  # one window: the same shingles, directly
        words = text.lower().split()
        if len(words) < size:
            yield [" ".join(words)]
        else:
            yield [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
        return
    shingle = _word_shingles if unit == "words" else _char_shingles
    emitted = False
    for out, rest in shingle(text, size):
        if out:
            emitted = True
            yield out
        elif rest is not None and not emitted:
            yield [rest]


def _word_shingles(text: str, size: int) -> Any:
    """(shingles, None) per window; then (nothing, the whole text) when it has fewer than
    ``size`` words. A word cut by a window's end is held back and joined to the next."""
    carry: list[str] = []
    partial = ""
    for w in _windows(text):
        words = w.lower().split()
        if partial:
            if w[0].isspace() or not words:
                words.insert(0, partial)
            else:
                words[0] = partial + words[0]
            partial = ""
        if not w[-1].isspace() and words:
            partial = words.pop()
        items = carry + words
        yield [" ".join(items[i : i + size]) for i in range(len(items) - size + 1)], None
        carry = items[max(0, len(items) - size + 1) :] if size > 1 else []
    items = carry + ([partial] if partial else [])
    yield [" ".join(items[i : i + size]) for i in range(len(items) - size + 1)], " ".join(items)


def _char_shingles(text: str, size: int) -> Any:
    """Character shingles of the lower-cased text with whitespace runs collapsed to one
    space and the ends stripped; then (nothing, the whole text) when it is short."""
    tail, started, space = "", False, False
    for w in _windows(text):
        n = _SPACES.sub(" ", w.lower())
        lead, trail = n.startswith(" "), n.endswith(" ")
        n = n.strip(" ")
        if not n:
            space = space or started
            continue
        if started and (space or lead):
            n = " " + n
        started, space = True, trail
        s = tail + n
        yield [s[i : i + size] for i in range(len(s) - size + 1)], None
        tail = s[max(0, len(s) - size + 1) :] if size > 1 else ""
    yield [], tail


_SPACES = re.compile(r"\s+")


def shingle_hashes(text: str, size: int, unit: str) -> Any:
    """32-bit hashes of ``text``'s shingles, one array per window."""
    for window in shingle_windows(text, size, unit):
        yield np.fromiter(
            (zlib.crc32(s.encode("utf-8", "surrogatepass")) for s in window),
            dtype=np.uint64,
            count=len(window),
        )


def shingle_set(text: str, size: int, unit: str) -> np.ndarray:
    """The distinct shingle hashes of ``text``, sorted (4 bytes per distinct shingle)."""
    parts = [_distinct(h.astype(np.uint32)) for h in shingle_hashes(text, size, unit)]
    return _distinct(np.concatenate(parts)) if parts else np.zeros(0, np.uint32)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique``'s hash table needs ~15x the input here)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


ROWS = 8192
"""Shingle hashes permuted at a time: (ROWS x num_perm) is the largest temporary."""


BACKENDS = ("rensa", "numpy")
"""Who permutes the shingle hashes into signatures: rensa (Rust, R-MinHash) or NumPy."""
FLAT = 1 << 18
"""rensa: shingles handed over at a time, whatever a record's length."""


class MinHasher:
    """MinHash signatures of texts from their 32-bit shingle hashes: rensa's R-MinHash
    (``backend="rensa"``, compiled), or ``num_perm`` multiply-shift hashes in NumPy
    (Dietzfelbinger's universal family: the top 32 bits of ``a * x + b`` mod 2^64)."""

    def __init__(
        self, num_perm: int, size: int, unit: str, seed: int = 1, backend: str = "numpy"
    ) -> None:
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self.b = gen.randint(0, 2**63, size=num_perm, dtype=np.uint64)
        self.size, self.unit, self.seed, self.backend = size, unit, seed, backend

    def signatures(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), num_perm) uint32 matrix; memory bounded by ``ROWS`` (NumPy) or
        ``FLAT`` (rensa) shingles at a time."""
        if self.backend == "rensa":
            return self._rensa(texts)
        out = np.full((len(texts), len(self.a)), np.iinfo(np.uint32).max, np.uint32)
        hashes: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        pending = 0
        for k, text in enumerate(texts):
            for h in shingle_hashes(text or "", self.size, self.unit):
                hashes.append(h)
                owners.append(np.full(len(h), k, dtype=np.int64))
                pending += len(h)
                if pending >= ROWS:
                    self._fold(out, np.concatenate(hashes), np.concatenate(owners))
                    hashes, owners, pending = [], [], 0
        if hashes:
            self._fold(out, np.concatenate(hashes), np.concatenate(owners))
        return out

    def _rensa(self, texts: list[str]) -> np.ndarray:
        """Signatures by rensa from the same shingles (rensa hashes them itself): one row per
        window of a text, each text's rows folded by their minimum (a long record's windows
        are parts of one set)."""
        from rensa import RMinHash

        num_perm = len(self.a)
        out = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, np.uint32)
        rows: list[list[str]] = []
        owners: list[int] = []
        pending = 0

        def flush() -> None:
            digests = RMinHash.digests_from_token_sets(rows, num_perm=num_perm, seed=self.seed)
            flat = itertools.chain.from_iterable(digests)
            sig = np.fromiter(flat, np.uint32, count=len(rows) * num_perm).reshape(-1, num_perm)
            own = np.asarray(owners)
            starts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
            if len(starts) < len(own):  # some texts span several windows
                sig = np.minimum.reduceat(sig, starts, axis=0)
            out[own[starts]] = np.minimum(out[own[starts]], sig)

        for k, text in enumerate(texts):
            for window in shingle_windows(text or "", self.size, self.unit):
                rows.append(window)
                owners.append(k)
                pending += len(window)
                if pending >= FLAT:
                    flush()
                    rows, owners, pending = [], [], 0
        if rows:
            flush()
        return out

    def _fold(self, out: np.ndarray, hashes: np.ndarray, owners: np.ndarray) -> None:
        """Lower ``out``'s rows to the permuted minima of ``hashes`` (owned by record rows
        ``owners``, non-decreasing), ``ROWS`` at a time."""
        for at in range(0, len(hashes), ROWS):
            hv, own = hashes[at : at + ROWS, None], owners[at : at + ROWS]
            with np.errstate(over="ignore"):
                phv = ((hv * self.a + self.b) >> np.uint64(32)).astype(np.uint32)
            starts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
            rows = own[starts]
            out[rows] = np.minimum(out[rows], np.minimum.reduceat(phv, starts, axis=0))


def _signatures_of(args: tuple[MinHasher, list[str]]) -> np.ndarray:
    hasher, texts = args
    return hasher.signatures(texts)


def resolve(buckets: list[list[int]], similar: Any) -> list[tuple[int, int]]:
    """(record, kept record it nearly duplicates) pairs, in record order: each record that
    shares a bucket (an LSH band key, rows ascending) with another goes, in record order, when
    it is ``similar`` to an earlier *kept* record of one of its buckets (the smallest such);
    a record is only ever removed for one that stays. Records in no shared bucket stay.
    Both engines decide through this function."""
    by_row: dict[int, list[int]] = {}
    for b, rows in enumerate(buckets):
        for r in rows:
            by_row.setdefault(r, []).append(b)
    kept: list[list[int]] = [[] for _ in buckets]
    pairs = []
    for i in sorted(by_row):
        cands = sorted({c for b in by_row[i] for c in kept[b]})
        match = next((c for c in cands if similar(i, c)), None)
        if match is not None:
            pairs.append((i, match))
            continue
        for b in by_row[i]:
            kept[b].append(i)
    return pairs


class MinHashDedupe:
    """Keep the first record of each cluster of near duplicates."""

    examples: list[str] = []
    """'duplicate ≈ kept' pairs of the last run, for the data report."""

    def __init__(
        self, threshold: float, num_perm: int, size: int, unit: str, column: str,
        backend: str = "rensa",
    ) -> None:  # fmt: skip
        if not 0 < threshold <= 1:
            raise PlaitError(
                f"data.curate.dedupe_minhash.threshold must be in (0, 1], not {threshold}"
            )
        if unit not in ("words", "chars"):
            raise PlaitError(
                f"data.curate.dedupe_minhash.unit must be 'words' or 'chars', not '{unit}'"
            )
        if num_perm < 2 or size < 1:
            raise PlaitError("data.curate.dedupe_minhash: num_perm >= 2 and shingle_size >= 1")
        if backend not in BACKENDS:
            raise PlaitError(
                f"data.curate.dedupe_minhash.backend must be 'rensa' or 'numpy', not '{backend}'"
            )
        if backend == "rensa":
            import importlib.util

            if importlib.util.find_spec("rensa") is None:
                raise PlaitError(
                    "data.curate.dedupe_minhash.backend=rensa needs rensa: pip install rensa "
                    "(or backend=numpy)"
                )
        self.threshold, self.column = threshold, column
        self.hasher = MinHasher(num_perm, size, unit, backend=backend)
        # candidates are confirmed by their signatures, so the bands favour recall: a false
        # positive costs one comparison, a false negative a duplicate left in
        self.bands, self.rows = optimal_bands(threshold, num_perm, fp_weight=0.1, fn_weight=0.9)

    def signatures(self, texts: list[str], num_proc: int) -> np.ndarray:
        """Signatures of every text, in chunks, on ``num_proc`` processes."""
        chunks = [(self.hasher, texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        if num_proc > 1 and len(chunks) > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(num_proc) as pool:
                parts = pool.map(_signatures_of, chunks)
        else:
            parts = [_signatures_of(c) for c in chunks]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.hasher.a)), np.uint32)

    def band_keys(self, sig: np.ndarray) -> list[np.ndarray]:
        """One LSH key per band and record (a uint64 array per band): records sharing a key
        are candidates."""
        r = self.rows
        mult = np.random.RandomState(7).randint(1, 1 << 62, size=r, dtype=np.uint64)
        with np.errstate(over="ignore"):
            return [
                (sig[:, j * r : (j + 1) * r].astype(np.uint64) * mult).sum(axis=1)
                for j in range(self.bands)
            ]

    def jaccard_at_least(self, a: str, b: str) -> bool:
        """Whether the shingle sets of two texts reach the threshold's Jaccard similarity."""
        x = shingle_set(a or "", self.hasher.size, self.hasher.unit)
        y = shingle_set(b or "", self.hasher.size, self.hasher.unit)
        both = len(np.intersect1d(x, y, assume_unique=True))
        return both >= self.threshold * (len(x) + len(y) - both)

    def duplicates(self, sig: np.ndarray, texts: list[str] | None = None) -> list[tuple[int, int]]:
        """(record, earlier kept record it nearly duplicates) pairs, in record order.

        Candidates sharing an LSH band are confirmed by the Jaccard similarity of their
        shingle-hash sets when ``texts`` are given, else by the signatures' estimate.
        """
        keys = self.band_keys(sig)
        buckets = []
        for band in keys:
            order = np.argsort(band, kind="stable")  # rows ascending within a key
            ranked = band[order]
            starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
            ends = np.r_[starts[1:], len(band)]
            shared = np.flatnonzero(ends - starts > 1)
            buckets.extend(order[starts[k] : ends[k]].tolist() for k in shared)
        if texts is None:
            need = self.threshold * sig.shape[1]
            return resolve(buckets, lambda a, b: int((sig[a] == sig[b]).sum()) >= need)
        return resolve(buckets, self.similar_texts(dict(enumerate(texts))))

    def similar_texts(self, texts: Any) -> Any:
        """``similar(a, b)`` over records ``texts[a]``, ``texts[b]``: whether their shingle
        sets reach the threshold's Jaccard similarity (sets computed once per record)."""
        sets: dict[int, np.ndarray] = {}
        size, unit, threshold = self.hasher.size, self.hasher.unit, self.threshold

        def distinct(k: int) -> np.ndarray:
            if k not in sets:
                sets[k] = shingle_set(texts[k] or "", size, unit)
            return sets[k]

        def similar(a: int, b: int) -> bool:
            x, y = distinct(a), distinct(b)
            both = len(np.intersect1d(x, y, assume_unique=True))
            return both >= threshold * (len(x) + len(y) - both)

        return similar

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        texts = column(ds, self.column)
        pairs = self.duplicates(self.signatures(texts, ctx.num_proc), texts)
        drop = {i for i, _ in pairs}
        self.examples = [f"{texts[i][:150]}  ≈  {texts[j][:150]}" for i, j in pairs[:3]]
        if not drop:
            return ds
        return ds.select([i for i in range(len(ds)) if i not in drop])
