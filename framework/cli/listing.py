"""``plait list [KIND]``: every component with provider, parameters, defaults and doc."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from framework.errors import PlaitError, did_you_mean
from framework.registry import KINDS, default_registry


def list_components(kind: str | None) -> int:
    """Print the registry as tables; returns the exit status."""
    if kind is not None and kind not in KINDS:
        raise PlaitError(f"unknown kind '{kind}'; {did_you_mean(kind, KINDS)}")
    registry = default_registry()
    console = Console()
    for k in [kind] if kind else registry.kinds():
        spec = KINDS[k]
        table = Table(
            title=f"{k}  ({spec.group}=NAME{', several' if spec.multi else ''}): {spec.doc}",
            title_justify="left",
            expand=False,
            show_lines=kind is not None,
        )
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("provider", style="magenta")
        table.add_column("parameters (default)")
        table.add_column("description")
        for comp in registry.components(k):
            if kind is None:
                params = ", ".join(f"{p.name}={p.default!r}" for p in comp.params())
            else:
                params = "\n".join(
                    f"{p.name}: {p.type} = {p.default!r}" + (f"\n  {p.doc}" if p.doc else "")
                    for p in comp.params()
                )
            table.add_row(comp.name, comp.provider, escape(params) or "-", escape(comp.doc))
        if not table.row_count:
            table.add_row("-", "-", "-", "(none registered yet)")
        console.print(table)
    return 0
