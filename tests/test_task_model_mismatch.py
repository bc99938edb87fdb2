"""A task, model, loss, metric and data that do not fit together stop with one line and exit
status 2: at compose time when the config says enough, else as soon as the data says it."""

from __future__ import annotations

import json

import pytest

from framework.errors import PlaitError
from tests.cli.test_errors import assert_one_line_error


def _jsonl(tmp_path, rows) -> list[str]:
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [
        "~recipe",
        "data/source=jsonl",
        f"data.source.paths=[{path}]",
        "data.source.label_column=label",
        "data/tokenizer=char",
        "data.max_length=16",
    ]


def test_image_model_on_text(cli):
    proc = cli("show", "recipe=tweets_sentiment", "model=cnn")
    assert_one_line_error(proc, "model 'cnn' reads images", "feeds it tokens", "textcnn")


def test_per_text_model_on_causal_lm(cli):
    proc = cli("show", "model=textcnn")
    assert_one_line_error(proc, "model 'textcnn' does not fit task causal_lm", "gpt, gru")


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (["recipe=tweets_sentiment", "metric=[perplexity]"],
         ["metric 'perplexity' does not fit task text_classification", "f1_macro"]),
        (["recipe=tweets_sentiment", "task=regression", "metric=[accuracy]"],
         ["metric 'accuracy' does not fit task regression", "mae, mse, r2"]),
        (["metric=[f1_macro]"], ["metric 'f1_macro' does not fit task causal_lm", "perplexity"]),
        (["recipe=tweets_sentiment", "loss=mse"],
         ["loss 'mse' does not fit task text_classification", "cross_entropy, focal"]),
        (["recipe=tweets_sentiment", "task.multi_label=true", "loss=cross_entropy"],
         ["loss 'cross_entropy' does not fit", "bce_with_logits"]),
    ],
)  # fmt: skip
def test_metric_or_loss_that_does_not_fit_the_task_stops_at_compose(registry, overrides, fragments):
    from framework.config.compose import compose
    from framework.config.validate import validate

    cfg = compose(registry, overrides)  # composing succeeds; validating, without data, stops
    with pytest.raises(PlaitError) as err:
        validate(cfg, registry)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_a_metric_that_does_not_fit_stops_the_command_before_any_data_work(cli):
    proc = cli("train", "recipe=tweets_sentiment", "metric=[accuracy,perplexity]")
    assert_one_line_error(proc, "metric 'perplexity' does not fit task text_classification")
    assert "data report" not in proc.stdout


def test_classifier_without_a_label_column(cli):
    proc = cli("train", "task=text_classification", "model=gpt_classifier",
                 "data.source.max_chars=100000")  # fmt: skip
    assert_one_line_error(proc, "task text_classification needs", "label_column")


def _data_error(registry, overrides) -> str:
    """The PlaitError the data stage of ``overrides`` stops with (in process: the command's
    own exit status and one-line form are tested above)."""
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.data.stage import prepare_data

    cfg = compose(registry, overrides)
    validate(cfg, registry)
    with pytest.raises(PlaitError) as err:
        prepare_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed)
    return str(err.value)


def test_more_classes_than_the_head_was_built_for(registry, tmp_path):
    rows = [{"text": f"text {i}", "label": "abc"[i % 3]} for i in range(30)]
    error = _data_error(registry, [*_jsonl(tmp_path, rows), "task=text_classification",
                                   "model=gpt_classifier", "task.num_classes=2"])  # fmt: skip
    assert "holds 3 classes but task.num_classes=2" in error and "raise task.num_classes" in error


def test_regression_on_a_column_of_words(cli, tmp_path):
    rows = [{"text": f"text {i}", "label": "positive"} for i in range(30)]
    proc = cli("train", *_jsonl(tmp_path, rows), "task=regression", "model=gpt_classifier")
    assert_one_line_error(proc, "task regression needs numbers", "row 0 holds 'positive'",
                          "label_column")  # fmt: skip


def test_fractional_labels_for_a_classifier_point_to_regression(registry, tmp_path):
    rows = [{"text": f"text {i}", "label": i / 7} for i in range(30)]
    error = _data_error(registry, [*_jsonl(tmp_path, rows), "task=text_classification",
                                   "model=gpt_classifier"])  # fmt: skip
    assert "fractional numbers" in error and "task=regression" in error


def test_multi_label_strings_without_a_separator(registry, tmp_path):
    rows = [{"text": f"text {i}", "label": "a|b"} for i in range(30)]
    error = _data_error(registry, [*_jsonl(tmp_path, rows), "task=text_classification",
                                   "task.multi_label=true", "model=gpt_classifier"])  # fmt: skip
    assert "must be lists of labels" in error and "task.label_separator" in error
