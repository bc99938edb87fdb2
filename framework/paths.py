"""Where Plait keeps what it can rebuild: one root, ``$PLAIT_CACHE`` or ``~/.cache/plait``."""

from __future__ import annotations

import os
from pathlib import Path


def plait_cache(part: str) -> Path:
    """``$PLAIT_CACHE/<part>`` or ``~/.cache/plait/<part>`` (``data``, ``models``,
    ``model_facts``, ``web``, ``nltk_data``)."""
    base = os.environ.get("PLAIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "plait")
    return Path(base) / part
