"""Training components: a classifier, a loss, a metric, a regularizer, a freeze policy and
a callback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def mean_bag(dim: int = 64, dropout: float = 0.1, *, info: Any) -> Any:
    """Mean of the token embeddings, then a linear classifier (a neural bag of words).

    Args:
        dim: Embedding width.
        dropout: Dropout on the mean embedding.
    """
    import torch
    from torch import nn

    class MeanBag(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(info.vocab_size, dim)
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(dim, info.num_outputs)

        def forward(self, x: Any, lengths: Any = None) -> Any:
            emb = self.embed(x)
            if lengths is None:
                pooled = emb.mean(1)
            else:
                mask = torch.arange(x.size(1), device=x.device)[None, :] < lengths[:, None]
                pooled = (emb * mask[..., None]).sum(1) / lengths.clamp(min=1)[:, None]
            return self.head(self.drop(pooled))

    return MeanBag()


def bigram(rank: int | None = None, *, info: Any) -> Any:
    """Bigram language model: each token predicts the next from itself alone.

    Args:
        rank: Factorize the vocab x vocab table through this many dimensions (null: full table).
    """
    from torch import nn

    class Bigram(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if rank:
                self.table = nn.Sequential(
                    nn.Embedding(info.vocab_size, rank), nn.Linear(rank, info.vocab_size)
                )
            else:
                self.table = nn.Embedding(info.vocab_size, info.vocab_size)

        def forward(self, idx: Any, lengths: Any = None) -> Any:
            return self.table(idx)

    return Bigram()


class Poly1:
    """Poly-1 loss (Leng et al., 2022): cross-entropy + epsilon x (1 - p_target)."""

    def __init__(self, epsilon: float) -> None:
        self.epsilon = epsilon

    def __call__(self, preds: Any, target: Any) -> Any:
        import torch.nn.functional as F

        ce = F.cross_entropy(preds, target, reduction="none")
        pt = preds.softmax(-1).gather(1, target[:, None]).squeeze(1)
        return (ce + self.epsilon * (1 - pt)).mean()


def poly1(epsilon: float = 1.0) -> Poly1:
    """Poly-1 cross-entropy: more weight on examples the model is unsure of.

    Args:
        epsilon: Weight of the (1 - p_target) term; 0 is plain cross-entropy.
    """
    return Poly1(epsilon)


def balanced_accuracy(*, info: Any) -> Any:
    """Mean of the per-class recalls: accuracy that every class counts in equally."""
    from torchmetrics.classification import MulticlassAccuracy

    return MulticlassAccuracy(num_classes=info.num_outputs, average="macro")


class EmbeddingL2:
    """``coefficient x sum(w^2)`` over the embedding tables."""

    name = "embedding_l2"

    def __init__(self, coefficient: float) -> None:
        self.coefficient = coefficient

    def penalty(self, model: Any) -> Any:
        """The penalty as a tensor."""
        from torch import nn

        tables = [m.weight for m in model.modules() if isinstance(m, nn.Embedding)]
        return self.coefficient * sum(w.pow(2).sum() for w in tables)


def embedding_l2(coefficient: float = 1e-5) -> EmbeddingL2:
    """L2 penalty on the embedding tables alone (rare words' vectors stay small).

    Args:
        coefficient: Weight of the penalty in the loss.
    """
    return EmbeddingL2(coefficient)


def head_first(steps: int = 20, head: str = r"^head\.") -> Any:
    """Train only the head for the first ``steps`` steps, then everything (a new head
    settles before its gradients move the body).

    Args:
        steps: Optimizer steps with everything but the head frozen.
        head: Regex over parameter names selecting the head.
    """
    import re

    from lightning.pytorch.callbacks import Callback

    def policy(model: Any) -> list[Any]:
        body = [p for name, p in model.named_parameters()
                if not re.search(head, name) and p.requires_grad]  # fmt: skip
        for p in body:
            p.requires_grad_(False)

        class Thaw(Callback):
            def on_train_batch_start(self, trainer: Any, *args: Any) -> None:
                if trainer.global_step >= steps and body and not body[0].requires_grad:
                    for p in body:
                        p.requires_grad_(True)

        return [Thaw()]

    return policy


class StepTimes:
    """Writes each optimizer step's wall time to ``step_times.csv`` in the run folder."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # a Callback subclass, built lazily
        from lightning.pytorch.callbacks import Callback

        class _StepTimes(Callback):
            def __init__(self, file: str) -> None:
                self.file, self.rows, self.start = file, [], 0.0

            def on_train_batch_start(self, *args: Any) -> None:
                self.start = time.perf_counter()

            def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
                self.rows.append((trainer.global_step, time.perf_counter() - self.start))

            def on_train_end(self, trainer: Any, *args: Any) -> None:
                if trainer.is_global_zero:
                    lines = ["step,seconds", *(f"{s},{t:.6f}" for s, t in self.rows)]
                    Path(trainer.default_root_dir, self.file).write_text("\n".join(lines) + "\n")

        return _StepTimes(*args, **kwargs)


def step_times(file: str = "step_times.csv") -> Any:
    """Record the wall time of every training batch in a CSV file of the run folder.

    Args:
        file: File name, in the run folder.
    """
    return StepTimes(file)
