"""``plait doctor [--json] [recipe=... overrides]``: this machine's facts, what the recipe
needs, and the settings to train it with."""

from __future__ import annotations

import json
from typing import Any


def doctor(overrides: list[str], as_json: bool, estimate: bool = False) -> int:
    """Print the machine, the recipe's needs and the advice (a JSON object with ``--json``),
    and with ``estimate`` the predicted time of the run from a timed trial; returns 0."""
    from framework.cli.show import Timer
    from framework.cli.spine import load, stage
    from framework.doctor import advise, corpus_bytes, engine_advice, needs
    from framework.machine import machine
    from framework.models.facts import cached_model_facts

    here = machine()
    loaded = load(overrides)
    timer = Timer(loaded if estimate else None)
    with timer.data():
        info = stage(loaded).info()
    with timer.other():
        facts = cached_model_facts(loaded.cfg, loaded.registry, info)
    need = needs(facts, loaded.cfg, here, loaded.registry)
    advice = advise(need, loaded.cfg, here)
    advice.data_engine, advice.data_note = engine_advice(
        corpus_bytes(loaded.cfg, loaded.registry), here
    )
    if as_json:
        doc = {"machine": here.to_dict(), "recipe": loaded.cfg.name,
               "needs": {**need.__dict__, "state": need.state, "total": need.total},
               "advice": advice.to_dict()}  # fmt: skip
        if estimate:
            from framework.estimate import estimate as run_estimate

            built = timer.built if timer.cold else None
            doc["estimate"] = run_estimate(loaded, timer.spent, built).to_dict()
        print(json.dumps(doc, indent=2))
        return 0
    from rich.console import Console

    console = Console()
    console.print(machine_table(here))
    console.print(needs_table(need, loaded.cfg.name))
    console.print(advice_table(advice))
    if estimate:
        from framework.cli.show import estimate_table

        console.print(estimate_table(loaded, console, timer))
    return 0


def machine_table(m: Any) -> Any:
    """The machine's facts."""
    from rich.table import Table

    from framework.models.footprint import human

    t = Table(title="this machine", title_justify="left", show_header=False)
    t.add_row("CPU", f"{m.cpu} ({m.cores} cores, {m.usable_cores} usable)")
    t.add_row("memory", f"{human(m.memory, 'B')} ({human(m.available_memory, 'B')} available)")
    t.add_row("bfloat16 on the CPU", "native" if m.cpu_bf16 else "emulated (slow): float32")
    if not m.gpus:
        t.add_row("GPUs", "none")
    for i, g in enumerate(m.gpus):
        bf16, tf32 = ("yes" if g.bf16 else "no"), ("yes" if g.tf32 else "no")
        t.add_row(f"GPU {i}", f"{g.name}, {human(g.memory, 'B')}, compute {g.capability}, "
                              f"bf16 {bf16}, TF32 {tf32}")  # fmt: skip
    t.add_row("torch", f"{m.torch} ({'CUDA ' + m.cuda if m.cuda else 'CPU build'})")
    t.add_row("distributed", f"gloo {'yes' if m.gloo else 'no'}, NCCL {'yes' if m.nccl else 'no'}")
    return t


def needs_table(n: Any, name: str) -> Any:
    """What the recipe needs."""
    from rich.table import Table

    from framework.models.footprint import human

    t = Table(title=f"recipe '{name}' at {n.precision}", title_justify="left", show_header=False)
    t.add_row("parameters", f"{n.params:,} ({n.trainable:,} trainable)")
    t.add_row("weights", human(n.weights, "B"))
    t.add_row("gradients", human(n.gradients, "B"))
    t.add_row("optimizer state", human(n.optimizer, "B"))
    t.add_row("activations per example (measured)", human(n.activations_per_example, "B"))
    t.add_row(f"[bold]total at batch {n.batch}[/]", f"[bold]{human(n.total, 'B')}[/]")
    return t


def advice_table(a: Any) -> Any:
    """The recommendation."""
    from rich.table import Table

    from framework.models.footprint import human

    t = Table(title="recommendation", title_justify="left", show_header=False)
    t.add_row("hardware", a.hardware)
    t.add_row("precision", f"trainer.precision={a.precision}")
    t.add_row("strategy", f"{a.strategy} on {a.devices} {a.accelerator} device(s)")
    t.add_row("largest batch per device", f"{a.max_batch:,} (of {human(a.budget, 'B')} planned)")
    t.add_row("DataLoader workers", f"trainer.num_workers={a.workers}")
    t.add_row("accumulation", f"trainer.accumulate={a.accumulate}")
    t.add_row("data stage", f"{a.data_engine}: {a.data_note}")
    for note in a.notes:
        t.add_row("", note)
    return t
