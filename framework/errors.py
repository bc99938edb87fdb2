"""The one error type users see, and helpers to phrase it well."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

PLUGIN_MODULES: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {}
"""Top-level module of each third-party provider's code -> (its label, [(kind, name,
builder module, builder qualname)]), filled as plugins register: how a failure at run time
is traced back to the plugin and component (:func:`plugin_error`)."""


class PlaitError(Exception):
    """A user-facing error: one line that says what is wrong, where, and the fix.

    The CLI prints it as ``plait: error: <message>`` and exits with status 2. Raise it for
    bad recipes, overrides and data; let programming errors raise as they are.
    """

    exit_code = 2


class PluginError(PlaitError):
    """The error a plugin raises for its own bad input (a value its component cannot use, a
    file it cannot read): one line that says what is wrong and the fix. Plait prints it as
    ``plait: error: plugin NAME (DIST VERSION), KIND 'COMPONENT': <message>`` and exits 2;
    any other exception raised inside a plugin's code ends the same way, with its type."""


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


def plugin_error(exc: BaseException) -> PlaitError | None:
    """An exception raised inside a third-party plugin's code, as one line naming the plugin
    (distribution and version) and its component; None when no plugin code was running."""
    if not PLUGIN_MODULES:
        return None
    found, owner = None, None
    tb = exc.__traceback__
    while tb is not None:  # the deepest frame of plugin code, and of a component's builder
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        top = module.split(".", 1)[0]
        if top in PLUGIN_MODULES:
            code = tb.tb_frame.f_code
            found = (module, code, tb.tb_lineno)
            name = getattr(code, "co_qualname", code.co_name)
            for kind, comp, where, builder in PLUGIN_MODULES[top][1]:
                if where == module and (name == builder or name.startswith(f"{builder}.<")):
                    owner = (kind, comp)
        tb = tb.tb_next
    if found is None:
        return None
    module, code, line = found
    label, components = PLUGIN_MODULES[module.split(".", 1)[0]]
    mine = [owner] if owner else [(k, n) for k, n, m, _ in components if m == module]
    mine = mine or [(k, n) for k, n, _, _ in components]
    what = (
        f"{mine[0][0]} '{mine[0][1]}'" if len(mine) == 1
        else "one of " + ", ".join(f"{k} '{n}'" for k, n in mine[:4])
        + (", ..." if len(mine) > 4 else "")
    )  # fmt: skip
    said = " ".join(str(exc).split())[:300]
    if isinstance(exc, PluginError):
        return PlaitError(f"plugin {label}, {what}: {said}")
    where = f"{module}:{line} in {getattr(code, 'co_qualname', code.co_name)}"
    return PlaitError(
        f"plugin {label} failed in its {what} ({where}): {type(exc).__name__}: "
        f"{said or type(exc).__name__}; leave it out of the recipe, or report it to the "
        "plugin's authors (--verbose shows the traceback)"
    )


def explain(exc: BaseException) -> PlaitError | None:
    """An exception as the one line a user sees: Plait's own PlaitError as it is, a plugin's
    failure (naming the plugin and component) or a library's (naming the library); None for
    a bug in Plait itself, which keeps its traceback."""
    if isinstance(exc, PluginError):
        return plugin_error(exc) or exc
    if isinstance(exc, PlaitError):
        return exc
    return plugin_error(exc) or library_error(exc)
