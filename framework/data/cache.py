"""The data cache: the output of the data stage saved under a fingerprint of everything that
shapes it (data config, source files' sizes and times, Plait's version and data format), so
a second run with the same data config does no data work."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.data.artifacts import Tables
from framework.data.audit import DataReport
from framework.data.lineage import FILE as LINEAGE
from framework.paths import plait_cache

FORMAT = 2
"""Version of the cache layout and of the data stage's semantics; bump to invalidate (2: an
entry holds the stage's ``lineage.parquet``)."""
NOT_SHAPING = {
    "num_proc", "cache", "engine", "text_augment", "synonyms", "augment", "image_augment",
    "lineage",
}  # fmt: skip
"""Data config keys that do not change the data stage's output."""


def cache_root() -> Path:
    """``$PLAIT_CACHE/data`` or ``~/.cache/plait/data``."""
    return plait_cache("data")


def _file_stats(value: Any, out: list[tuple[str, int, int]]) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _file_stats(v, out)
    elif isinstance(value, list):
        for v in value:
            _file_stats(v, out)
    elif isinstance(value, str) and value and len(out) < 100_000:
        for hit in glob.glob(os.path.expanduser(value), recursive=True)[:100_000]:
            p = Path(hit)
            files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
            for f in files:
                st = f.stat()
                out.append((str(f), st.st_size, st.st_mtime_ns))


def source_files(declared: Sequence[str]) -> list[tuple[str, int, int]]:
    """(path, size, modification time in ns) of every file ``declared`` names (folders
    walked, globs expanded, ``~`` expanded)."""
    stats: list[tuple[str, int, int]] = []
    _file_stats(list(declared), stats)
    return stats


def fingerprint(
    data_cfg: dict[str, Any], task: str, packed: bool, files: Sequence[str] = ()
) -> str:
    """A hash of the data config, the task's tokenization mode and the size and time of every
    file in ``files`` (the source's declared files, folders walked, globs expanded)."""
    shaping = {k: v for k, v in data_cfg.items() if k not in NOT_SHAPING}
    stats = source_files(files)
    payload = {
        "format": FORMAT,
        "plait": _version(),
        "data": shaping,
        "task": task,
        "packed": packed,
        "python": sys.version_info[:2],
        "files": stats,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("plait")
    except PackageNotFoundError:
        return "source"


def lookup(fp: str) -> Tables | None:
    """The cached tables for ``fp`` (the report marked as a hit), or None."""
    hit = load(fp)
    if hit is None:
        return None
    report = DataReport.load(hit["folder"] / "report.json")
    report.cache = "hit"
    meta = hit["meta"]
    lineage = hit["folder"] / LINEAGE
    return Tables(
        hit["splits"], hit["tokenizer"], report, meta.get("labels"), meta.get("class_weights"),
        lineage if lineage.is_file() else None,
    )  # fmt: skip


def store(fp: str, tables: Tables) -> None:
    """Save ``tables`` under ``fp`` (the report marked as a miss)."""
    tables.report.cache = "miss"
    meta = {"labels": tables.labels, "class_weights": tables.class_weights}
    save(fp, tables.splits, tables.tokenizer, meta, tables.lineage)
    tables.report.save(cache_root() / fp / "report.json")
    if tables.lineage is not None and (cache_root() / fp / LINEAGE).is_file():
        tables.lineage = cache_root() / fp / LINEAGE


def load(fp: str) -> dict[str, Any] | None:
    """The cached stage for ``fp`` (splits, tokenizer, meta), or None (also when a split it
    refers to has lost a file)."""
    folder = cache_root() / fp
    if not (folder / "meta.json").is_file():
        return None
    import datasets

    from framework.data.tokenizers import TextTokenizer

    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    linked = meta.get("linked") or {}
    root = plait_cache(".")
    if any(not (root / f).is_file() for files in linked.values() for f in files):
        shutil.rmtree(folder, ignore_errors=True)  # its shards are gone: stored again anew
        return None
    splits = {
        name: _mapped([root / f for f in linked[name]]) if name in linked
        else datasets.load_from_disk(str(folder / "splits" / name))
        for name in meta["splits"]
    }  # fmt: skip
    tok_path = folder / "tokenizer.json"
    tokenizer = TextTokenizer.load(tok_path) if tok_path.is_file() else None
    if tokenizer is not None:
        tokenizer.add_special_tokens = meta.get("add_special_tokens", False)
    return {"splits": splits, "tokenizer": tokenizer, "meta": meta, "folder": folder}


def linked_files(ds: Any) -> list[str] | None:
    """The files of a split that is a memory-mapped concatenation of Arrow files inside
    Plait's cache (the Ray engine's token shards), relative to the cache's root: stored by
    reference, not copied. None for any other split."""
    root = plait_cache(".").resolve()
    files = [Path(f["filename"]).resolve() for f in ds.cache_files]
    if not files or ds._indices is not None:  # in memory, or read through an index
        return None
    if any(root not in f.parents for f in files):
        return None
    return [str(f.relative_to(root)) for f in files]


def _mapped(paths: list[Path]) -> Any:
    """One dataset over Arrow files, memory-mapped, in order."""
    import datasets

    parts = [datasets.Dataset.from_file(str(p)) for p in paths]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def save(
    fp: str, splits: dict[str, Any], tokenizer: Any, meta: dict[str, Any], lineage: Any = None
) -> None:
    """Write the stage atomically (a temporary folder renamed into place). Splits already
    stored as files in Plait's cache are referred to by their paths; ``lineage``: the stage's
    ``lineage.parquet``, moved in."""
    root = cache_root()
    tmp = root / f".{fp}.{uuid.uuid4().hex[:8]}"
    (tmp / "splits").mkdir(parents=True)
    linked: dict[str, list[str]] = {}
    try:
        for name, ds in splits.items():
            files = linked_files(ds)
            if files is not None:
                linked[name] = files
            else:
                ds.save_to_disk(str(tmp / "splits" / name))
        meta = {**meta, "linked": linked}
        if lineage is not None:
            shutil.move(str(lineage), tmp / LINEAGE)
            shutil.rmtree(Path(lineage).parent, ignore_errors=True)
        if tokenizer is not None:
            tokenizer.save(tmp / "tokenizer.json")
            meta = {**meta, "add_special_tokens": tokenizer.add_special_tokens}
        (tmp / "meta.json").write_text(json.dumps({**meta, "splits": list(splits)}), "utf-8")
        final = root / fp
        if (final / "meta.json").is_file():  # another process stored the same tables
            return
        if final.exists():  # a broken entry
            shutil.rmtree(final, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "meta.json").is_file():  # not a concurrent store of the same
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_info(fp: str, key: str) -> dict[str, Any] | None:
    """The DataInfo a task of ``key`` derived from the tables under ``fp``, if stored."""
    path = cache_root() / fp / f"info-{key}.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def write_info(fp: str, key: str, info: dict[str, Any]) -> None:
    """Store a task's DataInfo beside the tables it came from, once (nothing if they are
    gone)."""
    folder = cache_root() / fp
    if folder.is_dir() and not (folder / f"info-{key}.json").is_file():
        tmp = folder / f".info-{key}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(info), "utf-8")
        tmp.rename(folder / f"info-{key}.json")
