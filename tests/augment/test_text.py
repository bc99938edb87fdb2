"""Text augmentation: each EDA operation changes what it should and nothing else, variants
repeat under the seed (in any number of DataLoader workers), only the training split is
augmented, synonym sources load or say how to install them."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import torch
from omegaconf import OmegaConf

from framework.augment import synonyms as sources
from framework.augment.text import (
    AugmentContext,
    TextAugmenter,
    random_deletion,
    random_insertion,
    random_swap,
    synonym_replacement,
)
from framework.errors import PlaitError

TABLE = {"good": ["fine", "decent"], "movie": ["film"], "not": ["never"], "plot": ["story"]}
STOP = frozenset({"the", "was", "not", "a", "and"})
SENTENCES = [
    "The movie was not good",
    "a good plot and a good movie , not the best",
    "Good!",
    "the",
    "plot twists were not good and the movie was long",
]


def ctx(seed: int) -> AugmentContext:
    return AugmentContext(random.Random(seed), lambda w: TABLE.get(w, []), STOP)


def words_of(sentence: str) -> list[str]:
    return sentence.split()


def test_deletion_never_empties_a_sentence_and_only_removes_words():
    op = random_deletion(alpha=1.0)  # every word is drawn for deletion
    for seed in range(50):
        for s in SENTENCES:
            out = op.apply(words_of(s), ctx(seed))
            assert out, s
            assert not Counter(out) - Counter(words_of(s))  # nothing new, order aside
    partial = [random_deletion(0.3).apply(words_of(SENTENCES[4]), ctx(s)) for s in range(20)]
    assert any(len(p) < len(words_of(SENTENCES[4])) for p in partial)


def test_swap_keeps_the_multiset_of_words_and_moves_some():
    op = random_swap(alpha=0.2)
    moved = 0
    for seed in range(30):
        for s in SENTENCES:
            out = op.apply(words_of(s), ctx(seed))
            assert Counter(out) == Counter(words_of(s))
            moved += out != words_of(s)
    assert moved > 50


def test_replacement_changes_non_stop_words_with_synonyms_and_never_a_stop_word():
    op = synonym_replacement(alpha=1.0)
    for seed in range(30):
        out = op.apply(words_of("The movie was not good"), ctx(seed))
        assert out[0] == "The" and out[2:4] == ["was", "not"]  # stop words, though "not" has one
        assert out[1] == "film" and out[4] in ("fine", "decent")
    out = op.apply(["Good!", "GOOD"], ctx(0))  # case and punctuation are kept
    assert out[0] in ("Fine!", "Decent!") and out[1] in ("FINE", "DECENT")
    assert op.apply(["the", "not", "xyz"], ctx(0)) == ["the", "not", "xyz"]


def test_insertion_adds_synonyms_of_non_stop_words_and_keeps_the_sentence():
    op = random_insertion(alpha=0.5)
    original = words_of("the movie was not good")
    for seed in range(30):
        out = op.apply(original, ctx(seed))
        added = Counter(out) - Counter(original)
        assert sum(added.values()) == 2 and set(added) <= {"film", "fine", "decent"}
        it = iter(out)
        assert all(w in it for w in original)  # the original words, in order
    assert op.apply(["the", "was"], ctx(0)) == ["the", "was"]  # nothing to draw from


def test_the_same_seed_gives_the_same_variants():
    synonyms = sources.Synonyms("t", lambda: lambda w: TABLE.get(w, []))
    ops = [synonym_replacement(), random_insertion(), random_swap(), random_deletion()]
    aug = TextAugmenter(ops, synonyms, STOP, n_aug=8, mode="offline")
    text = SENTENCES[4]
    first, again, other = aug.variants(text, 7), aug.variants(text, 7), aug.variants(text, 8)
    assert first == again and first != other
    assert len(first) == 8 and len({op for _, op in first}) > 1


def test_settings_and_alphas_are_checked():
    synonyms = sources.none()
    with pytest.raises(PlaitError, match="alpha=0 must be in"):
        random_swap(alpha=0)
    with pytest.raises(PlaitError, match="n_aug=0 must be at least 1"):
        TextAugmenter([random_swap()], synonyms, STOP, n_aug=0, mode="online")
    with pytest.raises(PlaitError, match="'online' or 'offline', not 'both'"):
        TextAugmenter([random_swap()], synonyms, STOP, n_aug=1, mode="both")


# synonym sources -----------------------------------------------------------------------


def test_debian_and_pip_thesauri_give_synonyms():
    for source in (sources.mythes(), sources.wordnet(), sources.moby()):
        found = source.load().lookup("movie")
        assert "film" in found and "movie" not in found, source.name
        assert source.lookup("qzxv") == []


def test_a_missing_source_names_its_install_line(tmp_path):
    with pytest.raises(PlaitError, match="apt-get install -y mythes-en-us"):
        sources.mythes(path=str(tmp_path / "th.dat")).load()
    with pytest.raises(PlaitError, match="apt-get install -y wordnet-base wordnet-sense-index"):
        sources.wordnet(path=str(tmp_path)).load()
    with pytest.raises(PlaitError, match="no file at"):
        sources.table(path=str(tmp_path / "none.csv")).load()


def test_a_user_table_is_read_and_a_malformed_line_is_named(tmp_path):
    good = tmp_path / "syn.tsv"
    good.write_text("# mine\nQuick\tfast\trapid\n\nslow\tsluggish\n", "utf-8")
    table = sources.table(path=str(good), separator="\t").load()
    assert table.lookup("quick") == ["fast", "rapid"] and table.lookup("slow") == ["sluggish"]
    bad = tmp_path / "bad.csv"
    bad.write_text("quick,fast\nlonely\n", "utf-8")
    with pytest.raises(PlaitError, match=r"bad.csv line 2: 'lonely' has no synonyms"):
        sources.table(path=str(bad)).load()


# the data stage --------------------------------------------------------------------------

WORDS = ["good", "bad", "movie", "plot", "film", "story", "actor", "scene", "long", "fun"]


@pytest.fixture
def reviews(tmp_path):
    rng = random.Random(0)
    rows = ["text,label"]
    for i in range(120):
        text = " ".join(rng.choice(WORDS) for _ in range(8))
        rows.append(f"{text} {i},{'pos' if i % 2 else 'neg'}")
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n", "utf-8")
    (tmp_path / "syn.csv").write_text("good,fine\nmovie,film\nplot,story\nlong,lengthy\n", "utf-8")
    return tmp_path


def compose_reviews(registry, folder, *extra):
    from framework.config.compose import compose
    from framework.config.validate import validate

    cfg = compose(registry, [*compose_args(folder), "data/split=stratified", *extra])
    validate(cfg, registry)
    return cfg


def build(registry, cfg):
    from framework.data.stage import prepare_data

    return prepare_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed)


def test_online_augments_train_reads_only_and_repeats_in_any_number_of_workers(registry, reviews):
    from framework.tasks.text_batches import TokenDataset

    data = build(registry, compose_reviews(registry, reviews))
    train, val = data.datasets["train"], data.datasets["val"]
    assert isinstance(val, TokenDataset) and isinstance(data.datasets["test"], TokenDataset)
    assert [s.name for s in data.report.steps if s.stage == "augment"] == ["text (online)"]
    changed = sum(train[i][0] != train.base[i][0] for i in range(len(train)))
    assert changed > len(train) // 3  # the rest read the original (chance 1/5) or no-op
    assert all(train[i][1] == train.base[i][1] for i in range(len(train)))  # labels kept

    def epoch(workers: int, seed: int) -> list[list[int]]:
        loader = torch.utils.data.DataLoader(
            train,
            batch_size=16,
            num_workers=workers,
            collate_fn=lambda items: [ids for ids, _ in items],
            generator=torch.Generator().manual_seed(seed),
        )
        return [ids for batch in loader for ids in batch]

    one, two = epoch(1, 5), epoch(2, 5)
    assert one == two and one != epoch(2, 6)


def test_offline_stores_variants_in_train_only_and_reports_them(registry, reviews):
    plain = build(registry, compose_reviews(registry, reviews, "data/text_augment=[]"))
    cfg = compose_reviews(registry, reviews, "data.augment.mode=offline", "data.augment.n_aug=2")
    data = build(registry, cfg)
    sizes, before = data.report.splits, plain.report.splits
    assert sizes["train"] == 3 * before["train"]
    assert sizes["val"] == before["val"] and sizes["test"] == before["test"]
    step = next(s for s in data.report.steps if s.stage == "augment")
    assert (step.rows_in, step.rows_out) == (before["train"], sizes["train"])
    assert step.changed > 0 and "2 variants per text" in step.note and step.changed_examples
    again = build(registry, cfg)  # variants are part of the cached stage
    assert again.report.cache == "hit"
    assert again.datasets["train"].ids == data.datasets["train"].ids


def test_text_augment_is_refused_for_causal_lm_and_without_synonyms(registry, reviews):
    from framework.config.compose import compose
    from framework.config.validate import validate

    cfg = compose(registry, ["data/text_augment=[random_swap]"])
    with pytest.raises(PlaitError, match="one text per example .* not causal_lm"):
        validate(cfg, registry)
    cfg = compose_reviews(registry, reviews)
    OmegaConf.update(cfg, "data.synonyms", {"_name_": "none"}, merge=False)
    with pytest.raises(
        PlaitError, match="synonym_replacement needs synonyms.*data/synonyms=mythes"
    ):
        validate(cfg, registry)


def test_preview_writes_each_original_with_its_variants(registry, reviews, tmp_path, capsys):
    from framework.cli.main import main

    args = [*compose_args(reviews), "n=3", f"out={tmp_path / 'p'}"]
    assert main(["augment-preview", *args]) == 0
    lines = (tmp_path / "p" / "augment_preview.txt").read_text("utf-8").splitlines()
    originals = [ln for ln in lines if ln.startswith("[")]
    variants = [ln for ln in lines if " -> " in ln]
    assert len(originals) == 3 and len(variants) == 3 * 4  # n_aug 4 each
    assert {ln.split(" -> ")[0].strip() for ln in variants} <= {
        "synonym_replacement", "random_swap", "random_deletion"
    }  # fmt: skip
    assert "text augmentation" in capsys.readouterr().out


def compose_args(folder):
    return [
        "~recipe",
        "data/source=csv",
        f"data.source.paths=[{folder}/r.csv]",
        "data.source.label_column=label",
        "data/tokenizer=char",
        "task=text_classification",
        "model=textcnn",
        "data/text_augment=[synonym_replacement,random_swap,random_deletion]",
        "data/synonyms=table",
        f"data.synonyms.path={folder}/syn.csv",
    ]
