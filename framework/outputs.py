"""Where a command writes, checked before any work: a folder or file that cannot be written is
one line, and nothing a user made is replaced unless they say ``overwrite=true``.

A folder Plait wrote holds ``.plait-output``, the list of the files it wrote there; a folder
holding any other file (a user's, or a run dir's own) is refused. A command's default folder
(``<run>/eval``, ``<run>/export_hf``) is Plait's by its place and needs no list.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from framework.errors import PlaitError
from framework.rundir import RUN_MARKS

MARK = ".plait-output"
"""The file, in a folder Plait wrote, listing the files it wrote there."""


def _nearest_existing(path: Path) -> Path:
    found = path.absolute()
    while not found.exists() and found != found.parent:
        found = found.parent
    return found


def _make(folder: Path, key: str, shown: Path) -> None:
    """``folder`` made (with its parents), or one line saying why it cannot be."""
    existing = _nearest_existing(folder)
    way_out = f"set {key}= to a place you can write"
    if not existing.is_dir():
        raise PlaitError(
            f"cannot write {key}={shown}: {existing} is a file, not a folder; {way_out}"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PlaitError(f"cannot write {key}={shown}: {existing} is read-only here; {way_out}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlaitError(f"cannot write {key}={shown}: {exc.strerror or exc}; {way_out}") from None


def written_by_plait(folder: Path) -> set[str]:
    """The files ``.plait-output`` lists in ``folder`` (empty when there is none)."""
    try:
        listed = json.loads((folder / MARK).read_text("utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in listed}


@dataclass
class Output:
    """A folder a command may write into."""

    path: Path
    """The folder (made)."""
    foreign: set[str]
    """What it held that Plait did not write there (kept, and never listed as Plait's)."""

    def seal(self, command: str) -> None:
        """Write ``.plait-output``: every file now in the folder but the foreign ones."""
        names = sorted(p.name for p in self.path.iterdir()
                       if p.name != MARK and p.name not in self.foreign)  # fmt: skip
        body = {"command": command, "files": names}
        (self.path / MARK).write_text(json.dumps(body, indent=1) + "\n", "utf-8")


def output_folder(path: str | Path, key: str, overwrite: bool, default: bool = False) -> Output:
    """Check, and make, the folder a command writes into. Refused unless ``overwrite``: a
    folder holding files Plait did not write there (a run dir's own files included).
    ``default``: the command's own folder inside a run dir, Plait's by its place."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise PlaitError(f"{key}={folder} is a file; give a folder ({key}=DIR)")
    foreign: set[str] = set()
    if folder.is_dir() and not default:
        ours = written_by_plait(folder)
        foreign = {p.name for p in folder.iterdir() if p.name != MARK and p.name not in ours}
    if foreign and not overwrite:
        names = sorted(foreign)
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        run_dir = any(n in foreign for n in RUN_MARKS)
        what = "it is a run dir, and these are its own files" if run_dir else "not Plait's"
        raise PlaitError(
            f"{key}={folder} holds {shown} ({what}); give a new folder, or add "
            "overwrite=true to write beside them"
        )
    _make(folder, key, folder)
    return Output(folder, foreign)


PREDICTIONS_SUFFIXES = (".predictions.csv", ".predictions.jsonl")
"""Names ``plait predict`` gives its files by default (it may write them again)."""


def output_file(path: str | Path, key: str, overwrite: bool, inputs: tuple[Path, ...]) -> Path:
    """Check the file a command writes (its folder made): refused unless ``overwrite`` when it
    is one of ``inputs`` or an existing file Plait did not name."""
    out = Path(path)
    if out.is_dir():
        raise PlaitError(f"{key}={out} is a folder; give a file name ({key}=FILE.csv)")
    if not overwrite:
        for given in inputs:
            if out.exists() and given.exists() and out.resolve() == given.resolve():
                raise PlaitError(
                    f"{key}={out} is the input file, which this would replace; give another "
                    f"{key}, leave it out (a file beside the input), or add overwrite=true"
                )
        if out.exists() and not out.name.endswith(PREDICTIONS_SUFFIXES):
            raise PlaitError(
                f"{key}={out} exists and Plait did not write it; give a new file, or add "
                "overwrite=true to replace it"
            )
    _make(out.parent, key, out)
    return out
