"""``plait show``: the composed, validated config and the model's size, without training."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from framework.config.compose import compose
from framework.config.validate import validate
from framework.registry import default_registry


def show(overrides: list[str]) -> int:
    """Print the config and parameter counts; returns the exit status."""
    from omegaconf import OmegaConf

    registry = default_registry()
    cfg = compose(registry, overrides)
    validate(cfg, registry)
    console = Console()
    console.print(Syntax(OmegaConf.to_yaml(cfg, resolve=True), "yaml", background_color="default"))

    from framework.data.pipeline import estimate_info

    info = estimate_info(cfg.data, registry)
    # built for real on the CPU: initializing on the meta device pulls in torch._dynamo (+1.2 s)
    model = registry.build("model", cfg.model, info=info)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    table = Table(
        title=f"model '{cfg.model._name_}' (vocabulary <= {info.vocab_size}, "
        f"{info.max_length} tokens per example)",
        title_justify="left",
    )
    table.add_column("module")
    table.add_column("parameters", justify="right")
    seen: set[int] = set()
    for name, child in model.named_children():
        own = [p for p in child.parameters() if id(p) not in seen]
        shared = sum(1 for p in child.parameters() if id(p) in seen)
        seen.update(id(p) for p in own)
        note = " (+ tied weights counted above)" if shared else ""
        table.add_row(name, f"{sum(p.numel() for p in own):,}{note}")
    table.add_row("[bold]total[/]", f"[bold]{total:,}[/]")
    table.add_row("trainable", f"{trainable:,}")
    console.print(table)
    return 0
