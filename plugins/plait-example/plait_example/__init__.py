"""Example Plait plugin: one component of each main kind, registered exactly as any third
party would, with the capabilities Plait's own components declare."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add this package's components to Plait's registry, with their contracts."""
    from framework.contract import scales
    from plait_example import data, training

    add = registry.add
    add("source", "docstrings", data.docstrings, files=data.docstring_files)
    add("curate", "min_words", data.min_words, streams=True)
    add("clean", "strip_doctests", data.strip_doctests, streams=True)
    add("tokenizer", "lower_words", data.lower_words)
    add("text_augment", "random_repeat", data.random_repeat)
    add("image_augment", "invert", data.invert)
    add("model", "mean_bag", training.mean_bag, reads="tokens",
        fits=("class", "multilabel", "value"), size=scales(None, "dim"))  # fmt: skip
    add("model", "bigram", training.bigram, reads="tokens", fits=("tokens",))
    add("loss", "poly1", training.poly1, fits=("class",))
    add("metric", "balanced_accuracy", training.balanced_accuracy, fits=("class",))
    add("regularizer", "embedding_l2", training.embedding_l2)
    add("freeze", "head_first", training.head_first)
    add("callback", "step_times", training.step_times)
