"""``plait generate ckpt=PATH prompt=TEXT``: sample text from a trained causal LM."""

from __future__ import annotations

from typing import Any

from framework.errors import PlaitError

OPTIONS = {
    "ckpt": (str, None),
    "prompt": (str, ""),
    "max_new_tokens": (int, 200),
    "temperature": (float, 0.8),
    "top_k": (int, 50),
    "num_samples": (int, 1),
    "seed": (int, 0),
}


def parse_options(items: list[str]) -> dict[str, Any]:
    """``key=value`` items to typed options; unknown keys and bad values are errors."""
    from framework.cli.options import parse_options as parse

    opts, _ = parse(items, OPTIONS, 'prompt="def "')
    if not opts["ckpt"]:
        raise PlaitError(
            "missing ckpt=PATH; e.g. ckpt=runs/stdlib_gpt/<time>/checkpoints/last.ckpt"
        )
    return opts


def generate(items: list[str]) -> int:
    """Print samples; returns the exit status."""
    opts = parse_options(items)
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    from framework.models.generate import load_checkpoint, sample

    model, tokenizer, info = load_checkpoint(opts["ckpt"])
    texts = sample(
        model,
        tokenizer,
        [opts["prompt"]] * opts["num_samples"],
        info.max_length,
        opts["max_new_tokens"],
        opts["temperature"],
        opts["top_k"] or None,
        opts["seed"],
    )
    console = Console()
    for i, text in enumerate(texts):
        console.print(Panel(Text(text), title=f"sample {i + 1}", expand=False))
    return 0
