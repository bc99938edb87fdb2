"""Built-in sources of plain text for language modelling.

Each builder returns a ``datasets.Dataset`` with a ``text`` column (one row per document)
and a ``path`` column saying where the row came from.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import sysconfig
from pathlib import Path
from typing import Any

from framework.errors import PlaitError


def _dataset(texts: list[str], paths: list[str], where: str) -> Any:
    import datasets

    if not texts:
        raise PlaitError(f"{where}: the corpus is empty (no non-empty document); check the path")
    return datasets.Dataset.from_dict({"text": texts, "path": paths})


def _read_text(path: Path, encoding: str, errors: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlaitError(
            f"{path}:{line}: bytes that are not {encoding} ({exc.reason}); "
            "set data.source.errors=replace to replace them, or fix the file"
        ) from None


def _collect(paths: list[str], where: str) -> list[Path]:
    found: list[Path] = []
    for pattern in paths:
        hits = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        files = [Path(h) for h in hits if Path(h).is_file()]
        if not files:
            raise PlaitError(
                f"{where}: no file matches '{pattern}'; check the path "
                "(globs such as 'corpus/**/*.txt' are allowed)"
            )
        found.extend(files)
    return found


def text_files(
    paths: list[str] = [],  # noqa: B006 - copied into the schema, never mutated
    encoding: str = "utf-8",
    errors: str = "strict",
    max_chars: int | None = None,
) -> Any:
    """Local text files, one document per file.

    Args:
        paths: File paths or glob patterns (``**`` recurses); at least one.
        encoding: Text encoding of the files.
        errors: What to do with undecodable bytes: ``strict`` (stop with file:line) or ``replace``.
        max_chars: Stop reading once this many characters are collected (None: read all).
    """
    if not paths:
        raise PlaitError("data.source.paths is empty; set data.source.paths=[corpus/*.txt]")
    if errors not in ("strict", "replace"):
        raise PlaitError(f"data.source.errors must be 'strict' or 'replace', not '{errors}'")
    texts, names, total = [], [], 0
    for path in _collect(paths, "data.source.paths"):
        text = _read_text(path, encoding, errors)
        if not text.strip():
            continue
        texts.append(text)
        names.append(str(path))
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    return _dataset(texts, names, f"data.source.paths={paths}")


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
    ],
    max_chars: int | None = None,
) -> Any:
    """The CPython standard library source on this machine: real code, no download.

    Args:
        include: Glob patterns, relative to the stdlib folder, of files to read.
        exclude: Glob patterns of files to skip (tests, IDLE, installed packages, codec tables).
        max_chars: Stop once this many characters are collected (None: all, 10 to 30 MB);
            files are taken in an order fixed by a hash of their path, so that a slice
            samples the whole library rather than its first packages alphabetically.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    files: set[Path] = set()
    for pattern in include:
        files.update(p for p in root.glob(pattern) if p.is_file())
    texts, names, total = [], [], 0
    ordered = sorted(
        files, key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest()
    )
    for path in ordered:
        if any(fnmatch.fnmatch(path.relative_to(root).as_posix(), pat) for pat in exclude):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            continue
        texts.append(text)
        names.append(str(path.relative_to(root)))
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    return _dataset(texts, names, f"python_stdlib at {root}")


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
        raise PlaitError("source 'wikipedia_sample' needs gensim: pip install gensim") from None
    import bz2

    dump = (
        Path(gensim.__file__).parent
        / "test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    )
    if not dump.exists():
        raise PlaitError(
            f"gensim's Wikipedia sample is missing at {dump}; pip install --force-reinstall gensim"
        )
    texts, names, total = [], [], 0
    with bz2.open(dump) as fh:
        for title, raw, _pageid in extract_pages(fh, filter_namespaces=("0",)):
            plain = filter_wiki(raw).replace("'''", "").replace("''", "")
            text = "\n".join(line.strip() for line in plain.splitlines() if line.strip())
            if len(text) < min_chars:
                continue
            texts.append(f"{title}\n\n{text}")
            names.append(title)
            total += len(text)
            if max_chars is not None and total >= max_chars:
                break
    return _dataset(texts, names, "wikipedia_sample")
