"""The near-duplicate lookup behind the evaluation's "near duplicate in train" slice, on real
tweets: every text it flags has a training text at exact Jaccard >= 0.8, and it finds the
exact copies and the planted near copies."""

from __future__ import annotations

from framework.data.shingles import shingles
from framework.data.sources.corpora import tweets_sentiment
from framework.evaluate.leakage import NEAR_THRESHOLD, near_in_train
from framework.records import TEXT, column


def _best_jaccard(text: str, train_sets: list[set[str]]) -> float:
    x = set(shingles(text, 3, "words"))
    return max(len(x & y) / max(1, len(x | y)) for y in train_sets)


def test_exact_and_near_copies_of_training_texts_are_found_and_nothing_else():
    tweets = list(dict.fromkeys(column(tweets_sentiment(), TEXT)))
    train, held_out = tweets[10_000:13_000], tweets[13_000:13_400]
    long_ones = [t for t in train if len(t.split()) >= 20][:30]
    exact = long_ones[:10]
    near = [t + " indeed" for t in long_ones[10:30]]  # one word more: Jaccard >= 0.9
    texts = held_out + exact + near
    found = near_in_train(train, texts)
    assert found.shape == (len(texts),) and found.dtype == bool
    assert found[len(held_out) :].all()
    train_sets = [set(shingles(t, 3, "words")) for t in train]
    best = [_best_jaccard(t, train_sets) for t in held_out]
    for text, hit, similar in zip(held_out, found, best, strict=False):
        if hit:  # no false positive: confirmed by exact similarity
            assert text in train or similar >= NEAR_THRESHOLD, text
        if similar >= 0.95:  # retweets, templates: found
            assert hit, text
    assert found[: len(held_out)].sum() >= 3  # this slice holds some near copies


def test_a_second_training_split_is_looked_up_afresh():
    tweets = list(dict.fromkeys(column(tweets_sentiment(), TEXT)))
    first_train = tweets[10_000:13_000]
    originals = [t for t in first_train if len(t.split()) >= 20][:20]
    assert near_in_train(first_train, originals).all()
    # the same texts against another training split holding only their near copies: found
    # through that split's keys, not the first's (kept between a run's two evaluations)
    second_train = tweets[20_000:21_000] + [t + " indeed" for t in originals]
    assert near_in_train(second_train, originals).all()
    assert not near_in_train(tweets[20_000:21_000], originals).any()
