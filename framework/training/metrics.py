"""Built-in metrics, all torchmetrics."""

from __future__ import annotations

from typing import Any

from framework.data.info import DataInfo


def perplexity(*, info: DataInfo) -> Any:
    """Perplexity of next-token predictions: exp of the mean token cross-entropy."""
    from torchmetrics.text import Perplexity

    return Perplexity()
