"""Near-dedupe memory is bounded by its window, not by a record's length."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pytest

from framework.data import minhash

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


def test_windowed_shingles_equal_whole_text_shingles(monkeypatch):
    def whole(text: str, size: int, unit: str) -> list[str]:
        items = text.lower().split() if unit == "words" else " ".join(text.lower().split())
        if len(items) <= size:
            return [" ".join(items) if unit == "words" else items]  # type: ignore[arg-type]
        joined = " ".join if unit == "words" else "".join
        return [joined(items[i : i + size]) for i in range(len(items) - size + 1)]

    monkeypatch.setattr(minhash, "WINDOW", 7)  # windows cut words and whitespace runs
    rng = random.Random(0)
    pieces = ["a", "Bb", "ccc", "dddddddddddddddd", " ", "\n\n", "\t", "é"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        for unit in ("words", "chars"):
            for size in (1, 3, 5):
                assert minhash.shingles(text, size, unit) == whole(text, size, unit)
