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
