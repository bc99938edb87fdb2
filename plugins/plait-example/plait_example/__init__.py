"""Example Plait plugin: one model builder, registered exactly as any third party would."""

from __future__ import annotations

from typing import Any


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

        def forward(self, idx: Any) -> Any:
            return self.table(idx)

    return Bigram()


def register(registry: Any) -> None:
    """Add this package's components to Plait's registry, with their contract: the bigram
    reads token ids and predicts the next token."""
    registry.add("model", "bigram", bigram, reads="tokens", fits=("tokens",))
