"""Model builders (light modules) and their implementations (``_*.py``, import torch)."""

from __future__ import annotations

from typing import Any

from framework.contract import TARGETS, scales

PER_EXAMPLE = ("class", "multilabel", "value")
"""Targets of models that read one example and predict for it."""


def register(registry: Any) -> None:  # fmt: skip
    """Add the built-in models with what they read, the targets they fit and their size
    knobs (``model.target_params``)."""
    from framework.models import gpt, pretrained, text, vision

    add = registry.add
    add(
        "model",
        "gpt",
        gpt.gpt,
        reads="tokens",
        fits=TARGETS,
        size=scales("n_layer", "d_model", multiple_of="n_head"),
    )
    add(
        "model",
        "textcnn",
        text.textcnn,
        reads="tokens",
        fits=PER_EXAMPLE,
        size=scales(None, "embed_dim", "filters"),
    )
    for cell, builder in (("lstm", text.lstm), ("gru", text.gru)):
        add(
            "model",
            cell,
            builder,
            reads="tokens",
            fits=TARGETS,
            size=scales("layers", "embed_dim", "hidden"),
        )
    add(
        "model",
        "transformer_encoder",
        text.transformer_encoder,
        reads="tokens",
        fits=PER_EXAMPLE,
        size=scales("n_layer", "d_model", multiple_of="n_head"),
    )
    add(
        "model",
        "cnn",
        vision.cnn,
        reads="images",
        fits=PER_EXAMPLE,
        size=scales(None, "channels", "hidden"),
    )
    add(
        "model",
        "resnet",
        vision.resnet,
        reads="images",
        fits=PER_EXAMPLE,
        size=scales("blocks", "widths"),
    )
    add("model", "hf_pretrained", pretrained.hf_pretrained, reads="tokens", fits=TARGETS)
