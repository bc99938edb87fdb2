"""Text models: padding never changes a prediction; recurrent models also model language."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.models import text

INFO = DataInfo(
    vocab_size=50, max_length=16, target="class", num_outputs=3, num_classes=3, pad_id=0
)


@pytest.mark.parametrize(
    "build",
    [
        lambda: text.textcnn(embed_dim=8, filters=4, info=INFO),
        lambda: text.lstm(embed_dim=8, hidden=8, pooling="max", info=INFO),
        lambda: text.lstm(embed_dim=8, hidden=8, pooling="last", info=INFO),
        lambda: text.gru(embed_dim=8, hidden=8, pooling="mean", bidirectional=False, info=INFO),
        lambda: text.transformer_encoder(n_layer=1, n_head=2, d_model=8, info=INFO),
        lambda: text.transformer_encoder(n_layer=1, n_head=2, d_model=8, pooling="mean", info=INFO),
    ],
)
def test_padding_does_not_change_the_prediction(build):
    torch.manual_seed(0)
    model = build().eval()
    ids = torch.randint(1, 50, (1, 7))
    padded = torch.cat([ids, torch.zeros(1, 6, dtype=torch.long)], 1)
    with torch.no_grad():
        alone = model(ids, lengths=torch.tensor([7]))
        with_pad = model(padded, lengths=torch.tensor([7]))
    assert torch.allclose(alone, with_pad, atol=1e-5)


def test_unidirectional_lstm_is_a_causal_language_model():
    lm = text.lstm(embed_dim=8, hidden=8, bidirectional=False, info=DataInfo(vocab_size=50))
    lm.eval()
    x = torch.randint(0, 50, (2, 10))
    with torch.no_grad():
        full, prefix = lm(x), lm(x[:, :6])
    assert full.shape == (2, 10, 50)
    assert torch.allclose(full[:, :6], prefix, atol=1e-5)  # no peeking at later tokens
