"""DataInfo: what is only known once the data is built, handed to the builders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DataInfo:
    """Facts derived from the data stage that models, losses and metrics need."""

    vocab_size: int = 0
    """Size of the tokenizer's vocabulary (embedding and output rows)."""
    max_length: int = 0
    """Tokens per example (the block size for causal LM)."""
    eos_id: int | None = None
    """Id of the end-of-text token separating documents, if any."""
    pad_id: int | None = None
    """Id used for padding, if any."""
    target: str = "tokens"
    """What the task predicts: ``tokens`` (next token), ``class`` (one class per example),
    ``multilabel`` (any subset of the classes) or ``value`` (a number)."""
    num_outputs: int | None = None
    """Width of the per-example head (classes, labels or 1 for a value); None: the model
    predicts tokens."""
    num_classes: int | None = None
    """Number of target classes (or labels) in the data."""
    labels: list[str] | None = None
    """Class names, index = class id (saved as ``labels.json`` in the run dir)."""
    class_weights: list[float] | None = None
    """Per-class loss weights computed from the training split."""
    image_shape: list[int] | None = None
    """Channels, height, width of image inputs."""
    image_mean: list[float] | None = None
    """Per-channel mean of the training images (after scaling to [0, 1])."""
    image_std: list[float] | None = None
    """Per-channel standard deviation of the training images."""
    target_mean: float | None = None
    """Mean of the training split's numeric targets (regression)."""
    target_std: float | None = None
    """Standard deviation of the training split's numeric targets (regression)."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Examples per split."""
    vocab: list[str] | None = None
    """The tokenizer's tokens in id order, for models that look inside tokens (fastText's
    character n-grams); None without a tokenizer."""

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for checkpoints and reports."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataInfo:
        """Inverse of :meth:`to_dict`, ignoring keys this version does not know."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})
