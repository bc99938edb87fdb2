"""Bad input through the CLI (in-process; one case through a real process): one line on
stderr, exit status 2, no traceback."""

from __future__ import annotations

import pytest


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("plait: error: ")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["recipe=stdlib_gtp"], ["unknown recipe 'stdlib_gtp'", "did you mean 'stdlib_gpt'"]),
        (["model=gtp"], ["unknown model 'gtp'", "did you mean 'gpt"]),
        (["model.n_layr=2"], ["unknown key 'model.n_layr'", "did you mean 'n_layer'"]),
        (["trainer.max_steps=many"], ["wrong type for 'trainer.max_steps'"]),
    ],
)
def test_config_errors(cli, args, fragments):
    assert_one_line_error(cli("train", *args), *fragments)


def test_config_error_in_a_sweep_value_stops_before_any_run(cli, tmp_path):
    proc = cli("train", "-m", "model=gpt_tiny,gtp")
    assert_one_line_error(proc, "unknown model 'gtp'")
    assert not (tmp_path / "runs").exists()


def test_missing_data_path(plait):
    # a real process: the console script's own exit status and stderr
    proc = plait("train", "data/source=text_files", "data.source.paths=[/no/such/dir/*.txt]")
    assert_one_line_error(proc, "no file matches '/no/such/dir/*.txt'", "check the path")


def test_empty_corpus(cli, tmp_path):
    (tmp_path / "a.txt").write_text("  \n\n")
    (tmp_path / "b.txt").write_text("")
    proc = cli("train", "data/source=text_files", f"data.source.paths=[{tmp_path}/*.txt]")
    assert_one_line_error(proc, "no records", "check the path")


def test_corpus_shorter_than_one_block(cli, tmp_path):
    for name in "ab":
        (tmp_path / f"{name}.txt").write_text(f"print('hello {name}')\n" * 3)
    proc = cli(
        "train",
        "data/source=text_files",
        f"data.source.paths=[{tmp_path}/*.txt]",
        "data.split.val=0.5",
        "data.max_length=256",
    )
    assert_one_line_error(proc, "fewer than one block of 257", "lower data.max_length")


def test_undecodable_file_names_file_and_line(cli, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"line one\nline two \xff\xfe\n")
    proc = cli("train", "data/source=text_files", f"data.source.paths=[{tmp_path}/bad.txt]")
    assert_one_line_error(proc, "bad.txt:2", "data.source.errors=replace")


def test_generate_without_checkpoint(cli, tmp_path):
    proc = cli("generate", f"ckpt={tmp_path}/missing.ckpt")
    assert_one_line_error(proc, "checkpoint not found")
    assert_one_line_error(cli("generate", "promt=x"), "unknown option 'promt'", "'prompt'")


def test_list_unknown_kind(cli):
    assert_one_line_error(cli("list", "modle"), "unknown kind 'modle'", "'model'")


def test_resume_errors_fail_before_any_data_work(cli, tmp_path):
    assert_one_line_error(cli("train", "resume=/no/such.ckpt"), "no such checkpoint")
    proc = cli("train", "resume=auto", "name=fresh")
    assert_one_line_error(proc, "resume=auto found no checkpoint under", "runs/fresh/*/checkpoints")
    assert not list(tmp_path.glob("runs/fresh/*/tokenizer.json"))


def test_no_validation_split(cli):
    proc = cli("train", "data.split.val=0", "data.source.max_chars=50000")
    assert_one_line_error(proc, "no validation split", "data.split.val")
