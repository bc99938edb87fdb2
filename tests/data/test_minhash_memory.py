"""Near-dedupe memory is bounded by its window, not by a record's length."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pytest

from framework.data import shingles

PEAK = textwrap.dedent(
    """
    import random, resource, sys
    import datasets
    from framework.data import curate
    from framework.data.sources.files import text_files
    from framework.data.steps import StepContext

    size = int(sys.argv[2])
    random.seed(0)
    vocab = ["".join(random.choice("abcdefghij") for _ in range(random.randint(2, 9)))
             for _ in range(20000)]
    with open(sys.argv[1], "w") as f:
        while f.tell() < size:
            f.write(" ".join(random.choices(vocab, k=10000)) + "\\n")
    ds = text_files(paths=[sys.argv[1]])
    ds = datasets.concatenate_datasets([ds, ds])  # the second copy is a duplicate
    out = curate.dedupe_minhash()(ds, StepContext(name="dedupe_minhash"))
    print(len(ds["text"][0]), len(out), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def _peak(tmp_path, size: int) -> tuple[int, int, int]:
    path = tmp_path / f"big_{size}.txt"
    out = subprocess.check_output([sys.executable, "-c", PEAK, str(path), str(size)], text=True)
    chars, kept, kib = (int(v) for v in out.split())
    return chars, kept, kib * 1024


@pytest.mark.slow  # 25 s: two 40 MB records hashed twice
def test_one_40mb_record_stays_under_1gb_and_does_not_grow_with_its_length(tmp_path):
    chars, kept, big = _peak(tmp_path, 40_000_000)
    assert chars >= 40_000_000 and kept == 1  # one record read, its copy removed
    assert big < 1 << 30
    _, _, small = _peak(tmp_path, 4_000_000)
    # ten times the text costs its own bytes (held a few times by arrow and Python), not
    # the hashing temporaries a whole-record computation needed (several GB)
    assert big - small < 400 << 20


def _rows(texts, size, unit):
    out = []
    for _first, flat, offsets in shingles.shingle_batches(texts, size, unit):
        out.extend(flat[offsets[i] : offsets[i + 1]].tolist() for i in range(len(offsets) - 1))
    return out


TRICKY = ["a", "Bb", "ccc", "dddddddddddddddd", " ", "\n\n", "\t", "é", "\xa0", "\x85\x85",
          "\u3000", "\x1c", "İ", "ΣΣ", "😀x"]  # fmt: skip


@pytest.mark.parametrize("window", [None, 7])
def test_batched_shingle_hashes_equal_the_hashes_of_the_shingle_strings(monkeypatch, window):
    """The vectorized path (a batch of texts, or a long text in windows carried across)
    hashes exactly the shingles :func:`shingles` lists, whitespace as Python's."""
    if window:  # every text is long: windows cut words and whitespace runs, groups of 11
        monkeypatch.setattr(shingles, "WINDOW", window)
        monkeypatch.setattr(shingles, "BATCH_CHARS", 11)
    rng = random.Random(0)
    texts = ["".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    texts += ["", None, "one", "two words"]
    for unit in ("words", "chars"):
        for size in (1, 3, 5):
            want = [[shingles.hash_shingle(s, unit) for s in shingles.shingles(t, size, unit)]
                    for t in texts]  # fmt: skip
            assert _rows(texts, size, unit) == want


def test_shingle_strings_split_as_python_does():
    text = "Alpha\u3000beta\xa0\xa0Gamma\x1cdelta\n\tepsilon "
    assert shingles.shingles(text, 2, "words") == [
        "alpha beta", "beta gamma", "gamma delta", "delta epsilon"
    ]  # fmt: skip
    assert shingles.shingles("A  b", 3, "chars") == ["a b"]
    assert shingles.shingles("ab", 3, "chars") == ["ab"]
    assert shingles.shingles("", 3, "words") == [""]
