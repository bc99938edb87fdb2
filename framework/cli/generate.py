"""``plait generate ckpt=PATH prompt=TEXT``: sample text from a trained causal LM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from framework.checks import COUNT, NON_NEGATIVE, Check
from framework.cli.command_config import CommandSpec, HydraFlags, compose_command, option
from framework.errors import PlaitError


@dataclass
class GenerateCommand:
    """``plait generate`` options."""

    ckpt: str | None = option(None, "the checkpoint: runs/NAME/<time>/checkpoints/last.ckpt")
    prompt: str = option("", "the text to continue (taken as typed, spaces included)", text=True)
    max_new_tokens: int = option(200, "tokens to add to the prompt", check=COUNT)
    temperature: float = option(
        0.8,
        "sampling temperature; lower is more conservative (0: always the likeliest)",
        check=NON_NEGATIVE,
    )
    top_k: int = option(50, "sample among the k likeliest tokens (0: all of them)",
                        check=NON_NEGATIVE)  # fmt: skip
    top_p: float = option(
        1.0,
        "sample among the likeliest tokens whose probabilities add up to p (1: all)",
        check=Check(gt=0, le=1),
    )
    num_samples: int = option(1, "continuations to print", check=COUNT)
    seed: int = option(0, "seed of the sampling (the same seed prints the same text)")


SPEC = CommandSpec(
    "generate", GenerateCommand, 'ckpt=runs/stdlib_gpt/<time>/checkpoints/last.ckpt prompt="def "'
)
"""How ``plait generate`` reads its command line."""


def _checked(opts: Any) -> Any:
    if not opts.ckpt:
        raise PlaitError(
            "missing ckpt=PATH; e.g. ckpt=runs/stdlib_gpt/<time>/checkpoints/last.ckpt"
        )
    return opts


def generate(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Print samples (once per combination with ``--multirun``); returns the exit status."""
    for opts, _ in compose_command(SPEC, items, flags) or []:
        _generate(_checked(opts))
    return 0


def _generate(opts: Any) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    from framework.models.generate import load_checkpoint, sample

    model, tokenizer, info = load_checkpoint(opts.ckpt)
    texts = sample(
        model,
        tokenizer,
        [opts.prompt] * opts.num_samples,
        info.max_length,
        opts.max_new_tokens,
        opts.temperature,
        opts.top_k or None,
        opts.seed,
        top_p=opts.top_p,
    )
    console = Console()
    for i, text in enumerate(texts):
        console.print(Panel(Text(text), title=f"sample {i + 1}", expand=False))
