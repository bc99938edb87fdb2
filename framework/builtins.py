"""Plait's own components, registered through the same entry point a third party uses."""

from __future__ import annotations

from framework.registry import Registry


def register(registry: Registry) -> None:
    """Add every built-in component to ``registry``."""
    from framework.augment import images as images_augment
    from framework.augment import synonyms
    from framework.augment import text as text_augment
    from framework.data import balance, clean, curate, splits, tokenizers
    from framework.data.sources import corpora, files, images, web
    from framework.models import gpt, pretrained, text, vision
    from framework.tasks import causal_lm, image_classification, regression, text_classification
    from framework.training import (
        callbacks,
        freeze,
        hardware,
        loggers,
        losses,
        metrics,
        optim,
        regularizers,
    )  # fmt: skip

    for kind, module, names in (
        ("source", files, ["text_files", "jsonl", "csv", "parquet", "hf_disk", "hf_hub",
                           "image_folder"]),
        ("source", corpora, ["python_stdlib", "python_docs", "wikipedia_sample", "jargon",
                             "gcide", "tweets_sentiment", "fortunes", "bible_testament"]),
        ("source", images, ["fashion_mnist", "mnist_5k", "digits"]),
        ("source", web, ["web"]),
        ("curate", curate, ["normalize", "dedupe_exact", "dedupe_minhash", "missing", "length",
                            "relevance", "language", "min_class_count"]),
        ("clean", clean, ["strip_html", "wiki_markup", "urls", "emails", "mentions",
                          "control_chars", "whitespace", "lowercase", "stopwords", "unescape"]),
        ("tokenizer", tokenizers, ["char", "bpe", "wordpiece", "unigram", "pretrained", "gpt2"]),
        ("split", splits, ["random", "stratified", "group", "existing"]),
        ("balance", balance, ["none", "oversample", "undersample", "weighted_sampler",
                              "class_weights"]),
    ):  # fmt: skip
        for name in names:
            registry.add(kind, name, getattr(module, name))
    for name in ("synonym_replacement", "random_insertion", "random_swap", "random_deletion"):
        registry.add("text_augment", name, getattr(text_augment, name))
    for name in ("mythes", "wordnet", "moby", "table", "none"):
        registry.add("synonyms", name, getattr(synonyms, name))
    for name in ("albumentations", "basic", "none"):
        registry.add("image_augment", name, getattr(images_augment, name))
    registry.add("task", "causal_lm", causal_lm.causal_lm)
    registry.add("task", "text_classification", text_classification.text_classification)
    registry.add("task", "image_classification", image_classification.image_classification)
    registry.add("task", "regression", regression.regression)
    registry.add("model", "gpt", gpt.gpt)
    for name in ("textcnn", "lstm", "gru", "transformer_encoder"):
        registry.add("model", name, getattr(text, name))
    registry.add("model", "cnn", vision.cnn)
    registry.add("model", "resnet", vision.resnet)
    registry.add("model", "hf_pretrained", pretrained.hf_pretrained)
    for name in ("cross_entropy", "focal", "bce_with_logits", "mse"):
        registry.add("loss", name, getattr(losses, name))
    for name in ("perplexity", "accuracy", "exact_match"):
        registry.add("metric", name, getattr(metrics, name))
    for name, builder in metrics.AVERAGED.items():
        registry.add("metric", name, builder)
    for name in ("auroc", "map_macro", "confusion_matrix", "mse", "mae", "r2"):
        registry.add("metric", name, getattr(metrics, name))
    registry.add("freeze", "none", freeze.none)
    for name in ("adamw", "adam", "sgd"):
        registry.add("optimizer", name, getattr(optim, name))
    for name in ("cosine", "constant", "linear", "one_cycle", "plateau"):
        registry.add("scheduler", name, getattr(optim, name))
    for name in ("dropout", "l1", "l2", "weight_decay"):
        registry.add("regularizer", name, getattr(regularizers, name))
    registry.add("callback", "early_stopping", callbacks.early_stopping)
    for name in ("csv", "tensorboard", "mlflow"):
        registry.add("logger", name, getattr(loggers, name))
    registry.add("hardware", "cpu", hardware.cpu)
    registry.add("hardware", "gpu", hardware.gpu)
    registry.add("hardware", "ddp", hardware.ddp)
