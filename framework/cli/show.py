"""``plait show``: the composed, validated config and the model's size and cost, without
training. The data stage runs (or comes from the cache) so that vocabulary, classes and image
shape are the ones training will use."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from framework.cli.spine import load, stage
from framework.kinds import NAME_KEY


def show(overrides: list[str]) -> int:
    """Print the config, the per-module parameter table, FLOPs and memory; returns 0."""
    from omegaconf import OmegaConf

    loaded = load(overrides)
    cfg, registry, task = loaded.cfg, loaded.registry, loaded.task
    console = Console()

    from framework.engine import build_trained_model
    from framework.models.footprint import forward_flops, human, training_memory
    from framework.models.sizing import sized_params

    with console.status("data stage (cached after the first run) ..."):
        info = stage(loaded).prepare().info
    with console.status("building the model ..."):
        params, size_line = sized_params(registry, cfg.model, info)
        shown = OmegaConf.to_container(cfg, resolve=True)
        shown["model"] = params  # the sizes the run will use, after target_params
        model = build_trained_model(cfg, registry, info)[0]  # no loss or metrics: not shown
    console.print(Syntax(OmegaConf.to_yaml(shown), "yaml", background_color="default"))
    if size_line:
        console.print(f"[bold]{size_line}[/]")
    console.print(parameter_table(model, cfg.model[NAME_KEY], info))

    flops = forward_flops(model, info)
    per = "token" if task.unit == "tokens" else "sample"
    div = info.max_length if per == "token" else 1
    mem = training_memory(model, cfg.trainer.precision, cfg.optimizer[NAME_KEY])
    cost = Table(title="cost", title_justify="left", show_header=False)
    cost.add_row(f"forward FLOPs per {per}", human(flops / div))
    cost.add_row(f"training FLOPs per {per} (forward + backward ~ 3x)", human(3 * flops / div))
    batch = cfg.trainer.batch_size * cfg.trainer.accumulate
    cost.add_row(f"training FLOPs per step ({batch} examples)", human(3 * flops * batch))
    cost.add_row(f"weights ({cfg.trainer.precision})", human(mem.weights, "B"))
    cost.add_row("gradients", human(mem.gradients, "B"))
    cost.add_row(f"optimizer state ({mem.optimizer_note})", human(mem.optimizer, "B"))
    cost.add_row("[bold]total, before activations[/]", f"[bold]{human(mem.total, 'B')}[/]")
    console.print(cost)
    return 0


def parameter_table(model: Any, name: str, info: Any) -> Table:
    """Parameters per top-level module that has any (tied weights counted once), total and
    trainable."""
    from framework.models.sizing import count_params

    shape = (
        f"images {'x'.join(map(str, info.image_shape))}"
        if info.image_shape
        else f"vocabulary {info.vocab_size:,}, {info.max_length} tokens per example"
    )
    head = {"tokens": "next-token head"}.get(info.target, f"{info.num_outputs}-output head")
    table = Table(title=f"model '{name}' ({shape}; {head})", title_justify="left")
    table.add_column("module")
    table.add_column("parameters", justify="right")
    seen: set[int] = set()
    for child_name, child in model.named_children():
        own = [p for p in child.parameters() if id(p) not in seen]
        shared = sum(1 for p in child.parameters() if id(p) in seen)
        seen.update(id(p) for p in own)
        if not own and not shared:
            continue  # activations, pooling, dropout
        note = " (+ tied weights counted above)" if shared else ""
        label = f"{child_name} ({type(child).__name__})" if child_name.isdigit() else child_name
        table.add_row(label, f"{sum(p.numel() for p in own):,}{note}")
    trainable = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values()
                    if p.requires_grad)  # fmt: skip
    table.add_row("[bold]total[/]", f"[bold]{count_params(model):,}[/]")
    table.add_row("trainable", f"{trainable:,}")
    return table
