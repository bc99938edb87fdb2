"""Model builders (light modules) and their implementations (``_*.py``, import torch)."""

from __future__ import annotations

from typing import Any

from framework.contract import TARGETS, scales

PER_EXAMPLE = ("class", "multilabel", "value")
"""Targets of models that read one example and predict for it."""


def register(registry: Any) -> None:  # fmt: skip
    """Add the built-in models with what they read, the targets they fit and their size
    knobs (``model.target_params``)."""
    from framework.models import fasttext, gpt, pretrained, text, vision

    text_knobs = scales("n_layer", "d_model", multiple_of="n_head")
    models = {  # name: (builder, what it reads, the targets it fits, its size knobs)
        "gpt": (gpt.gpt, "tokens", TARGETS, text_knobs),
        "textcnn": (text.textcnn, "tokens", PER_EXAMPLE, scales(None, "embed_dim", "filters")),
        "fasttext": (fasttext.fasttext, "tokens", PER_EXAMPLE, scales(None, "dim")),
        "lstm": (text.lstm, "tokens", TARGETS, scales("layers", "embed_dim", "hidden")),
        "gru": (text.gru, "tokens", TARGETS, scales("layers", "embed_dim", "hidden")),
        "transformer_encoder": (text.transformer_encoder, "tokens", PER_EXAMPLE, text_knobs),
        "cnn": (vision.cnn, "images", PER_EXAMPLE, scales(None, "channels", "hidden")),
        "resnet": (vision.resnet, "images", PER_EXAMPLE, scales("blocks", "widths")),
        "hf_pretrained": (pretrained.hf_pretrained, "tokens", TARGETS, None),
    }
    from framework.contract import Exporter
    from framework.export import write

    exports = {
        "gpt": {"hf": Exporter(write.write_gpt2, write.language_model)},
        "hf_pretrained": {
            "hf": Exporter(write.write_pretrained),
            "peft": Exporter(write.write_peft, write.holds_adapters, folds_adapters=False),
        },
    }
    loads_weights = {"hf_pretrained": "pretrained"}
    for name, (builder, reads, fits, size) in models.items():
        registry.add("model", name, builder, reads=reads, fits=fits, size=size,
                     exports=exports.get(name),
                     loads_weights=loads_weights.get(name))  # fmt: skip
