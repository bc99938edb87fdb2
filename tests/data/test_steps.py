"""Curation and cleaning steps: each changes what it should and nothing else."""

from __future__ import annotations

import datasets
import pytest

from framework.data import clean, curate
from framework.data.shingles import shingles
from framework.data.sources.corpora import tweets_sentiment
from framework.data.steps import StepContext
from framework.errors import PlaitError
from framework.records import LABEL, TEXT, column

CTX = StepContext(name="step")


def run(step, texts, **cols):
    ds = datasets.Dataset.from_dict({TEXT: texts, **cols})
    return step(ds, CTX)


def test_normalize_nfkc_folds_compatibility_characters():
    out = run(curate.normalize("NFKC"), ["ﬁne ①", "cafe\u0301"])
    assert column(out, TEXT) == ["fine 1", "café"]
    assert column(run(curate.normalize("NFC"), ["ﬁne"]), TEXT) == ["ﬁne"]


def test_dedupe_exact_keeps_first_and_respects_normalization():
    texts = ["Hello  world", "Hello world", "hello world", "other", "Hello world"]
    ids = list(range(5))
    assert column(run(curate.dedupe_exact(normalized=False), texts, id=ids), "id") == [0, 1, 2, 3]
    assert column(run(curate.dedupe_exact(), texts, id=ids), "id") == [0, 2, 3]
    assert column(run(curate.dedupe_exact(ignore_case=True), texts, id=ids), "id") == [0, 3]


def _jaccard(a: str, b: str) -> float:
    x, y = set(shingles(a, 3, "words")), set(shingles(b, 3, "words"))
    return len(x & y) / len(x | y)


def test_minhash_removes_real_near_duplicates_and_agrees_with_datasketch():
    from datasketch import MinHash, MinHashLSH

    texts = list(dict.fromkeys(column(tweets_sentiment(), TEXT)))  # exact duplicates out
    texts = texts[10_000:15_000]  # a slice rich in near duplicates (retweets, templates)
    step = curate.dedupe_minhash(threshold=0.8, num_perm=128, shingle_size=3)
    ds = datasets.Dataset.from_dict({TEXT: texts, "i": list(range(len(texts)))})
    kept = set(column(step(ds, CTX), "i"))
    removed = [i for i in range(len(texts)) if i not in kept]
    assert 10 < len(removed) < len(texts) // 10
    # every removed text has a kept, earlier partner at exact Jaccard >= 0.8
    assert len(step.examples) == 3 and all("≈" in e for e in step.examples)
    for i in removed:  # confirmed by exact similarity: no false positive at all
        assert max(_jaccard(texts[i], texts[j]) for j in range(i) if j in kept) >= 0.8
    # datasketch's MinHashLSH with the same threshold and permutations as a reference: every
    # text it flags whose partner is truly similar (exact Jaccard >= 0.85) is removed here too
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    sure = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128)
        for sh in shingles(t, 3, "words"):
            m.update(sh.encode())
        hits = lsh.query(m)
        if hits:
            if max(_jaccard(t, texts[j]) for j in hits) >= 0.85:
                sure.append(i)
        else:
            lsh.insert(i, m)
    assert len(sure) > 20
    assert sum(i in set(removed) for i in sure) / len(sure) >= 0.95


def test_rensa_flags_exactly_the_records_that_share_a_band_key_with_another():
    """The local engine takes its candidates from rensa's LSH index, the Ray engine groups by
    Plait's band keys: both must name the same records."""
    import numpy as np
    from rensa import RMinHashLSH

    texts = list(dict.fromkeys(column(tweets_sentiment(), TEXT)))[10_000:14_000]
    step = curate.dedupe_minhash(threshold=0.7, num_perm=64, shingle_size=3)
    sig = step.signatures(texts)
    shared = sorted({r for bucket in step.buckets(sig) for r in bucket})
    lsh = RMinHashLSH(step.threshold, 64, step.bands)
    ((_first, matrix),) = list(step.hasher.matrices(texts))
    flags = np.flatnonzero(lsh.query_duplicate_flags_matrix_one_shot(matrix))
    assert len(shared) > 50 and flags.tolist() == shared
    # and the decisions agree: the rensa path equals deciding over every record's keys
    assert step.find(texts) == step.duplicates(sig, texts)


def chain(n_words: int = 40):
    """Three texts A ≈ B ≈ C (one word changed each time, exact Jaccard 0.85) with A ≉ C
    (0.73), among unrelated GCIDE entries."""
    from framework.data.sources.corpora import gcide_entries

    entries = [t for _n, t in gcide_entries(100, 104) if len(t.split()) > n_words]
    a = " ".join(entries[0].split()[:n_words])
    words = a.split()
    words[10] = "zzz"
    b = " ".join(words)
    words[25] = "yyy"
    c = " ".join(words)
    return [entries[1], a, entries[2], b, entries[3], c, entries[4]]


@pytest.mark.parametrize(("clusters", "removed"), [("kept", [3]), ("components", [3, 5])])
def test_minhash_clusters_kept_or_connected_components(clusters, removed):
    texts = chain()
    assert _jaccard(texts[1], texts[3]) > 0.8 and _jaccard(texts[3], texts[5]) > 0.8
    assert _jaccard(texts[1], texts[5]) < 0.8
    step = curate.dedupe_minhash(threshold=0.8, clusters=clusters)
    ds = datasets.Dataset.from_dict({TEXT: texts, "i": list(range(len(texts)))})
    kept = column(step(ds, CTX), "i")
    assert [i for i in range(len(texts)) if i not in kept] == removed
    assert step.find(texts) == [(r, 1) for r in removed]  # each names what its cluster keeps


def test_missing_drop_fill_flag():
    texts, labels = ["a", None, "  ", "d"], ["x", "y", "z", None]
    assert column(run(curate.missing(), texts, label=labels), TEXT) == ["a"]
    filled = run(
        curate.missing(columns=["text"], action="fill", fill_value="?"), texts, label=labels
    )
    assert column(filled, TEXT) == ["a", "?", "?", "d"] and column(filled, LABEL) == labels
    flagged = run(curate.missing(action="flag"), texts, label=labels)
    assert column(flagged, "text_missing") == [False, True, True, False]
    assert column(flagged, "label_missing") == [False, False, False, True]


def test_length_filter_by_chars_words_and_gpt2_tokens():
    texts = ["one", "two words here", "antidisestablishmentarianism"]
    assert column(run(curate.length(min_length=4, unit="chars"), texts), TEXT) == texts[1:]
    assert column(run(curate.length(min_length=2, unit="words"), texts), TEXT) == [texts[1]]
    # GPT-2 splits the long word into several tokens: 'one' is 1 token, the long word > 3
    out = run(curate.length(min_length=4, unit="tokens"), texts)
    assert column(out, TEXT) == [texts[2]]


def test_relevance_keep_or_drop_by_keyword_or_pattern():
    texts = ["I love Python", "pythonic is not a word here", "flight delayed 2 hours"]
    assert column(run(curate.relevance(keywords=["python"]), texts), TEXT) == [texts[0]]
    drop = curate.relevance(patterns=[r"\d+ hours?"], action="drop")
    assert column(run(drop, texts), TEXT) == texts[:2]
    with pytest.raises(PlaitError, match="bad regex"):
        curate.relevance(patterns=["(unclosed"])


def test_language_filter_keeps_english():
    texts = [
        "The weather is lovely today and we are going to the park.",
        "Das Wetter ist heute schön und wir gehen in den Park.",
        "Il fait beau aujourd'hui et nous allons au parc.",
    ]
    assert column(run(curate.language(keep=["en"]), texts), TEXT) == [texts[0]]
    assert column(run(curate.language(keep=["de", "fr"]), texts), TEXT) == texts[1:]


def test_min_class_count_drops_rare_classes():
    out = run(curate.min_class_count(min_count=2), ["a", "b", "c"], label=["x", "y", "x"])
    assert column(out, LABEL) == ["x", "x"]


def test_clean_steps_change_only_their_target():
    cases = [
        (clean.strip_html(), "<p>Fish &amp; chips</p><script>x()</script>", "Fish & chips"),
        (clean.urls(), "see https://a.b/c?d=1 and www.x.org now", "see  and  now"),
        (clean.urls("<url>"), "go http://t.co/xyz", "go <url>"),
        (clean.emails(), "mail me@host.org today", "mail  today"),
        (clean.mentions(), "@united lost my bag #fail", " lost my bag fail"),
        (clean.mentions(hashtags="drop"), "great #win", "great "),
        (clean.control_chars(), "a\x00b\u200bc\td\n", "abc\td\n"),
        (clean.whitespace(), "a  \t b\r\n\n\n c ", "a b\n\nc"),
        (clean.whitespace(keep_newlines=False), "a\r\nb  c", "a b c"),
        (clean.lowercase(), "ÀB c", "àb c"),
        (clean.wiki_markup(), "A [[link|linked]] '''bold''' {{cite}} word", "A linked bold  word"),
    ]
    for step, before, after in cases:
        assert column(run(step, [before]), TEXT) == [after], (step, before)


def test_stopwords_from_the_stop_words_package_with_extra_and_keep():
    from stop_words import get_stop_words

    assert "the" in get_stop_words("en")
    out = run(clean.stopwords(extra=["flight"], keep=["not"]), ["The flight was not on time."])
    assert column(out, TEXT) == ["not time."]
    assert column(run(clean.stopwords("de"), ["Der Hund und die Katze"]), TEXT) == ["Hund Katze"]
    with pytest.raises(PlaitError, match="no stop-word list"):
        clean.stopwords("xx")


def test_steps_run_the_same_on_several_processes():
    texts = [f"Text  number {i} <b>bold</b>" for i in range(3000)]
    one = run(clean.strip_html(), texts)
    two = clean.strip_html()(datasets.Dataset.from_dict({TEXT: texts}), StepContext(num_proc=2))
    assert column(one, TEXT) == column(two, TEXT)


def test_arrow_column_reads_an_indexed_dataset_in_its_order():
    from framework.records import arrow_column

    ds = datasets.Dataset.from_dict({TEXT: [f"t{i}" for i in range(100)]})
    picked = ds.select([5, 3, 99, 0]).shuffle(seed=1)
    assert arrow_column(picked, TEXT).to_pylist() == column(picked, TEXT)
    assert arrow_column(ds, TEXT).to_pylist() == column(ds, TEXT)
