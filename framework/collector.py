"""Python's cyclic garbage collector, paused while a short command starts.

Importing torch and composing a recipe allocate a few hundred thousand long-lived objects
(modules, functions, classes, config nodes). Each full collection walks all of them again
(40-80 ms a pass on two cores) and frees next to nothing. ``plait show``, ``plait doctor``
and ``plait list`` pause the collector as they start. Work that grows with the data (a data
stage computed afresh or read from the cache, the timed trial of ``--estimate``) calls
:func:`resume` first, and the command turns collection on again as it ends, since
``main()`` also runs inside other programs (the tests, a notebook). Nothing is frozen
(``gc.freeze``): in such a program the frozen objects, garbage included, would never be
collected again.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collection until :func:`resume` (nothing when it is off already: a
    caller that turned it off keeps it off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn automatic collection on again, if :func:`pause` stopped it; otherwise nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def paused() -> bool:
    """Whether :func:`pause` stopped collection and nothing has resumed it yet."""
    return _paused
