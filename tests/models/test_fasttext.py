"""fastText-style classifier: character n-grams of each vocabulary entry, shared between the
entries that contain them, carried by the checkpoint; the vocabulary comes from the data."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.models.fasttext import MAX_CHAR_NGRAMS, char_ngram_table, char_ngrams, fasttext

VOCAB = ["[PAD]", "[UNK]", "playing", "played", "##ing", "cat", "dog", "!"]
INFO = DataInfo(
    vocab_size=len(VOCAB), max_length=16, target="class", num_outputs=3, num_classes=3,
    pad_id=0, vocab=VOCAB,
)  # fmt: skip


def test_character_ngrams_mark_word_starts_the_tokenizer_s_way():
    assert char_ngrams("play", 3, 3, wordpiece=True) == ["<pl", "pla", "lay"]
    assert char_ngrams("##ing", 3, 4, wordpiece=True) == ["ing"]  # continues a word
    assert char_ngrams("Ġthe", 2, 2, wordpiece=False) == ["<t", "th", "he"]  # byte-level BPE
    assert char_ngrams("ing", 2, 2, wordpiece=False) == ["in", "ng"]  # BPE: no Ġ, mid-word


def test_entries_that_share_ngrams_share_buckets_and_special_tokens_have_none():
    table = char_ngram_table(VOCAB, 3, 5, buckets=1000)
    assert table[0] == [] and table[1] == []  # [PAD], [UNK]
    shared = set(table[VOCAB.index("playing")]) & set(table[VOCAB.index("played")])
    assert len(shared) >= 5  # <pl <pla <play pla play lay ...
    assert not set(table[VOCAB.index("cat")]) & set(table[VOCAB.index("dog")])
    assert all(len(row) <= MAX_CHAR_NGRAMS for row in table)


def test_a_token_s_prediction_moves_with_its_character_ngrams():
    torch.manual_seed(0)
    model = fasttext(dim=8, ngrams=1, buckets=1000, info=INFO).eval()
    played = torch.tensor([[VOCAB.index("played")]])
    before = model(played).detach().clone()
    row = int(model.char_ngrams[VOCAB.index("playing"), 0])  # "<pl", shared with "played"
    with torch.no_grad():
        model.embed.weight[INFO.vocab_size + row] += 1.0
    assert not torch.allclose(model(played), before)
    without = fasttext(dim=8, ngrams=1, maxn=0, buckets=1000, info=INFO)
    assert not hasattr(without, "char_ngrams")
    assert without.embed.num_embeddings == INFO.vocab_size  # no hashed rows at all


def test_padding_does_not_change_the_prediction():
    torch.manual_seed(0)
    model = fasttext(dim=8, ngrams=3, buckets=100, info=INFO).eval()
    ids = torch.tensor([[2, 4, 5, 6, 7]])
    padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
    with torch.no_grad():
        assert torch.allclose(model(ids, torch.tensor([5])), model(padded, torch.tensor([5])))


def test_the_checkpoint_carries_the_ngram_table():
    torch.manual_seed(0)
    trained = fasttext(dim=8, buckets=100, info=INFO)
    blank = fasttext(dim=8, buckets=100, info=DataInfo(**{**INFO.to_dict(), "vocab": None}))
    assert int(blank.char_ngrams.max()) == -1  # no vocabulary: no n-grams known
    blank.load_state_dict(trained.state_dict())
    assert torch.equal(blank.char_ngrams, trained.char_ngrams)


def test_minn_above_maxn_is_one_clear_error():
    with pytest.raises(PlaitError, match="model.minn=6 is above model.maxn=5"):
        fasttext(minn=6, maxn=5, info=INFO)


def test_the_data_stage_hands_the_vocabulary_to_the_models():
    from datasets import Dataset

    from framework.data.artifacts import Tables
    from framework.data.audit import DataReport
    from framework.data.finish import base_info
    from framework.data.tokenizers import char

    tok = char()
    tok.train(["abc cab", "bca"])
    tables = Tables({"train": Dataset.from_dict({"text": ["abc"]})}, tok, DataReport())
    info = base_info(tables, max_length=8)
    assert info.vocab is not None and len(info.vocab) == tok.vocab_size
    assert [info.vocab[i] for i in tok.encode_batch(["cab"])[0]] == ["c", "a", "b"]
