"""A task, model and data that do not fit together stop with one line, before training."""

from __future__ import annotations

from tests.cli.test_errors import assert_one_line_error


def test_image_model_on_text(plait):
    proc = plait("train", "recipe=tweets_sentiment", "model=cnn")
    assert_one_line_error(proc, "model 'cnn' reads images; the data has none")


def test_classifier_without_a_label_column(plait):
    proc = plait("train", "task=text_classification", "data.source.max_chars=100000")
    assert_one_line_error(proc, "task text_classification needs class labels", "label_column")
