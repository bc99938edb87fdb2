"""Text augmentation from the config: the augmenter built from ``data/text_augment``,
``data/synonyms`` and ``data.augment``; the compose-time checks; the offline step of the data
stage and the online wrapper of the training split."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.augment.text import AugmentedTexts, Encode, TextAugmenter, item_seed
from framework.data.audit import EXAMPLES, DataReport, StepRecord, shorten
from framework.errors import PlaitError
from framework.records import TEXT
from framework.registry import NAME_KEY, Registry

OP = "_augment"
"""Offline mode: the column naming the operation that made each row ('' for originals)."""


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def text_augmenter(data_cfg: Any, registry: Registry) -> TextAugmenter | None:
    """The augmenter the data config asks for (None without ``data/text_augment``). The
    synonym source is not read yet: :meth:`TextAugmenter.load` does that when needed."""
    nodes = data_cfg.get("text_augment") or {}
    if not nodes:
        return None
    ops = [registry.build("text_augment", _plain(n)) for n in nodes.values()]
    needing = tuple(
        op.name
        for op, node in zip(ops, nodes.values())
        if registry.contract("text_augment", node).needs_synonyms
    )
    syn_node = data_cfg.get("synonyms")
    if syn_node is None:
        syn_node = {NAME_KEY: "none"}
    synonyms = registry.build("synonyms", _plain(syn_node))
    if needing and not synonyms.available:
        raise PlaitError(
            f"data/text_augment {needing[0]} needs synonyms, but data/synonyms is "
            f"'{synonyms.name}'; select a source: "
            + " or ".join(
                f"data/synonyms={n}" for n in registry.names("synonyms") if n != synonyms.name
            )
        )
    settings = data_cfg.get("augment") or {}
    stop_words: frozenset[str] = frozenset()
    language = settings.get("stop_words", "en")
    if language:
        from framework.data.clean import stop_word_set

        stop_words = stop_word_set(
            language, settings.get("extra_stop_words") or (), (), "data.augment.stop_words"
        )
    return TextAugmenter(
        ops, synonyms, stop_words, settings.get("n_aug", 4), settings.get("mode", "online"),
        needing,
    )  # fmt: skip


def check_text_augment(cfg: Any, registry: Registry, task: Any) -> TextAugmenter | None:
    """At compose: operations, synonym source and settings are valid, and the task reads one
    text per example (augmenting packed causal-LM blocks would change what is predicted).
    Returns the augmenter, for the data stage to use as it is."""
    augmenter = text_augmenter(cfg.data, registry)
    if augmenter is None:
        return None
    if task.inputs != "tokens" or task.packed:
        raise PlaitError(
            "data/text_augment needs a task with one text per example (reading tokens, not "
            f"packed into blocks), not {cfg.task[NAME_KEY]}; use data/text_augment=[]"
        )
    return augmenter


def augment_offline(train: Any, augmenter: TextAugmenter, seed: int, report: DataReport) -> Any:
    """Offline mode: each training record followed by its ``n_aug`` variants (same label and
    row id), audited as the ``augment`` step with examples."""
    import datasets

    t0 = time.perf_counter()
    names = train.column_names

    def expand(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {k: [] for k in [*names, OP]}
        for j, i in enumerate(indices):
            made = [(batch[TEXT][j], ""), *augmenter.variants(batch[TEXT][j], item_seed(seed, i))]
            for text, op in made:
                for k in names:
                    out[k].append(text if k == TEXT else batch[k][j])
                out[OP].append(op)
        return out

    features = train.features.copy()
    features[OP] = datasets.Value("string")
    ops = [sorted(vars(op).items()) for op in augmenter.operations]
    key = repr((train._fingerprint, seed, augmenter.n_aug, ops, sorted(augmenter.stop_words)))
    out = train.map(
        expand,
        batched=True,
        with_indices=True,
        batch_size=500,
        features=features,
        # the data cache decides reuse (its fingerprint covers the table file); datasets must
        # neither hash the synonym table nor reuse an older map's cache file
        new_fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],
        load_from_cache_file=False,
    )
    made_by = out[OP]
    texts = out[TEXT]
    rec = StepRecord("augment", "text (offline)", len(train), len(out))
    per_op = Counter(op for op in made_by if op)
    same, origin, shown_for = 0, "", None
    for text, op in zip(texts, made_by):
        if not op:
            origin = text
        elif text == origin:
            same += 1
        else:
            rec.changed += 1
            if len(rec.changed_examples) < EXAMPLES and shown_for is not origin:
                shown_for = origin  # one example per original
                example = {"before": shorten(origin), "after": f"{shorten(text)}  ({op})"}
                rec.changed_examples.append(example)
    shown = ", ".join(f"{k} {v:,}" for k, v in sorted(per_op.items()))
    rec.note = f"{augmenter.n_aug} variants per text: {shown}" + (
        f"; {same:,} equal their original" if same else ""
    )
    rec.seconds = round(time.perf_counter() - t0, 3)
    report.add(rec)
    return out.remove_columns(OP)


def augment_online(
    train: Any, texts: list[str], augmenter: TextAugmenter, tokenizer: Any, max_length: int
) -> AugmentedTexts:
    """Online mode: the training dataset wrapped so each read may return a fresh variant."""
    import os

    # tokenizers warns on every fork after it has run in parallel; workers encode one text
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if len(texts) != len(train):
        raise PlaitError("text augmentation: the training texts and examples do not line up")
    return AugmentedTexts(train, texts, augmenter, Encode(tokenizer, max_length))
