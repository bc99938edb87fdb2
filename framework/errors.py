"""The one error type users see, and helpers to phrase it well."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PlaitError(Exception):
    """A user-facing error: one line that says what is wrong, where, and the fix.

    The CLI prints it as ``plait: error: <message>`` and exits with status 2. Raise it for
    bad recipes, overrides and data; let programming errors raise as they are.
    """

    exit_code = 2


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return ``"did you mean 'x'?"`` for the nearest known name, or the list of known names."""
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if not known:
        return "none are available"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"known: {shown}"


def install_hint(what: str, line: str) -> PlaitError:
    """The error for a component whose package is missing: the exact install line."""
    return PlaitError(f"{what} is not installed here; install it with: {line}")


def fail(exc: PlaitError) -> int:
    """Print ``plait: error: ...`` on one line to stderr; return exit status 2."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, soft_wrap=True).print(
        Text("plait: error: ", style="bold red") + Text(str(exc))
    )
    return exc.exit_code


LIBRARIES = (
    "torch",
    "lightning",
    "lightning_fabric",
    "omegaconf",
    "hydra",
    "pyarrow",
    "datasets",
    "tokenizers",
    "transformers",
    "torchmetrics",
    "albumentations",
)
"""Libraries whose exceptions are the user's input gone wrong, said in one line."""


def library_error(exc: BaseException) -> PlaitError | None:
    """A library's exception raised from inside that library, as one line naming the library
    and what it said; None for anything else (a bug in Plait keeps its traceback)."""
    import os
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    parts = os.path.normpath(frames[-1].filename).split(os.sep)
    found = [lib for lib in LIBRARIES if lib in parts]
    if not found:
        return None
    said = " ".join(str(exc).split())[:300] or type(exc).__name__
    return PlaitError(
        f"{found[0]} stopped the run: {type(exc).__name__}: {said}; check the config values "
        "and data this step uses (--verbose shows the traceback)"
    )
