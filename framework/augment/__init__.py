"""Augmentation of the training split: text operations, their synonym sources, and image
transforms."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in text operations (with whether they look up synonyms), synonym
    sources and image transform sets."""
    from framework.augment import images, synonyms, text

    add = registry.add
    add("text_augment", "synonym_replacement", text.synonym_replacement, needs_synonyms=True)
    add("text_augment", "random_insertion", text.random_insertion, needs_synonyms=True)
    add("text_augment", "random_swap", text.random_swap)
    add("text_augment", "random_deletion", text.random_deletion)
    add("synonyms", "mythes", synonyms.mythes)
    add("synonyms", "wordnet", synonyms.wordnet)
    add("synonyms", "moby", synonyms.moby)
    add("synonyms", "table", synonyms.table)
    add("synonyms", "none", synonyms.none)
    add("image_augment", "albumentations", images.albumentations)
    add("image_augment", "basic", images.basic)
    add("image_augment", "none", images.none)
