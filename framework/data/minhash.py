"""Near-duplicate detection with MinHash signatures and LSH banding, vectorized with NumPy.

Signatures are computed a chunk at a time (one matrix product per chunk, on ``num_proc``
processes); candidates from the LSH bands are confirmed by the exact Jaccard similarity of
their shingle sets before a record is dropped, so a band collision alone never removes text
and the threshold means what it says.
"""

from __future__ import annotations

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
    if unit == "words":
        items = text.lower().split()
        if len(items) <= size:
            return [" ".join(items)]
        return [" ".join(items[i : i + size]) for i in range(len(items) - size + 1)]
    t = " ".join(text.lower().split())
    if len(t) <= size:
        return [t]
    return [t[i : i + size] for i in range(len(t) - size + 1)]


class MinHasher:
    """MinHash signatures of texts: ``num_perm`` multiply-shift hashes (Dietzfelbinger's
    universal family: the top 32 bits of ``a * x + b`` mod 2^64) of 32-bit shingle hashes."""

    def __init__(self, num_perm: int, size: int, unit: str, seed: int = 1) -> None:
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self.b = gen.randint(0, 2**63, size=num_perm, dtype=np.uint64)
        self.size, self.unit = size, unit

    def signatures(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), num_perm) uint32 matrix."""
        hashes: list[int] = []
        counts = []
        for t in texts:
            sh = shingles(t or "", self.size, self.unit)
            hashes.extend(zlib.crc32(s.encode("utf-8", "surrogatepass")) for s in sh)
            counts.append(len(sh))
        hv = np.asarray(hashes, dtype=np.uint64)[:, None]
        with np.errstate(over="ignore"):
            phv = ((hv * self.a + self.b) >> np.uint64(32)).astype(np.uint32)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.minimum.reduceat(phv, starts, axis=0)


def _signatures_of(args: tuple[MinHasher, list[str]]) -> np.ndarray:
    hasher, texts = args
    return hasher.signatures(texts)


class MinHashDedupe:
    """Keep the first record of each cluster of near duplicates."""

    examples: list[str] = []
    """'duplicate ≈ kept' pairs of the last run, for the data report."""

    def __init__(self, threshold: float, num_perm: int, size: int, unit: str, column: str) -> None:
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
        self.threshold, self.column = threshold, column
        self.hasher = MinHasher(num_perm, size, unit)
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

    def duplicates(self, sig: np.ndarray, texts: list[str] | None = None) -> list[tuple[int, int]]:
        """(record, earlier kept record it nearly duplicates) pairs, in record order.

        Candidates sharing an LSH band are confirmed by the exact Jaccard similarity of their
        shingle sets when ``texts`` are given, else by the signatures' estimate.
        """
        r = self.rows
        mult = np.random.RandomState(7).randint(1, 1 << 62, size=r, dtype=np.uint64)
        with np.errstate(over="ignore"):
            keys = [
                (sig[:, j * r : (j + 1) * r].astype(np.uint64) * mult).sum(axis=1).tolist()
                for j in range(self.bands)
            ]
        tables: list[dict[int, list[int]]] = [{} for _ in range(self.bands)]
        need = self.threshold * sig.shape[1]
        sets: dict[int, set[str]] = {}
        hasher = self.hasher

        def shingle_set(k: int) -> set[str]:
            if k not in sets:
                sets[k] = set(shingles(texts[k] or "", hasher.size, hasher.unit))  # type: ignore[index]
            return sets[k]

        def similar(a: int, b: int) -> bool:
            if texts is None:
                return int((sig[a] == sig[b]).sum()) >= need
            x, y = shingle_set(a), shingle_set(b)
            return len(x & y) >= self.threshold * len(x | y)

        dropped = []
        for i in range(sig.shape[0]):
            cands: set[int] = set()
            for j in range(self.bands):
                hit = tables[j].get(keys[j][i])
                if hit:
                    cands.update(hit)
            match = next((c for c in sorted(cands) if similar(i, c)), None)
            if match is not None:
                dropped.append((i, match))
                continue
            for j in range(self.bands):
                tables[j].setdefault(keys[j][i], []).append(i)
        return dropped

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        texts = column(ds, self.column)
        pairs = self.duplicates(self.signatures(texts, ctx.num_proc), texts)
        drop = {i for i, _ in pairs}
        self.examples = [f"{texts[i][:150]}  ≈  {texts[j][:150]}" for i, j in pairs[:3]]
        if not drop:
            return ds
        return ds.select([i for i in range(len(ds)) if i not in drop])
