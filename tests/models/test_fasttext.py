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


def bags(model, *texts):
    """The model's input for ``texts`` (lists of token ids): bags one after the other, and
    their lengths."""
    from framework.models.features import feature_collate, feature_dataset
    from framework.tasks.text_batches import PadCollate, TokenDataset

    ds = feature_dataset(model, TokenDataset([list(t) for t in texts], [0] * len(texts)))
    x, lengths, _ = feature_collate(model, PadCollate(INFO.pad_id))([ds[i] for i in range(len(ds))])
    return x, lengths


def test_a_token_s_prediction_moves_with_its_character_ngrams():
    torch.manual_seed(0)
    model = fasttext(dim=8, ngrams=1, buckets=1000, info=INFO).eval()
    played = bags(model, [VOCAB.index("played")])
    before = model(*played).detach().clone()
    row = int(model.char_ngrams[VOCAB.index("playing"), 0])  # "<pl", shared with "played"
    with torch.no_grad():
        model.embed.weight[INFO.vocab_size + row] += 1.0
    assert not torch.allclose(model(*played), before)
    without = fasttext(dim=8, ngrams=1, maxn=0, buckets=1000, info=INFO)
    assert not hasattr(without, "char_ngrams")
    assert without.embed.num_embeddings == INFO.vocab_size  # no hashed rows at all


def test_a_bag_holds_tokens_hashed_ngrams_and_character_ngrams_once_each():
    model = fasttext(dim=8, ngrams=3, buckets=100, info=INFO)
    text = [2, 4, 5, 6]
    bag = model.features(text).tolist()
    chars = [g for t in text for g in model.char_ngrams[t].tolist() if g >= 0]
    assert bag[:4] == text  # the tokens first
    assert len(bag) == 4 + 3 + 2 + len(chars)  # 3 bigrams, 2 trigrams
    assert all(INFO.vocab_size <= i < INFO.vocab_size + 100 for i in bag[4:])
    assert bag[9:] == [INFO.vocab_size + g for g in chars]
    assert model.features([0, 2]).tolist() == model.features([2]).tolist()  # pad left out


def test_a_bag_s_prediction_does_not_depend_on_its_batch_or_on_padding():
    torch.manual_seed(0)
    model = fasttext(dim=8, ngrams=3, buckets=100, info=INFO).eval()
    alone = model(*bags(model, [2, 4, 5, 6, 7]))
    with torch.no_grad():
        batch = model(*bags(model, [3, 3], [2, 4, 5, 6, 7], []))
        assert torch.allclose(batch[1], alone[0])
        assert torch.allclose(batch[2], model.classifier.bias)  # an empty text: a zero mean
        feats = torch.tensor(model.features([2, 4, 5, 6, 7]))
        padded = torch.cat([feats, torch.zeros(5, dtype=torch.long)])[None]
        assert torch.allclose(model(padded, torch.tensor([len(feats)]))[0], alone[0])


def test_a_step_updates_only_the_rows_of_the_batch():
    torch.manual_seed(0)
    model = fasttext(dim=8, ngrams=2, buckets=100, info=INFO)
    x, lengths = bags(model, [2, 5], [6])
    torch.nn.functional.cross_entropy(model(x, lengths), torch.tensor([0, 1])).backward()
    grad = model.embed.weight.grad
    assert grad.is_sparse
    touched = set(grad.coalesce().indices()[0].tolist())
    assert touched == set(x.tolist())
    before = model.embed.weight.detach().clone()
    torch.optim.SGD(model.parameters(), lr=0.5).step()
    moved = set((model.embed.weight != before).any(1).nonzero().flatten().tolist())
    assert moved == touched


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


def test_sparse_training_learns_through_the_command_and_scores_the_same_in_eval(plait, tmp_path):
    import json
    import random

    rnd = random.Random(0)
    words = {"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}
    filler = ("the", "a", "movie", "was", "plot", "and", "very", "actors")
    rows = []
    for _ in range(900):
        key = rnd.choice(list(words))
        text = [rnd.choice(filler) for _ in range(6)] + [key]
        rnd.shuffle(text)
        rows.append({"text": " ".join(text), "label": words[key]})
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = plait(
        "train", "recipe=tweets_fasttext", "data/source=jsonl", f"data.source.paths=[{path}]",
        "data.source.label_column=label", "data.tokenizer.vocab_size=300",
        "data.max_length=64", "model.buckets=2000", "model.dim=16", "trainer.max_steps=150",
        "trainer.batch_size=32", "optimizer.lr=2.0", "trainer.val_every=150",
        "trainer.ckpt_every=150", "eval=true", "hydra.run.dir=run", timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["test/accuracy"] > 0.95, results
    scored = json.loads((tmp_path / "run" / "eval" / "eval.json").read_text())
    accuracy = scored["classification"]["metrics"]["accuracy"]["value"]
    assert accuracy == pytest.approx(results["test/accuracy"], abs=1e-6)
    assert "computed once" in (tmp_path / "run" / "train.log").read_text()


def test_sparse_gradients_with_an_optimizer_that_cannot_take_them_stop_at_compose(cli):
    proc = cli("train", "recipe=tweets_fasttext", "optimizer.momentum=0.9")
    assert proc.returncode == 2
    assert "optimizer.momentum=0.9 cannot do" in proc.stderr
    assert "model.sparse=false" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("train", "recipe=tweets_sentiment", "model=fasttext")  # AdamW, clipping
    assert proc.returncode == 2, proc.stderr
    assert "optimizer=adamw, trainer.grad_clip=1.0 cannot do" in proc.stderr


def test_which_optimizers_take_sparse_gradients_is_a_declared_capability(registry):
    from framework.contract import make_contract

    assert registry.contract("optimizer", {"_name_": "sgd"}).sparse_gradients == (
        "momentum", "weight_decay",
    )  # fmt: skip
    assert registry.contract("optimizer", {"_name_": "adamw"}).sparse_gradients is None
    declared = make_contract("optimizer", "mine", ("sparse_gradients",), sparse_gradients=[])
    assert declared.sparse_gradients == ()  # takes them whatever its options
    with pytest.raises(PlaitError, match="sparse_gradients must name options"):
        make_contract("optimizer", "mine", ("sparse_gradients",), sparse_gradients="momentum")
