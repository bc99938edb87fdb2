"""Near-duplicate detection with MinHash signatures and LSH banding: signatures by rensa (Rust)
or NumPy from the same 64-bit shingle hashes (:mod:`framework.data.shingles`).

Candidates are the records that share an LSH band key with another; each is confirmed by the
exact Jaccard similarity of the two records' shingle-hash sets before a record is dropped, so
a band collision alone never removes text and the threshold means what it says. With rensa the
whole corpus goes through rensa's LSH index as digest matrices (no Python object per record),
and only the records it flags as sharing a band are read again for their band keys and
shingle sets; the bands are those the Ray engine groups by, so both engines see the same
candidates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from framework.data.shingles import chunks, shingle_batches
from framework.data.steps import StepContext, require_column
from framework.errors import PlaitError
from framework.records import arrow_column

CHUNK = 5000
"""Texts per task when the NumPy backend hashes on several processes."""
PICK = 1024
"""Candidate records read again at a time (for their band keys and shingle sets)."""


def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows), bands x rows = ``num_perm``, minimizing the weighted false-positive and
    false-negative probability mass of the LSH S-curve around ``threshold``."""
    xs = np.linspace(0.0, 1.0, 201)
    best, best_err = (1, num_perm), float("inf")
    for b in (b for b in range(1, num_perm + 1) if num_perm % b == 0):
        r = num_perm // b
        p = 1.0 - (1.0 - xs**r) ** b
        lo, hi = xs <= threshold, xs >= threshold
        err = fp_weight * np.trapezoid(p[lo], xs[lo]) + fn_weight * np.trapezoid(
            1.0 - p[hi], xs[hi]
        )
        if err < best_err:
            best, best_err = (b, r), err
    return best


def shingle_sets(texts: Any, size: int, unit: str) -> list[np.ndarray]:
    """The distinct shingle hashes of every text, each sorted (8 bytes per shingle)."""
    out: list[np.ndarray] = []
    for _first, flat, offsets in shingle_batches(texts, size, unit):
        out.extend(distinct(flat[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1))
    return out


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of ``values``, sorted; ``values`` is sorted in place (it is a
    slice of hashes nobody reads again), so the only copy is the result."""
    values.sort()
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values.copy()


def shingle_set(text: str, size: int, unit: str) -> np.ndarray:
    """The distinct shingle hashes of ``text``, sorted."""
    return shingle_sets([text or ""], size, unit)[0]


def overlap(x: np.ndarray, y: np.ndarray) -> int:
    """How many values two sorted arrays of distinct values share (a slice of ``x`` at a
    time: the temporaries stay small whatever the sets' sizes)."""
    if len(x) > len(y):
        x, y = y, x
    both = 0
    for at in range(0, len(x), ROWS * 64):
        part = x[at : at + ROWS * 64]
        idx = np.minimum(np.searchsorted(y, part), len(y) - 1)
        both += int(np.count_nonzero(y[idx] == part)) if len(y) else 0
    return both


ROWS = 8192
"""Shingle hashes permuted at a time by NumPy: (ROWS x num_perm) is the largest temporary."""


BACKENDS = ("rensa", "numpy")
"""Who permutes the shingle hashes into signatures: rensa (Rust, R-MinHash) or NumPy."""


class MinHasher:
    """MinHash signatures of texts from their 64-bit shingle hashes: rensa's R-MinHash
    (``backend="rensa"``, compiled), or ``num_perm`` multiply-shift hashes in NumPy
    (Dietzfelbinger's universal family: the top 32 bits of ``a * x + b`` mod 2^64)."""

    def __init__(
        self, num_perm: int, size: int, unit: str, seed: int = 1, backend: str = "numpy"
    ) -> None:
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self.b = gen.randint(0, 2**63, size=num_perm, dtype=np.uint64)
        self.num_perm, self.size, self.unit = num_perm, size, unit
        self.seed, self.backend = seed, backend

    def matrices(self, texts: Any) -> Iterator[tuple[int, Any]]:
        """(index of the first text, rensa digest matrix) per run of texts."""
        from rensa import RMinHash

        for first, flat, offsets in shingle_batches(texts, self.size, self.unit):
            yield (
                first,
                RMinHash.digest_matrix_from_flat_token_hashes(
                    flat, offsets, self.num_perm, self.seed
                ),
            )

    def signatures(self, texts: Any) -> np.ndarray:
        """A (len(texts), num_perm) uint32 matrix (texts: a list or an Arrow array)."""
        parts: list[np.ndarray] = []
        if self.backend == "rensa":
            for _first, matrix in self.matrices(texts):
                rows = matrix.to_rows()
                parts.append(np.array(rows, np.uint32).reshape(len(rows), self.num_perm))
        else:
            for _first, flat, offsets in shingle_batches(texts, self.size, self.unit):
                parts.append(self._numpy(flat, offsets))
        return np.concatenate(parts) if parts else np.zeros((0, self.num_perm), np.uint32)

    def _numpy(self, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The permuted minima of each row of ``flat``, ``ROWS`` hashes at a time."""
        out = np.full((len(offsets) - 1, self.num_perm), np.iinfo(np.uint32).max, np.uint32)
        owners = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        for at in range(0, len(flat), ROWS):
            hv, own = flat[at : at + ROWS, None], owners[at : at + ROWS]
            with np.errstate(over="ignore"):
                phv = ((hv * self.a + self.b) >> np.uint64(32)).astype(np.uint32)
            starts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
            rows = own[starts]
            out[rows] = np.minimum(out[rows], np.minimum.reduceat(phv, starts, axis=0))
        return out


def _signatures_of(args: tuple[MinHasher, Any]) -> np.ndarray:
    hasher, texts = args
    return hasher.signatures(texts)


CLUSTERS = ("kept", "components")
"""How confirmed near duplicates are grouped (``dedupe_minhash.clusters``)."""


def resolve(
    buckets: list[list[int]], similar: Any, clusters: str = "kept"
) -> list[tuple[int, int]]:
    """(removed record, kept record) pairs, in record order, from the records that share a
    bucket (an LSH band key, rows ascending). Both engines decide through this function.

    ``kept``: each record goes, in record order, when it is ``similar`` to an earlier *kept*
    record of one of its buckets (the smallest such): a record is only ever removed for one
    that stays. ``components``: the connected components of the ``similar`` pairs within
    buckets; each keeps its smallest record, and the pair names that one."""
    if clusters == "components":
        return _components(buckets, similar)
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


def _components(buckets: list[list[int]], similar: Any) -> list[tuple[int, int]]:
    """Union-find over the confirmed pairs of every bucket; a pair already joined is not
    compared again, so a bucket of near copies costs one comparison per record."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # compress the path
            parent[x], x = root, parent[x]
        return root

    for rows in buckets:
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                ra, rb = find(a), find(b)
                if ra != rb and similar(b, a):
                    parent[max(ra, rb)] = min(ra, rb)
    return sorted((r, find(r)) for r in parent if find(r) != r)


class MinHashDedupe:
    """Keep the first record of each cluster of near duplicates."""

    examples: list[str] = []
    """'duplicate ≈ kept' pairs of the last run, for the data report."""
    duplicate_pairs: tuple[np.ndarray, np.ndarray] | None = None
    """Positions of the records the last call removed and of the kept record each nearly
    duplicates."""

    def __init__(
        self, threshold: float, num_perm: int, size: int, unit: str, column: str,
        backend: str = "rensa", clusters: str = "kept",
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
        if clusters not in CLUSTERS:
            raise PlaitError(
                "data.curate.dedupe_minhash.clusters must be 'kept' or 'components', "
                f"not '{clusters}'"
            )
        self.threshold, self.column, self.clusters = threshold, column, clusters
        self.hasher = MinHasher(num_perm, size, unit, backend=backend)
        # candidates are confirmed by their signatures, so the bands favour recall: a false
        # positive costs one comparison, a false negative a duplicate left in
        self.bands, self.rows = optimal_bands(threshold, num_perm, fp_weight=0.1, fn_weight=0.9)

    def signatures(self, texts: Any, num_proc: int = 1) -> np.ndarray:
        """Signatures of every text (a list or an Arrow array); the NumPy backend hashes on
        ``num_proc`` processes."""
        if self.hasher.backend == "rensa" or num_proc <= 1 or len(texts) <= CHUNK:
            return self.hasher.signatures(texts)
        import multiprocessing

        chunks = [(self.hasher, texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        with multiprocessing.get_context("fork").Pool(num_proc) as pool:
            return np.concatenate(pool.map(_signatures_of, chunks))

    def band_keys(self, sig: np.ndarray) -> list[np.ndarray]:
        """One LSH key per band and record (a uint64 array per band): records sharing a key
        are candidates. Band ``j`` is signature columns ``j * rows`` to ``(j + 1) * rows``, as
        in rensa's LSH index."""
        r = self.rows
        mult = np.random.RandomState(7).randint(1, 1 << 62, size=r, dtype=np.uint64)
        with np.errstate(over="ignore"):
            return [
                (sig[:, j * r : (j + 1) * r].astype(np.uint64) * mult).sum(axis=1)
                for j in range(self.bands)
            ]

    def jaccard_at_least(self, a: str, b: str) -> bool:
        """Whether the shingle sets of two texts reach the threshold's Jaccard similarity."""
        x, y = shingle_sets([a or "", b or ""], self.hasher.size, self.hasher.unit)
        return self._close(x, y)

    def _close(self, x: np.ndarray, y: np.ndarray) -> bool:
        both = overlap(x, y)
        return both >= self.threshold * (len(x) + len(y) - both)

    def buckets(self, sig: np.ndarray, rows: np.ndarray | None = None) -> list[list[int]]:
        """The records that share a band key, one list per shared key (record ids ascending;
        ``rows``: the ids of ``sig``'s rows, else their positions)."""
        out = []
        for band in self.band_keys(sig):
            order = np.argsort(band, kind="stable")
            ranked = band[order]
            starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
            ends = np.r_[starts[1:], len(band)]
            ids = order if rows is None else rows[order]
            out.extend(ids[starts[k] : ends[k]].tolist() for k in np.flatnonzero(ends - starts > 1))
        return out

    def duplicates(self, sig: np.ndarray, texts: Any = None) -> list[tuple[int, int]]:
        """(record, earlier kept record it nearly duplicates) pairs, in record order.

        Candidates sharing an LSH band are confirmed by the Jaccard similarity of their
        shingle-hash sets when ``texts`` are given, else by the signatures' estimate.
        """
        buckets = self.buckets(sig)
        if texts is None:
            need = self.threshold * sig.shape[1]
            return resolve(
                buckets, lambda a, b: int((sig[a] == sig[b]).sum()) >= need, self.clusters
            )
        rows = sorted({r for b in buckets for r in b})
        picked = [texts[r] for r in rows] if isinstance(texts, list) else texts.take(rows)
        return resolve(
            buckets, self.similar_sets(dict(zip(rows, self._sets(picked)))), self.clusters
        )

    def _sets(self, texts: Any) -> list[np.ndarray]:
        return shingle_sets(texts, self.hasher.size, self.hasher.unit)

    def similar_sets(self, sets: dict[int, np.ndarray]) -> Any:
        """``similar(a, b)``: whether records ``a`` and ``b`` (their shingle sets in
        ``sets``) reach the threshold's Jaccard similarity."""
        return lambda a, b: self._close(sets[a], sets[b])

    def similar_texts(self, texts: dict[int, str]) -> Any:
        """``similar(a, b)`` over records ``texts[a]``, ``texts[b]``."""
        rows = sorted(texts)
        return self.similar_sets(dict(zip(rows, self._sets([texts[r] or "" for r in rows]))))

    def find(self, texts: Any) -> list[tuple[int, int]]:
        """(record, kept record it nearly duplicates) pairs of ``texts`` (a list, or an Arrow
        array read in place). rensa: every record's digest goes into rensa's LSH index, and
        only the records it flags are hashed again for band keys and exact sets."""
        if not isinstance(texts, list):  # one pass over the column's pieces, joined
            import pyarrow as pa

            parts = chunks(texts)
            texts = pa.chunked_array(parts) if parts else pa.chunked_array([], pa.large_string())
        if self.hasher.backend != "rensa":
            return self.duplicates(self.signatures(texts), texts)
        from rensa import RMinHashLSH

        lsh = RMinHashLSH(self.threshold, self.hasher.num_perm, self.bands)
        matrices = list(self.hasher.matrices(texts))
        for first, matrix in matrices:
            lsh.insert_matrix(matrix, first)
        flagged = [first + np.flatnonzero(lsh.query_duplicate_flags_matrix(matrix))
                   for first, matrix in matrices]  # fmt: skip
        del matrices, lsh
        rows = np.concatenate(flagged) if flagged else np.zeros(0, np.int64)
        if not len(rows):
            return []
        sig, sets = self._signatures_and_sets(texts, rows)
        similar = self.similar_sets(dict(zip(rows.tolist(), sets)))
        return resolve(self.buckets(sig, rows), similar, self.clusters)

    def _signatures_and_sets(
        self, texts: Any, rows: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """rensa signatures and distinct shingle sets of the records ``rows`` of ``texts``,
        from one hashing pass, ``PICK`` records read at a time."""
        from rensa import RMinHash

        hasher, sigs, sets = self.hasher, [], []
        for at in range(0, len(rows), PICK):
            part = rows[at : at + PICK]
            picked = [texts[r] for r in part] if isinstance(texts, list) else texts.take(part)
            for _first, flat, offsets in shingle_batches(picked, hasher.size, hasher.unit):
                matrix = RMinHash.digest_matrix_from_flat_token_hashes(
                    flat, offsets, hasher.num_perm, hasher.seed
                )
                sigs.append(np.array(matrix.to_rows(), np.uint32).reshape(-1, hasher.num_perm))
                sets.extend(distinct(flat[offsets[i] : offsets[i + 1]])
                            for i in range(len(offsets) - 1))  # fmt: skip
        return np.concatenate(sigs), sets

    def __call__(self, ds: Any, ctx: StepContext) -> Any:
        require_column(ds, self.column, ctx.name)
        texts = arrow_column(ds, self.column)
        pairs = self.find(texts)
        both = np.asarray(pairs, np.int64).reshape(-1, 2)
        self.duplicate_pairs = (both[:, 0], both[:, 1])
        drop = {i for i, _ in pairs}
        shown = texts.take([k for p in pairs[:3] for k in p]).to_pylist() if pairs else []
        self.examples = [f"{(shown[2 * k] or '')[:150]}  ≈  {(shown[2 * k + 1] or '')[:150]}"
                         for k in range(len(shown) // 2)]  # fmt: skip
        if not drop:
            return ds
        keep = np.ones(len(ds), bool)
        keep[list(drop)] = False
        return ds.select(np.flatnonzero(keep))  # an array: hashed for the fingerprint at once
