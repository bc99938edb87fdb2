"""Near-duplicate detection with MinHash signatures and LSH banding, vectorized with NumPy.

Signatures are computed a batch at a time (one matrix product per batch, ``datasets.map``
with ``num_proc``); candidates from the LSH bands are confirmed by the signatures' estimated
Jaccard similarity before a record is dropped, so a band collision alone never removes text.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from framework.data.steps import StepContext, require_column
from framework.errors import PlaitError

_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)


def optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimizing the false-positive plus false-negative probability mass."""
    xs = np.linspace(0.0, 1.0, 201)
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - xs**r) ** b
            lo, hi = xs <= threshold, xs >= threshold
            err = np.trapezoid(p[lo], xs[lo]) + np.trapezoid(1.0 - p[hi], xs[hi])
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
    """MinHash signatures of texts: ``num_perm`` universal hashes of 32-bit shingle hashes."""

    def __init__(self, num_perm: int, size: int, unit: str, seed: int = 1) -> None:
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, int(_PRIME), size=num_perm, dtype=np.uint64)
        self.b = gen.randint(0, int(_PRIME), size=num_perm, dtype=np.uint64)
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
            phv = ((hv * self.a + self.b) % _PRIME) & _MAX_HASH
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.minimum.reduceat(phv, starts, axis=0).astype(np.uint32)


class MinHashDedupe:
    """Keep the first record of each cluster of near duplicates."""

    streamable = False
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
        self.bands, self.rows = optimal_bands(threshold, num_perm)

    def _batch(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        return {"_sig": self.hasher.signatures(batch[self.column])}

    def duplicates(self, sig: np.ndarray) -> list[tuple[int, int]]:
        """(record, earlier kept record it nearly duplicates) pairs, in record order."""
        r = self.rows
        mult = np.random.RandomState(7).randint(1, 1 << 62, size=r, dtype=np.uint64)
        with np.errstate(over="ignore"):
            keys = [
                (sig[:, j * r : (j + 1) * r].astype(np.uint64) * mult).sum(axis=1).tolist()
                for j in range(self.bands)
            ]
        tables: list[dict[int, list[int]]] = [{} for _ in range(self.bands)]
        need = self.threshold * sig.shape[1]
        dropped = []
        for i in range(sig.shape[0]):
            cands: set[int] = set()
            for j in range(self.bands):
                hit = tables[j].get(keys[j][i])
                if hit:
                    cands.update(hit)
            match = next((c for c in sorted(cands) if int((sig[c] == sig[i]).sum()) >= need), None)
            if match is not None:
                dropped.append((i, match))
                continue
            for j in range(self.bands):
                tables[j].setdefault(keys[j][i], []).append(i)
        return dropped

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        sigs = ds.select_columns([self.column]).map(
            self._batch,
            batched=True,
            batch_size=2000,
            remove_columns=[self.column],
            num_proc=ctx.num_proc if ctx.num_proc > 1 and len(ds) > 4000 else None,
            desc=ctx.name,
        )
        sig = sigs.with_format("numpy")["_sig"]
        pairs = self.duplicates(np.asarray(sig, dtype=np.uint32))
        drop = {i for i, _ in pairs}
        texts = ds.select_columns([self.column])
        self.examples = [
            f"{texts[i][self.column][:150]}  ≈  {texts[j][self.column][:150]}" for i, j in pairs[:3]
        ]
        if not drop:
            return ds
        return ds.select([i for i in range(len(ds)) if i not in drop])
