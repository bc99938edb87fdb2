"""``plait list [KIND]``: every component with provider, parameters, defaults and doc."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from framework.errors import PlaitError, did_you_mean
from framework.kinds import KINDS
from framework.registry import Registry, default_registry

LITERAL = re.compile(r"``([^`]+)``")
"""reST inline literals of docstrings (``data.max_length``)."""


def _terminal(text: str) -> str:
    """A docstring line for rich: markup escaped, reST literals in bold."""
    return LITERAL.sub(r"[bold]\1[/bold]", escape(text))


def _markdown(text: str) -> str:
    """A docstring line for Markdown: reST literals as code spans."""
    return LITERAL.sub(r"`\1`", text)


def list_components(kind: str | None, markdown: bool = False, provider: str | None = None) -> int:
    """Print the registry as tables (or as the Markdown config reference), all of it or the
    components of one kind or one provider; returns 0."""
    if kind is not None and kind not in KINDS and kind != RECIPE:
        raise PlaitError(f"unknown kind '{kind}'; {did_you_mean(kind, [*KINDS, RECIPE])}")
    registry = default_registry()
    if provider is not None and provider not in registry.providers:
        dists = {d[0]: p for p, d in registry.distributions.items()}
        if provider in dists:  # the distribution's name (plait-example) for its provider
            provider = dists[provider]
        elif provider in registry.broken:
            raise PlaitError(registry.broken[provider])
        else:
            raise PlaitError(f"unknown provider '{provider}'; "
                             f"{did_you_mean(provider, registry.providers)}")  # fmt: skip
    if markdown:
        print(reference_markdown(registry, kind), end="")
        return 0
    from framework.components.presets import yaml_presets

    console = Console()
    shipped = _shipped_by(registry, provider)
    presets = [p for p in yaml_presets() if shipped in (None, p.provider)]
    if kind == RECIPE:
        _print_presets(console, presets, RECIPE, "recipes (recipe=NAME): complete experiments")
        return 0
    for k in [kind] if kind else registry.kinds():
        comps = [c for c in registry.components(k) if provider in (None, c.provider)]
        if provider is not None and not comps:
            continue
        spec = KINDS[k]
        table = Table(
            title=f"{k}  ({spec.group}=NAME{', several' if spec.multi else ''}): {spec.doc}",
            title_justify="left",
            expand=False,
            show_lines=kind is not None,
        )
        # fold, never crop: every parameter and description whole in a terminal or a pipe
        table.add_column("name", style="bold cyan", overflow="fold")
        table.add_column("provider", style="magenta", overflow="fold")
        table.add_column("parameters (default)", overflow="fold")
        table.add_column("capabilities", overflow="fold")
        table.add_column("description", overflow="fold")
        for comp in comps:
            if kind is None:
                params = escape(", ".join(f"{p.name}={p.default!r}" for p in comp.params()))
            else:
                params = "\n".join(
                    escape(f"{p.name}: {p.type} = {p.default!r}")
                    + (f"\n  {_terminal(p.doc)}" if p.doc else "")
                    for p in comp.params()
                )
            table.add_row(
                comp.name,
                registry.provider_label(comp.provider),
                params or "-",
                comp.contract.describe() or "-",
                _terminal(comp.doc),
            )
        if not table.row_count:
            table.add_row("-", "-", "-", "-", "(none registered yet)")
        if comps or provider is None:
            console.print(table)
        _print_presets(console, presets, spec.group, f"{k} presets ({spec.group}=NAME, YAML)")
    if kind is None:
        _print_presets(console, presets, RECIPE, "recipes (recipe=NAME): complete experiments")
    return 0


RECIPE = "recipe"
"""``plait list recipe``: the recipes, which are YAML options, not a kind of component."""


def _shipped_by(registry: Registry, provider: str | None) -> str | None:
    """The label :func:`framework.components.presets.yaml_presets` gives ``provider``'s YAML."""
    if provider is None:
        return None
    if provider == "plait":
        return "plait"
    name, version = registry.distributions.get(provider, (provider, ""))
    return f"{name} {version}".strip()


def _print_presets(console: Console, presets: list[Any], group: str, title: str) -> None:
    """A table of the YAML options of ``group``: name, provider, what it extends, its whole
    description."""
    shown = [p for p in presets if p.group == group]
    if not shown:
        return
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("name", style="bold cyan", overflow="fold")
    table.add_column("provider", style="magenta", overflow="fold")
    table.add_column("extends", overflow="fold")
    table.add_column("description", overflow="fold")
    for p in shown:
        doc, extends = p.described()
        table.add_row(p.name, p.provider, extends or "-", _terminal(doc) or "-")
    console.print(table)


def reference_markdown(registry: Registry, kind: str | None = None) -> str:
    """The config reference (docs/reference.md), generated from the registry."""
    lines = [
        "# Config reference",
        "",
        "Generated by `plait list --markdown` from the registry; do not edit by hand.",
        "Select an option with `GROUP=NAME` (several: `GROUP=[a,b]`), set a parameter with",
        "`GROUP.PARAM=VALUE`.",
        "",
    ]
    for k in [kind] if kind else registry.kinds():
        spec = KINDS[k]
        several = " (select several)" if spec.multi else ""
        lines += [
            f"## {k}: `{spec.group}`{several}",
            "",
            spec.doc[:1].upper() + spec.doc[1:] + ".",
            "",
        ]
        comps = list(registry.components(k))
        if not comps:
            lines += ["No built-in option yet.", ""]
        for comp in comps:
            lines += [
                f"### `{spec.group}={comp.name}`",
                "",
                f"{_markdown(comp.doc)} (provider: {comp.provider})",
                "",
            ]
            if comp.contract.describe():
                lines += [f"Capabilities: {comp.contract.describe()}.", ""]
            params = comp.params()
            if params:
                lines += ["| parameter | type | default | description |", "|---|---|---|---|"]
                for p in params:
                    typ = p.type.replace("|", "\\|")
                    lines.append(f"| `{p.name}` | {typ} | `{p.default!r}` | {_markdown(p.doc)} |")
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"
