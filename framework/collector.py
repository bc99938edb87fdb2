"""Python's cyclic garbage collector, paused while a command starts.

Importing torch and Lightning and composing a recipe allocate a few hundred thousand
long-lived objects (modules, functions, classes, config nodes). Each collection of the
generation they sit in walks all of them again (40-300 ms a pass on two cores) and frees
next to nothing, and the interpreter walks them once more as it exits: about 0.9 s of a
short `plait train` process. ``plait train``, ``show``, ``doctor``, ``list`` and the
commands that compose their options (``eval``, ``predict``, ``export``, ``generate``,
``compare``, ``replay``, ``diff``) pause the collector as they start. Work that is long or
whose garbage grows with the data calls :func:`resume` first: a data stage computed afresh
(its libraries' garbage grows with the corpus), the training steps, a sweep's own process.
The timed trial of ``--estimate`` runs as the run it predicts: its set-up paused (again,
after a data stage it computed), its steps not. A data stage read from the cache stays
paused (its ids become Python lists, which the collector would walk for nothing), and so
do an evaluation's or a prediction's passes over a split.

When the command is the process's own (the ``plait`` program), :func:`resume` moves what
start-up allocated to the permanent generation (``gc.freeze``), which no collection walks.
The garbage among it stays too: about 44,000 objects (config nodes a compose left, a few
MB) on a small run, against 0.4 s for the full collection that would find them.
When ``main()`` runs inside another program (the tests, a notebook) nothing is frozen,
since there the frozen objects, garbage included, would never be collected again; the
command turns collection on again as it ends.
"""

from __future__ import annotations

import gc

_paused = False
_freeze = False


def pause(own_process: bool = False) -> None:
    """Stop automatic collection until :func:`resume` (nothing when it is off already: a
    caller that turned it off keeps it off). ``own_process``: the command is this process's
    own, so :func:`resume` may freeze what start-up allocated."""
    global _paused, _freeze
    if gc.isenabled():
        gc.disable()
        _paused, _freeze = True, own_process


def resume(freeze: bool = True) -> None:
    """Turn automatic collection on again, if :func:`pause` stopped it; otherwise nothing.
    ``freeze``: freeze what is allocated so far, when the process is the command's own
    (false where start-up may have left garbage that grows with the work, such as a sweep's
    checks of every trial's config)."""
    global _paused
    if _paused:
        _paused = False
        if _freeze and freeze:
            gc.freeze()
        gc.enable()


def pause_again() -> None:
    """Pause automatic collection once more, as the command's start did, after work that
    turned it on (a data stage computed afresh): the set-up that follows then runs as a run's
    does, and :func:`resume` freezes what it allocated as it would there."""
    pause(own_process=_freeze)


def paused() -> bool:
    """Whether :func:`pause` stopped collection and nothing has resumed it yet."""
    return _paused
