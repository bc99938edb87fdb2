"""Plait's own components, registered through the same entry point a third party uses."""

from __future__ import annotations

from framework.registry import Registry


def register(registry: Registry) -> None:
    """Add every built-in component to ``registry``."""
    from framework.data import balance, sources, splits, tokenizers
    from framework.models import gpt
    from framework.tasks import causal_lm
    from framework.training import callbacks, freeze, hardware, loggers, losses, metrics, optim

    registry.add("source", "text_files", sources.text_files)
    registry.add("source", "python_stdlib", sources.python_stdlib)
    registry.add("source", "wikipedia_sample", sources.wikipedia_sample)
    registry.add("tokenizer", "char", tokenizers.char)
    registry.add("tokenizer", "bpe", tokenizers.bpe)
    registry.add("split", "random", splits.random)
    registry.add("balance", "none", balance.none)
    registry.add("task", "causal_lm", causal_lm.causal_lm)
    registry.add("model", "gpt", gpt.gpt)
    registry.add("loss", "cross_entropy", losses.cross_entropy)
    registry.add("metric", "perplexity", metrics.perplexity)
    registry.add("freeze", "none", freeze.none)
    registry.add("optimizer", "adamw", optim.adamw)
    registry.add("scheduler", "cosine", optim.cosine)
    registry.add("scheduler", "constant", optim.constant)
    registry.add("callback", "early_stopping", callbacks.early_stopping)
    registry.add("logger", "csv", loggers.csv)
    registry.add("hardware", "cpu", hardware.cpu)
    registry.add("hardware", "gpu", hardware.gpu)
    registry.add("hardware", "ddp", hardware.ddp)
