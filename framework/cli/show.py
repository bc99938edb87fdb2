"""``plait show``: the composed, validated config and the model's size and cost, without
training. The data stage runs (or comes from the cache) so that vocabulary, classes and image
shape are the ones training will use."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from framework.cli.spine import load, stage
from framework.kinds import NAME_KEY, builder_node
from framework.models.facts import ModelFacts


def show(overrides: list[str], estimate: bool = False) -> int:
    """Print the config, the per-module parameter table, FLOPs and memory, and with
    ``estimate`` the predicted time of the run from a timed trial; returns 0."""
    from omegaconf import OmegaConf

    from framework.finetune.param_groups import LrScales
    from framework.models.facts import cached_model_facts

    loaded = load(overrides)
    cfg, registry, task = loaded.cfg, loaded.registry, loaded.task
    console = Console()
    timer = Timer(loaded if estimate else None)
    with console.status("data stage (cached after the first run) ..."), timer.data():
        info = stage(loaded).info()
    with console.status("building the model (measured once, then cached) ..."), timer.other():
        facts = cached_model_facts(cfg, registry, info)
    shown = OmegaConf.to_container(cfg, resolve=True)
    shown["model"] = facts.params  # the sizes the run will use, after target_params
    console.print(Syntax(OmegaConf.to_yaml(shown), "yaml", background_color="default"))
    if facts.size_line:
        console.print(f"[bold]{facts.size_line}[/]")
    console.print(Text(facts.title))  # a line of its own: a table's title wraps to its width
    console.print(parameter_table(facts))
    if cfg.freeze or LrScales.from_config(cfg.optimizer).per_layer:
        console.print(groups_table(facts, float(cfg.optimizer.get("lr", 0.0))))
    per = "token" if task.unit == "tokens" else "sample"
    hardware = registry.build("hardware", builder_node("hardware", cfg.hardware))
    states = registry.contract("optimizer", cfg.optimizer).state_tensors
    div = info.max_length if per == "token" else 1
    console.print(cost_table(facts, cfg, per, div, hardware, states))
    if estimate:
        console.print(estimate_table(loaded, console, timer))
    return 0


class Timer:
    """What a command spent before ``--estimate`` on work a run does not do: building the
    data stage when it was not cached yet, measuring the model."""

    def __init__(self, loaded: Any) -> None:
        from framework.estimate import data_cached

        self.cold = loaded is not None and not data_cached(loaded)
        self.built = 0.0
        self.spent = 0.0

    @contextlib.contextmanager
    def data(self) -> Iterator[None]:
        """Time a block that reads (or, when cold, builds) the data stage."""
        began = time.perf_counter()
        yield
        if self.cold:
            self.built += time.perf_counter() - began

    @contextlib.contextmanager
    def other(self) -> Iterator[None]:
        """Time a block a run does not do."""
        began = time.perf_counter()
        yield
        self.spent += time.perf_counter() - began


def estimate_table(loaded: Any, console: Console, timer: Timer) -> Table:
    """The predicted time of the run, part by part, from a trial timed here."""
    from framework.estimate import TRIAL_STEPS, estimate

    with console.status(f"timing {TRIAL_STEPS} training steps of the recipe on this machine ..."):
        found = estimate(loaded, timer.spent, timer.built if timer.cold else None)
    table = Table(title="time on this machine (a timed trial, scaled)", title_justify="left",
                  show_header=False)  # fmt: skip
    for part, value in found.rows():
        table.add_row(part, value)
    return table


def parameter_table(facts: ModelFacts) -> Table:
    """Parameters per top-level module that has any (tied weights counted once), total and
    trainable (the model's line, ``facts.title``, is printed above it)."""
    table = Table()
    table.add_column("module")
    table.add_column("parameters", justify="right")
    for label, own, shared in facts.rows:
        note = " (+ tied weights counted above)" if shared else ""
        table.add_row(label, f"{own:,}{note}")
    table.add_row("[bold]total[/]", f"[bold]{facts.total:,}[/]")
    table.add_row("trainable", f"{facts.trainable:,}")
    return table


def cost_table(
    facts: ModelFacts, cfg: Any, per: str, div: int, hardware: dict[str, Any], states: int | None
) -> Table:
    """FLOPs per token (or sample) and per step; memory of weights, gradients and optimizer
    state at the precision the run gets on ``hardware`` (its preset's Trainer arguments);
    ``states``: the optimizer's declared state tensors per weight."""
    from framework.models.footprint import human, memory_of
    from framework.training.hardware import run_precision

    flops = facts.flops
    precision = run_precision(cfg.trainer.precision, hardware)
    mem = memory_of(facts.total, facts.trainable, precision, cfg.optimizer[NAME_KEY], states)
    cost = Table(title="cost", title_justify="left", show_header=False)
    cost.add_row(f"forward FLOPs per {per}", human(flops / div))
    cost.add_row(f"training FLOPs per {per} (forward + backward ~ 3x)", human(3 * flops / div))
    batch = cfg.trainer.batch_size * cfg.trainer.accumulate
    cost.add_row(f"training FLOPs per step ({batch} examples)", human(3 * flops * batch))
    cost.add_row(f"weights ({precision})", human(mem.weights, "B"))
    cost.add_row("gradients", human(mem.gradients, "B"))
    cost.add_row(f"optimizer state ({mem.optimizer_note})", human(mem.optimizer, "B"))
    cost.add_row("[bold]total, before activations[/]", f"[bold]{human(mem.total, 'B')}[/]")
    if facts.activations:
        cost.add_row("activations per example (measured, float32)", human(facts.activations, "B"))
    return cost


def groups_table(facts: ModelFacts, lr: float) -> Table:
    """Trainable and frozen parameters per group, and the optimizer's groups with their
    learning rates."""
    from framework.finetune.structure import counts_table

    table = counts_table(facts.groups)
    rates = Table(title="optimizer groups", title_justify="left")
    for col in ("group", "learning rate", "weight decay", "parameters", "trainable"):
        rates.add_column(col, justify="left" if col == "group" else "right")
    for label, scale, decayed, count, trainable in facts.lr_groups:
        rates.add_row(label, f"{lr * scale:.3g}", "yes" if decayed else "no", f"{count:,}",
                      f"{trainable:,}" if trainable else "frozen")  # fmt: skip
    grid = Table.grid(padding=(0, 4))
    grid.add_row(table, rates)
    return grid
