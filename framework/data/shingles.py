"""Shingles of texts and their 64-bit hashes, computed a batch of texts at a time with Arrow's
string kernels and NumPy: no Python object per word or shingle.

A text is lower-cased (Arrow's Unicode simple case mapping) and split where Python's
``str.split`` splits (every ``str.isspace`` character, non-ASCII ones included). A word
shingle is ``size`` consecutive words; a character shingle is ``size`` consecutive characters
of the words joined by single spaces; a text with fewer than ``size`` of them gives one
shingle of all it has (an empty text: the empty shingle). :func:`shingles` lists the same
shingles as strings, and :func:`hash_shingle` hashes one of them: the batch path equals
hashing those strings one by one (the tests check it).

Hashes: a character shingle's is a 64-bit hash of its UTF-8 bytes (eight bytes at a time,
each folded in with the MurmurHash3 finalizer); a word shingle's combines its words' byte
hashes in order. Memory is bounded by ``BATCH_CHARS`` characters at a time: a text longer
than ``WINDOW`` is cut at whitespace into windows hashed in groups, a few words or characters
carried from one group to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

WINDOW = 1 << 16
"""Characters of a long text read at a time (cut at the next whitespace)."""
BATCH_CHARS = 1 << 22
"""Characters of short texts hashed together."""
ITEMS = 1 << 20
"""Words or shingles whose bytes are hashed together (bounds the temporaries)."""

_SEED = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_SPLIT_AT = re.compile(r"[ \t\n\r\f\v]")


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, in place (a bijection that mixes every bit)."""
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return h


def byte_hashes(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """64-bit hashes of the byte ranges ``data[starts[i] : starts[i] + lengths[i]]``.

    ``data`` is read eight bytes at a time through a padded ``uint64`` view, so a range costs
    a few vector operations per eight bytes whatever its alignment."""
    pad = np.zeros((len(data) + 23) // 8 * 8, np.uint8)
    pad[: len(data)] = data
    words = pad.view("<u8")
    out = np.empty(len(starts), np.uint64)
    one, top, bits = np.uint64(1), np.uint64(63), np.uint64(64)
    for at in range(0, len(starts), ITEMS):
        pos = np.asarray(starts[at : at + ITEMS], np.int64)
        rem = np.asarray(lengths[at : at + ITEMS], np.int64)
        done = out[at : at + ITEMS]
        acc = _fmix(rem.astype(np.uint64) ^ _SEED)
        idx = np.flatnonzero(rem > 0)
        if len(idx) < len(rem):  # empty ranges: the length's hash alone
            done[:] = acc
            pos, rem, acc = pos[idx], rem[idx], acc[idx]
        else:
            idx = None
        with np.errstate(over="ignore"):
            while len(rem):
                q = pos >> 3
                shift = ((pos & 7) << 3).astype(np.uint64)
                chunk = words[q] >> shift
                chunk |= (words[q + 1] << one) << (top - shift)  # shift 0: nothing
                chunk &= _ALL >> (bits - (np.minimum(rem, 8).astype(np.uint64) << np.uint64(3)))
                acc ^= chunk
                acc *= _PRIME
                _fmix(acc)
                more = rem > 8
                if idx is None:
                    done[:] = acc
                    idx = np.flatnonzero(more)
                else:
                    done[idx] = acc
                    idx = idx[more]
                pos, rem, acc = pos[more] + 8, rem[more] - 8, acc[more]
    return out


def combine(parts: list[np.ndarray], n: int = 1) -> np.ndarray:
    """The hashes of ``n`` sequences of word hashes (``parts[j]``: the j-th hash of every
    sequence), order-sensitive, with their length folded in."""
    with np.errstate(over="ignore"):
        acc = parts[0].copy() if parts else np.full(n, _SEED, np.uint64)
        for part in parts[1:]:
            acc *= _PRIME
            acc += part
            _fmix(acc)
        acc ^= np.uint64(len(parts)) * _PRIME
        return _fmix(acc)


def chunks(texts: Any) -> list[Any]:
    """``texts`` (a list of strings, an Arrow array or chunked array) as Arrow string arrays,
    nulls as empty texts; a memory-mapped column is read in place, chunk by chunk, and runs of
    small chunks (a ``datasets`` column read through an index has one per record) are joined
    into arrays of about ``BATCH_CHARS`` bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, pa.ChunkedArray):
        parts = [c for c in texts.chunks if len(c)]
    elif isinstance(texts, pa.Array):
        parts = [texts] if len(texts) else []
    else:
        parts = [pa.array(list(texts), pa.large_string())] if len(texts) else []
    out: list[Any] = []
    run: list[Any] = []
    held = 0
    for part in parts:
        size = part.nbytes
        if size >= BATCH_CHARS and not run:
            out.append(part)
            continue
        run.append(part)
        held += size
        if held >= BATCH_CHARS:
            out.append(pa.concat_arrays(run) if len(run) > 1 else run[0])
            run, held = [], 0
    if run:
        out.append(pa.concat_arrays(run) if len(run) > 1 else run[0])
    return [pc.fill_null(c, "") if c.null_count else c for c in out]


_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_WIDE_SPACES = [
    chr(c).encode()
    for c in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
]
"""Python's whitespace (``str.isspace``) beyond ASCII, as UTF-8."""


def _spaces(data: np.ndarray) -> np.ndarray:
    """A mask of the bytes of ``data`` (UTF-8) that belong to a whitespace character."""
    space = _SPACE[data]
    leads = np.flatnonzero((data == 0xC2) | ((data >= 0xE1) & (data <= 0xE3)))
    if len(leads):
        padded = np.r_[data, np.zeros(2, np.uint8)]
        for seq in _WIDE_SPACES:
            at = leads[padded[leads] == seq[0]]
            for k in range(1, len(seq)):
                at = at[padded[at + k] == seq[k]]
            for k in range(len(seq)):
                space[at + k] = True
    return space


def _offsets(array: Any) -> np.ndarray:
    """The value offsets of an Arrow string array, as int64."""
    import pyarrow as pa

    wide = pa.types.is_large_string(array.type)
    raw = np.frombuffer(array.buffers()[1], np.int64 if wide else np.int32)
    return raw[array.offset : array.offset + len(array) + 1].astype(np.int64)


def _lowered(texts: Any) -> tuple[np.ndarray, np.ndarray]:
    """The lower-cased texts as one UTF-8 buffer and each text's byte offsets into it."""
    import pyarrow.compute as pc

    low = pc.utf8_lower(texts)
    offsets = _offsets(low)
    data = np.frombuffer(low.buffers()[2], np.uint8) if len(low) else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def _words(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The words of texts lying end to end in ``data`` (``offsets``): their byte starts and
    lengths, in order, and each text's word count. Words are runs of bytes between Python's
    whitespace characters, never across a text's end."""
    space = _spaces(data)
    edge = np.zeros(len(data) + 1, bool)
    edge[offsets] = True
    before = np.r_[True, space[:-1]] | edge[:-1]
    after = np.r_[space[1:], True] | edge[1:]
    solid = ~space
    starts = np.flatnonzero(solid & before)
    ends = np.flatnonzero(solid & after) + 1
    counts = np.diff(np.searchsorted(starts, offsets))
    return starts, ends - starts, counts


def _word_rows(
    hashes: np.ndarray, counts: np.ndarray, size: int, short: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Word-shingle hashes of texts whose word hashes lie end to end in ``hashes``
    (``counts`` words each): (flat hashes in text order, shingles per text). ``short``: a
    text of fewer than ``size`` words gives one shingle of all of them (else none)."""
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    full = np.maximum(counts - size + 1, 0)
    per = np.where(full > 0, full, 1 if short else 0)
    out = np.empty(int(per.sum()), np.uint64)
    first = np.r_[0, np.cumsum(per)[:-1]].astype(np.int64)
    if full.any():
        n = len(hashes) - size + 1
        owner = np.repeat(np.arange(len(counts)), counts)
        pos = np.flatnonzero(owner[:n] == owner[size - 1 :])
        at = first[owner[pos]] + pos - starts[owner[pos]]
        out[at] = combine([hashes[pos + j] for j in range(size)])
    if short:
        for c in range(min(size, int(counts.max(initial=0)) + 1)):
            docs = np.flatnonzero((counts == c) & (full == 0))
            if len(docs):
                out[first[docs]] = combine([hashes[starts[docs] + j] for j in range(c)], len(docs))
    return out, per


def _normalized(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every text's words joined by single spaces: one buffer and each text's offsets."""
    first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    total = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    size = total[first + counts] - total[first] + np.maximum(counts - 1, 0)
    offsets = np.r_[0, np.cumsum(size)].astype(np.int64)
    word_at = total[:-1]
    within = np.arange(len(owner)) - first[owner]  # a word's place in its text
    new_start = offsets[owner] + word_at - total[first][owner] + within
    out = np.full(int(offsets[-1]), 32, np.uint8)
    word_of = np.repeat(np.arange(len(starts)), lengths)
    src = starts[word_of] + (np.arange(len(word_of)) - word_at[word_of])
    out[new_start[word_of] + (src - starts[word_of])] = data[src]
    return out, offsets


def _char_rows(
    data: np.ndarray, offsets: np.ndarray, size: int, short: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Character-shingle hashes of texts lying end to end in ``data`` (normalized, UTF-8):
    the bytes from a character's start to the start of the character ``size`` later."""
    starts = np.flatnonzero((data & 0xC0) != 0x80)
    counts = np.diff(np.searchsorted(starts, offsets))
    full = np.maximum(counts - size + 1, 0)
    per = np.where(full > 0, full, 1 if short else 0)
    out = np.empty(int(per.sum()), np.uint64)
    first = np.r_[0, np.cumsum(per)[:-1]].astype(np.int64)
    if full.any():
        ends = np.r_[starts, len(data)]
        n = len(starts) - size + 1
        owner = np.repeat(np.arange(len(counts)), counts)
        ok = owner[:n] == owner[size - 1 :]
        pos = np.flatnonzero(ok)
        lo = np.r_[0, np.cumsum(counts)[:-1]]
        at = first[owner[pos]] + pos - lo[owner[pos]]
        out[at] = byte_hashes(data, starts[pos], ends[pos + size] - starts[pos])
    if short:
        docs = np.flatnonzero(full == 0)
        if len(docs):
            out[first[docs]] = byte_hashes(data, offsets[docs], offsets[docs + 1] - offsets[docs])
    return out, per


def _batch(texts: Any, size: int, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(flat shingle hashes, shingles per text) of a batch of texts."""
    data, offsets = _lowered(texts)
    starts, lengths, counts = _words(data, offsets)
    if unit == "words":
        return _word_rows(byte_hashes(data, starts, lengths), counts, size)
    return _char_rows(*_normalized(data, starts, lengths, counts), size)


def _windows(text: str) -> Iterator[str]:
    """``text`` in pieces of about ``WINDOW`` characters, each cut at whitespace (no word is
    split between two pieces)."""
    start = 0
    while start < len(text):
        cut = _SPLIT_AT.search(text, start + WINDOW)
        end = cut.start() if cut else len(text)
        yield text[start:end]
        start = end


def _long(text: str, size: int, unit: str) -> np.ndarray:
    """The shingle hashes of one long text, read ``BATCH_CHARS`` characters at a time with
    the last ``size - 1`` words (or characters) carried over."""
    import pyarrow as pa

    parts: list[np.ndarray] = []
    carry = np.zeros(0, np.uint64 if unit == "words" else np.uint8)
    group: list[str] = []
    seen = False  # a word before this group

    def flush(final: bool) -> None:
        nonlocal carry, seen
        data, offsets = _lowered(pa.array(["".join(group)], pa.large_string()))
        starts, lengths, counts = _words(data, offsets)
        short = final and not any(len(p) for p in parts)  # the whole text is one shingle
        if unit == "words":
            hashes = np.concatenate([carry, byte_hashes(data, starts, lengths)])
            rows, _ = _word_rows(hashes, np.array([len(hashes)]), size, short)
            carry = hashes[max(0, len(hashes) - size + 1) :] if size > 1 else hashes[:0]
        else:
            body, _ = _normalized(data, starts, lengths, counts)
            sep = np.array([32] if seen and len(body) else [], np.uint8)
            joined = np.concatenate([carry, sep, body])
            rows, _ = _char_rows(joined, np.array([0, len(joined)]), size, short)
            chars = np.flatnonzero((joined & 0xC0) != 0x80)
            keep = chars[max(0, len(chars) - size + 1) :] if size > 1 else []
            carry = joined[keep[0] :] if len(keep) else joined[:0]
        seen = seen or len(starts) > 0
        parts.append(rows)
        group.clear()

    held = 0
    for piece in _windows(text):
        group.append(piece)
        held += len(piece)
        if held >= BATCH_CHARS:
            flush(False)
            held = 0
    flush(True)
    out = np.empty(sum(len(p) for p in parts), np.uint64)
    at = 0
    while parts:  # each part freed once copied: the peak is the result and one part
        part = parts.pop(0)
        out[at : at + len(part)] = part
        at += len(part)
    return out


def shingle_batches(
    texts: Any, size: int, unit: str
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(index of the first text, flat shingle hashes, row offsets) for consecutive runs of
    ``texts`` (a list of strings, or an Arrow array or chunked array): row ``i`` of a run is
    ``flat[offsets[i] : offsets[i + 1]]``. A text longer than ``WINDOW`` is a run alone."""
    import pyarrow.compute as pc

    base = 0
    for arr in chunks(texts):
        lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False), np.int64)
        start = 0
        while start < len(arr):
            if lengths[start] > WINDOW:
                flat = _long(arr[start].as_py(), size, unit)
                yield base + start, flat, np.array([0, len(flat)], np.int64)
                start += 1
                continue
            end, total = start, 0
            while end < len(arr) and lengths[end] <= WINDOW and total < BATCH_CHARS:
                total += int(lengths[end])
                end += 1
            flat, per = _batch(arr.slice(start, end - start), size, unit)
            yield base + start, flat, np.r_[0, np.cumsum(per)].astype(np.int64)
            start = end
        base += len(arr)


def shingles(text: str, size: int, unit: str) -> list[str]:
    """The shingles of ``text`` as strings (what the hashes are of), in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    words = pc.utf8_lower(pa.array([text or ""], pa.large_string()))[0].as_py().split()
    if unit == "words":
        if len(words) < size:
            return [" ".join(words)]
        return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    s = " ".join(words)
    return [s] if len(s) < size else [s[i : i + size] for i in range(len(s) - size + 1)]


def hash_shingle(shingle: str, unit: str) -> int:
    """The hash of one shingle string as :func:`shingles` gives it."""
    if unit == "chars":
        data = np.frombuffer(shingle.encode("utf-8", "surrogatepass"), np.uint8)
        return int(byte_hashes(data, np.array([0]), np.array([len(data)]))[0])
    words = shingle.split(" ") if shingle else []
    parts = [np.array([hash_shingle(w, "chars")], np.uint64) for w in words]
    return int(combine(parts)[0])
