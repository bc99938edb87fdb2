"""Tasks: each owns its batch format, default loss and metrics."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in tasks."""
    from framework.tasks import causal_lm, image_classification, regression, text_classification

    registry.add("task", "causal_lm", causal_lm.causal_lm)
    registry.add("task", "text_classification", text_classification.text_classification)
    registry.add("task", "image_classification", image_classification.image_classification)
    registry.add("task", "regression", regression.regression)
