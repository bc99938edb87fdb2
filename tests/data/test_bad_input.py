"""Bad data through the real command (`plait data`): one line, exit status 2, the fix."""

from __future__ import annotations

from tests.cli.test_errors import assert_one_line_error

NO_MAX = ["~recipe"]
"""Start without the default recipe (which sets a stdlib-only ``max_chars``)."""


def test_a_recipe_setting_the_new_source_lacks_says_how_to_drop_it(cli, tmp_path):
    proc = cli("data", "data/source=csv", f"data.source.paths=[{tmp_path}/a.csv]")
    assert_one_line_error(proc, "no 'max_chars'", "start without it (~recipe)")


def test_missing_column_lists_the_columns(cli, tmp_path):
    (tmp_path / "a.jsonl").write_text('{"body": "x", "stars": 1}\n')
    proc = cli("data", "data/source=jsonl", f"data.source.paths=[{tmp_path}/a.jsonl]", *NO_MAX)
    assert_one_line_error(proc, "text_column='text' is not a column", "columns: body, stars")


def test_a_step_that_removes_everything_is_named(cli, tmp_path):
    proc = cli(
        "data",
        "data.source.max_chars=50000",
        "data/curate=[relevance]",
        "data.curate.relevance.keywords=[xylophone_never]",
    )
    assert_one_line_error(proc, "data step 'relevance' (curate) removed every record")


def test_non_utf8_bytes_name_file_and_line(cli, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"line one\nline two\ncaf\xe9\n")
    proc = cli("data", "data/source=text_files", f"data.source.paths=[{tmp_path}/a.txt]")
    assert_one_line_error(proc, "a.txt:3: bytes that are not utf-8", "errors=replace")


def test_malformed_jsonl_line_names_file_and_line(cli, tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "fine"}\n{"text": "fine"}\n{"text": oops}\n')
    proc = cli("data", "data/source=jsonl", f"data.source.paths=[{tmp_path}/a.jsonl]", *NO_MAX)
    assert_one_line_error(proc, "a.jsonl:3: malformed JSON record", "bad_records=skip")


def test_nan_labels_are_counted_with_the_fix(cli, tmp_path):
    (tmp_path / "a.csv").write_text("text,label\nhello,pos\nworld,\nagain,neg\n")
    proc = cli(
        "data",
        "data/source=csv",
        *NO_MAX,
        f"data.source.paths=[{tmp_path}/a.csv]",
        "data.source.label_column=label",
    )
    assert_one_line_error(proc, "1 of 3 records have no label", "data/curate=[missing]")


def test_split_ratios_must_sum_to_one(cli):
    proc = cli("data", "data.split.train=0.8", "data.split.val=0.1", "data.split.test=0.2")
    assert_one_line_error(proc, "sum to 1.1, more than 1")


def test_stratifying_a_class_of_one(cli, tmp_path):
    rows = "\n".join(["text,label"] + [f"t{i},a" for i in range(9)] + ["lonely,b"])
    (tmp_path / "a.csv").write_text(rows + "\n")
    proc = cli(
        "data",
        "data/source=csv",
        *NO_MAX,
        f"data.source.paths=[{tmp_path}/a.csv]",
        "data.source.label_column=label",
        "data/split=stratified",
    )
    assert_one_line_error(proc, "class 'b' has 1 example(s)", "min_class_count")


def test_text_column_that_is_not_text(cli, tmp_path):
    (tmp_path / "a.csv").write_text("text,n\n1.5,2\n2.5,3\n")
    proc = cli("data", "data/source=csv", f"data.source.paths=[{tmp_path}/a.csv]", *NO_MAX)
    assert_one_line_error(proc, "the text column holds float64, not text")
