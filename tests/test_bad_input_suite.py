"""The bad-input suite: configs, data files and faults a user meets, each ending in one line
on stderr that names the key (or the file and record), exit status 2, no traceback, and no
run directory for a config error. In-process, so the whole suite takes seconds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.test_errors import assert_one_line_error

# (overrides, fragments the one line must hold): every one stops when the config is composed
CONFIG_CASES = [
    # unknown names and keys
    (["recipe=stdlib_gtp"], ["unknown recipe 'stdlib_gtp'"]),
    (["model=gtp"], ["unknown model 'gtp'"]),
    (["optimizer=adamm"], ["unknown optimizer 'adamm'", "adamw"]),
    (["scheduler=cosin"], ["unknown scheduler 'cosin'", "cosine"]),
    (["data/source=pyhton_stdlib"], ["unknown source 'pyhton_stdlib'"]),
    (["data/tokenizer=bpee"], ["unknown tokenizer 'bpee'"]),
    (["data/split=stratifed"], ["unknown split 'stratifed'"]),
    (["hardware=tpu"], ["unknown hardware 'tpu'"]),
    (["metric=[acuracy]"], ["unknown metric 'acuracy'"]),
    (["model.n_layr=2"], ["unknown key 'model.n_layr'", "n_layer"]),
    (["trainer.max_step=2"], ["trainer.max_step"]),
    (["+trainer.foo=1"], ["unknown key 'trainer.foo'"]),
    (["+data.bogus=1"], ["unknown key 'data.bogus'"]),
    (["+colour=red"], ["unknown key 'colour'"]),
    (["optimizer.lrr=0.1"], ["unknown key 'optimizer.lrr'", "lr"]),
    # wrong types
    (["trainer.max_steps=many"], ["trainer.max_steps"]),
    (["trainer.batch_size=1.5"], ["trainer.batch_size"]),
    (["optimizer.lr=fast"], ["optimizer.lr"]),
    (["data.max_length=long"], ["data.max_length"]),
    (["seed=abc"], ["seed"]),
    (["recipe=tweets_minilm_fast", "model.layers=0"], ["model.layers", "at least 1"]),
    (["recipe=tweets_minilm_fast", "model.body_dropout=1.5"], ["model.body_dropout"]),
    # the data stage on Ray: addresses that answer nothing, steps with no Ray form
    (
        ["data/engine=ray", "data.engine.address=127.0.0.1:1"],
        ["data.engine.address='127.0.0.1:1'", "nothing answers", "ray start --head"],
    ),
    (
        ["data/engine=ray", "data.engine.address=ray://no-such-host.invalid:10001"],
        ["data.engine.address", "nothing answers"],
    ),
    (["data/engine=ray", "data.engine.address=not an address"], ["is not an address"]),
    (
        ["recipe=fortunes", "data/engine=ray"],
        ["data step 'min_class_count' (curate)", "no Ray form", "data/engine=local"],
    ),
    (["data/engine=ray", "data.streaming=true"], ["data.streaming=true", "data/engine=ray"]),
    (["data/engine=ray", "data.engine.block_rows=0"], ["data.engine.block_rows=0"]),
    (["data/engine=spark"], ["unknown", "spark"]),
    # values out of range, checked before any data work
    (
        ["model=gpt_tiny", "model.d_model=60", "model.n_head=8"],
        ["model.d_model=60 is not divisible by model.n_head=8"],
    ),
    (["trainer.batch_size=0"], ["trainer.batch_size=0 must be at least 1"]),
    (["trainer.batch_size=-4"], ["trainer.batch_size=-4 must be at least 1"]),
    (["trainer.max_steps=0"], ["trainer.max_steps=0 must be at least 1"]),
    (["trainer.val_every=0"], ["trainer.val_every=0 must be at least 1"]),
    (["trainer.accumulate=0"], ["trainer.accumulate=0 must be at least 1"]),
    (["trainer.log_every=0"], ["trainer.log_every=0"]),
    (["trainer.ckpt_every=-1"], ["trainer.ckpt_every=-1"]),
    (["trainer.keep_best=0"], ["trainer.keep_best=0"]),
    (["trainer.num_workers=-2"], ["trainer.num_workers=-2 must be at least 0"]),
    (["trainer.grad_clip=-1"], ["trainer.grad_clip=-1.0 must be above 0"]),
    (["trainer.precision=8-bit"], ["trainer.precision='8-bit' must be one of", "bf16-mixed"]),
    (["trainer.precision=16-mixed"], ["trainer.precision=16-mixed needs a GPU", "bf16-mixed"]),
    (["optimizer.lr=-5"], ["optimizer.lr=-5.0 must be at least 0"]),
    (["optimizer.eps=0"], ["optimizer.eps=0.0 must be above 0"]),
    (["optimizer.weight_decay=-0.1"], ["optimizer.weight_decay=-0.1 must be at least 0"]),
    (["optimizer.betas=[0.9]"], ["optimizer.betas=[0.9] must hold 2 values, not 1"]),
    (["optimizer.betas=[0.9,1.5]"], ["optimizer.betas", "holds 1.5, which must be"]),
    (["optimizer=sgd", "optimizer.momentum=-1"], ["optimizer.momentum=-1.0"]),
    (["model.d_model=0"], ["model.d_model=0 must be at least 1"]),
    (["model.n_layer=0"], ["model.n_layer=0 must be at least 1"]),
    (["model.n_head=-1"], ["model.n_head=-1"]),
    (["model.dropout=1.5"], ["model.dropout=1.5 must be at least 0 and below 1"]),
    (["model.dropout=-0.1"], ["model.dropout=-0.1"]),
    (["data.max_length=0"], ["data.max_length=0 must be at least 1"]),
    (["data.num_proc=0"], ["data.num_proc=0"]),
    (["data.split.val=1.5"], ["data.split.val=1.5 must be at least 0 and below 1"]),
    (["data.split.test=-0.1"], ["data.split.test=-0.1"]),
    (["data.split.overlap=keep"], ["data.split.overlap='keep' must be one of remove, report"]),
    (["scheduler.warmup_steps=-1"], ["scheduler.warmup_steps=-1"]),
    (["scheduler.min_lr_ratio=2"], ["scheduler.min_lr_ratio=2.0 must be at least 0 and at most 1"]),
    (["samples.temperature=-1"], ["samples.temperature=-1.0"]),
    (["samples.top_k=0"], ["samples.top_k=0"]),
    (["hardware.processes=0"], ["hardware.processes=0"]),
    (["loss=cross_entropy", "loss.label_smoothing=1.5"], ["loss.label_smoothing=1.5"]),
    (["recipe=tweets_sentiment", "data.augment.n_aug=0"], ["data.augment.n_aug=0"]),
    (["recipe=tweets_sentiment", "data.augment.mode=sometimes"], ["data.augment.mode"]),
    (["regularizer=[dropout]", "regularizer.dropout.p=2"], ["regularizer.dropout.p=2.0"]),
    (["regularizer=[l1]", "regularizer.l1.coefficient=-1"], ["regularizer.l1.coefficient"]),
    # several problems at once, in one line
    (
        ["trainer.batch_size=0", "optimizer.lr=-1", "model.dropout=3"],
        ["3 bad values", "trainer.batch_size=0", "optimizer.lr=-1.0", "model.dropout=3.0"],
    ),
    # hardware that is not there
    (["hardware=gpu"], ["hardware=gpu asks for 1 GPU(s); this machine has 0"]),
    (["hardware=ddp"], ["hardware=ddp asks for"]),
    (["hardware=fsdp"], ["hardware=fsdp asks for 1 GPU(s); this machine has 0"]),
    (["hardware=multi_gpu"], ["hardware=multi_gpu asks for 2 GPU(s)"]),
    (["hardware=multi_node"], ["hardware=multi_node asks for"]),
    (["hardware=fsdp", "hardware.sharding=ALL"], ["hardware.sharding='ALL' must be one of"]),
    (
        ["hardware=fsdp", "hardware.wrap=layers"],
        ["hardware.wrap='layers' must be one of", "blocks"],
    ),
    (
        ["hardware.processes=3", "hardware.keep_global_batch=true", "trainer.accumulate=4"],
        ["trainer.accumulate=4 cannot be shared by 3 ranks"],
    ),
    # interpolations
    (["name=${nope}"], ["'name'", "nope", "${...}"]),
    (["trainer.max_steps=${trainer.nothing}"], ["trainer.max_steps", "nothing"]),
    # components that do not fit the task, or each other
    (["model=cnn"], ["model 'cnn' does not fit task causal_lm", "models that fit: gpt"]),
    (["metric=[accuracy]"], ["metric 'accuracy' does not fit task causal_lm"]),
    (["loss=mse"], ["loss 'mse' does not fit task causal_lm"]),
    (["data/text_augment=[random_swap]"], ["one text per example", "not causal_lm"]),
    (
        ["callback=[early_stopping]", "callback.early_stopping.monitor=val/acuracy"],
        ["callback.early_stopping.monitor='val/acuracy' is not a metric this run logs"],
    ),
    (["~recipe", "scheduler=plateau", "scheduler.monitor=val/f1"], ["scheduler.monitor='val/f1'"]),
    (["optimized_metric=val/accuracy"], ["optimized_metric='val/accuracy'"]),
    (["data.tokenizer.vocab_size=5"], ["data.tokenizer.vocab_size=5 is below the 259 tokens"]),
    (["model.target_params=lots"], ["model.target_params='lots' must be a parameter count"]),
    # fine-tuning: checked against the model's structure, before any data work
    (
        ["freeze=[pattern]", "freeze.pattern.include=[nomatch]"],
        ["freeze.pattern.include: 'nomatch' matches no parameter name"],
    ),
    (
        ["model=gpt_tiny", "freeze=[first_n]", "freeze.first_n.n=9"],
        ["freeze.first_n.n=9, but the model has 2 blocks"],
    ),
    (
        ["freeze=[lora]", "freeze.lora.targets=[nope]"],
        ["freeze.lora.targets: 'nope' names no module", "qkv"],
    ),
    (["optimizer.lr_decay=1.5"], ["optimizer.lr_decay=1.5 must be above 0 and at most 1"]),
    (["optimizer.lr_decay=0"], ["optimizer.lr_decay=0.0 must be above 0"]),
    (["optimizer.lr_scales={nomatch:2}"], ["optimizer.lr_scales: 'nomatch' matches no"]),
    (["optimizer.lr_scales={blocks:-2}"], ["optimizer.lr_scales['blocks']=-2 must be"]),
    (["model.init=/no/such/run"], ["model.init=/no/such/run: no such checkpoint"]),
    (["model=lstm_lm", "freeze=[embeddings]"], ["cannot find repeated blocks", "freeze=pattern"]),
    (["recipe=tweets_gpt_pretrained"], ["'data.tokenizer.path'", "but model.init is null"]),
    # settings left without their option, missing values
    (["data/curate=[]", "+data.curate.length.min_length=5"], ["data.curate.length"]),
    (["resume=/no/such.ckpt"], ["resume=/no/such.ckpt: no such checkpoint"]),
    # arbitrary code: refused before anything is built, in every form
    (["+callback.evil._target_=os.system"], ["'callback.evil._target_' names a Python callable"]),
    (["~hardware", "+hardware._target_=os.system"], ["'hardware._target_'", "allow_targets"]),
    (["~optimizer", "+optimizer._target_=os.system"], ["'optimizer._target_'"]),
    (["+model._target_=os.system"], ["'model._target_'"]),
    (["+data.source._target_=os.system"], ["'data.source._target_'"]),
    (["+metric.x._target_=os.system"], ["'metric.x._target_'"]),
    (["+logger.x._target_=os.system"], ["'logger.x._target_'"]),
    (["~task", "+task._target_=os.system"], ["'task._target_'"]),
]


@pytest.mark.parametrize(
    ("args", "fragments"), CONFIG_CASES, ids=[" ".join(a)[:60] for a, _ in CONFIG_CASES]
)
def test_bad_config_stops_before_any_work(cli, tmp_path, args, fragments):
    assert_one_line_error(cli("train", *args), *fragments)
    assert not (tmp_path / "runs").exists()  # no run dir, no data stage


def test_every_value_of_a_sweep_is_checked_before_the_first_trial(cli, tmp_path):
    proc = cli("train", "-m", "optimizer.lr=1e-3,-5", "trainer.max_steps=2")
    assert_one_line_error(proc, "optimizer.lr=-5.0 must be at least 0")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        # each value is fine alone; only the trial d_model=60, n_head=8 is not
        (["model=gpt_tiny", "model.d_model=64,60", "model.n_head=4,8"],
         "model.d_model=60 is not divisible by model.n_head=8"),
        # the sampler may draw anything in an interval: its ends are checked
        (["search=random", "optimizer.lr=interval(-1,0.1)"],
         "optimizer.lr=-1.0 must be at least 0"),
    ],
)  # fmt: skip
def test_every_trial_of_a_sweep_is_checked_before_the_first(cli, tmp_path, args, fragment):
    assert_one_line_error(cli("train", "-m", *args, "trainer.max_steps=2"), fragment)
    assert not (tmp_path / "runs").exists()
    assert not list(tmp_path.glob("multirun*"))


@pytest.mark.parametrize("dir_key", ["hydra.run.dir", "hydra.sweep.dir"])
def test_a_run_directory_that_cannot_be_made(cli, tmp_path, dir_key):
    (tmp_path / "afile").write_text("a file, not a folder")
    multirun = ["-m"] if dir_key == "hydra.sweep.dir" else []
    proc = cli("train", *multirun, "trainer.max_steps=1", f"{dir_key}=afile/run")
    assert_one_line_error(proc, "cannot write 'afile/run': Not a directory", dir_key)


@pytest.mark.parametrize(
    "args",
    [
        ["+callback.evil._target_=os.system", "+callback.evil.command=touch {marker}"],
        ["~hardware", "+hardware._target_=os.system", "+hardware.command=touch {marker}"],
        ["+freeze.evil._target_=os.system", "+freeze.evil.command=touch {marker}"],
        ["~optimizer", "+optimizer._target_=os.system", "+optimizer.command=touch {marker}"],
    ],
)
def test_a_target_runs_nothing(cli, tmp_path, args):
    marker = tmp_path / "ran"
    proc = cli("train", *[a.format(marker=marker) for a in args])
    assert_one_line_error(proc, "names a Python callable", "allow_targets=true")
    assert not marker.exists()


def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(cli, tmp_path):
    import os

    import torch

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "bad.ckpt"
    torch.save({"plait": Exploit(), "state_dict": {}}, bad)
    for command in (["generate", f"ckpt={bad}"], ["train", f"resume={bad}"]):
        assert_one_line_error(cli(*command), "cannot read checkpoint", "weights only")
        assert not marker.exists()

    stored = tmp_path / "target.ckpt"  # loads as weights, but its config names a callable
    config = {"model": {"_target_": "os.system", "command": f"touch {marker}"}}
    torch.save({"plait": {"config": config, "data_info": {}, "tokenizer": ""}}, stored)
    assert_one_line_error(cli("generate", f"ckpt={stored}"), "'model._target_' names a Python")
    assert not marker.exists()


# data files ------------------------------------------------------------------------------


def _jsonl(tmp_path, lines):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return [
        "~recipe", "data/source=jsonl", f"data.source.paths=[{path}]", "data/tokenizer=char",
        "data.split.val=0.0",
    ]  # fmt: skip


BAD = "d.jsonl:2: malformed JSON record"
DATA_CASES = [
    (['{"text": "fine"}', "{broken"], BAD),
    (['{"text": "fine"}', '{"text": null}'], f"{BAD} (its 'text' is null"),
    (['{"text": "fine"}', '{"text": 7}'], f"{BAD} (its 'text' is of type int"),
    (['{"text": "fine"}', '{"body": "x"}'], f"{BAD} (its 'text' is missing"),
    (['{"text": "fine"}', "[1, 2]"], f"{BAD} (a JSON list"),
]


@pytest.mark.parametrize(("lines", "fragment"), DATA_CASES)
def test_a_malformed_record_names_file_and_line(cli, tmp_path, lines, fragment):
    assert_one_line_error(cli("data", *_jsonl(tmp_path, lines)), fragment, "bad_records=skip")


def test_skipped_records_are_counted_with_examples(cli, tmp_path):
    lines = [
        '{"text": "good one"}', '{"text": null}', "{not json}", '{"text": 5}', '{"body": "x"}',
        '{"text": "another good one"}', "", '{"text": "third"}',
    ]  # fmt: skip
    proc = cli("data", *_jsonl(tmp_path, lines), "data.source.bad_records=skip")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "runs/plait/data_report.json").read_text())
    source = report["steps"][0]
    assert (source["rows_in"], source["rows_out"]) == (7, 3)
    assert "4 malformed records skipped" in source["note"]
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in source["removed_examples"]] == [
        "2", "3", "4",
    ]  # fmt: skip


def test_a_bad_records_policy_outside_the_choices(cli, tmp_path):
    proc = cli("data", *_jsonl(tmp_path, ['{"text": "a"}']), "data.source.bad_records=maybe")
    assert_one_line_error(proc, "bad_records must be 'fail' or 'skip'")


def test_csv_without_the_text_column(cli, tmp_path):
    (tmp_path / "d.csv").write_text("body,label\nhello,a\n")
    proc = cli(
        "data", "~recipe", "data/source=csv", f"data.source.paths=[{tmp_path}/d.csv]",
        "data/tokenizer=char",
    )  # fmt: skip
    assert_one_line_error(proc, "data.source.text_column='text' is not a column", "body")


def test_non_utf8_jsonl_names_the_line(cli, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    proc = cli(
        "data", "~recipe", "data/source=jsonl", f"data.source.paths=[{path}]",
        "data/tokenizer=char",
    )  # fmt: skip
    assert_one_line_error(proc, "d.jsonl:2: bytes that are not utf-8", "errors=replace")


def test_a_library_error_is_one_line_and_a_bug_of_plaits_keeps_its_traceback():
    import torch

    from framework.errors import library_error

    try:
        torch.nn.Linear(3, 4)(torch.zeros(2, 5))
    except RuntimeError as exc:
        said = library_error(exc)
    assert said is not None and "\n" not in str(said)
    assert str(said).startswith("torch stopped the run: RuntimeError: mat1 and mat2")
    try:
        {}["missing"]
    except KeyError as exc:
        assert library_error(exc) is None


def test_an_image_folder_of_one_size_needs_no_image_size_and_mixed_sizes_say_so(registry, tmp_path):
    from PIL import Image

    from framework.data.stage import prepare_data
    from framework.errors import PlaitError
    from framework.tasks.image_classification import image_classification
    from tests.data.test_pipeline import data_cfg

    for cls in ("cat", "dog"):
        folder = tmp_path / "same" / cls
        folder.mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (12, 10), (40 * i, 0, 0)).save(folder / f"{i}.png")
    source = {"_name_": "image_folder", "path": str(tmp_path / "same")}
    split = {"_name_": "random", "val": 0.25}
    cfg = data_cfg(source=source, tokenizer=None, split=split, cache=False)
    data = prepare_data(cfg, image_classification(), registry, 0)
    assert data.info.image_shape == [3, 10, 12]
    Image.new("RGB", (20, 20)).save(tmp_path / "same" / "dog" / "big.png")
    with pytest.raises(PlaitError, match=r"the images come in 2 sizes \(12x10, 20x20\); set task"):
        prepare_data(cfg, image_classification(), registry, 0)


def test_no_shipped_config_names_a_callable_or_trusts_itself():
    from tests.conftest import REPO

    for path in [*REPO.glob("conf/**/*.yaml"), *REPO.glob("recipes/*.yaml")]:
        text = path.read_text("utf-8")
        assert "_target_" not in text and "allow_targets" not in text, path


# the commands that read a trained run: eval, predict, compare, export, generate ------------
# Each case asserts the one line, exit status 2, and that every file the user had (the run,
# their folders, their inputs) is byte-identical afterwards.


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A tiny fortunes classifier and a tiny language model, trained once per session."""
    from tests.conftest import shared, train_tiny_lm
    from tests.evaluate.test_eval_runs import _run_dir, _train_fortunes

    classifier = _run_dir(shared(tmp_path_factory, "fortunes", _train_fortunes), "fortunes")
    return classifier, shared(tmp_path_factory, "docs-lm", train_tiny_lm) / "run"


@pytest.fixture
def runs(trained, tmp_path):
    """Copies of the two runs in the test's folder (``clf``, ``lm``), and a user's input file
    and folder beside them."""
    import shutil

    for name, run in zip(("clf", "lm"), trained):
        shutil.copytree(run, tmp_path / name, symlinks=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's own notes\n")
    (tmp_path / "in.csv").write_text("text\nwhy did the chicken cross the road\n")
    (tmp_path / "a_file").write_text("a file, not a folder\n")
    return tmp_path


OUTPUT_CASES = [
    (["eval", "run=clf", "out=clf"], ["out=clf holds", "it is a run dir", "overwrite=true"]),
    (["eval", "run=clf", "out=mine"], ["out=mine holds notes.txt (not Plait's)"]),
    (["eval", "run=clf", "out=a_file"], ["out=a_file is a file; give a folder"]),
    (["eval", "run=clf", "out=a_file/eval"], ["cannot write out=a_file/eval", "is a file"]),
    (["eval", "run=clf", "out=/proc/sys/plait"], ["cannot write out=/proc/sys/plait"]),
    (["export", "run=clf", "format=safetensors", "out=clf"], ["out=clf holds", "a run dir"]),
    (["export", "run=clf", "format=safetensors", "out=mine"], ["out=mine holds notes.txt"]),
    (["export", "run=lm", "out=a_file/x"], ["cannot write out=a_file/x"]),
    (["compare", "clf", "clf", "out=mine"], ["out=mine holds notes.txt"]),
    (["compare", "clf", "clf", "out=lm"], ["out=lm holds", "it is a run dir"]),
    (["predict", "run=clf", "input=in.csv", "output=in.csv"], ["output=in.csv is the input"]),
    (["predict", "run=clf", "input=in.csv", "output=mine/notes.txt"],
     ["output=mine/notes.txt exists and Plait did not write it", "overwrite=true"]),
    (["predict", "run=clf", "input=in.csv", "output=mine"], ["output=mine is a folder"]),
    (["predict", "run=clf", "input=in.csv", "output=a_file/p.csv"], ["cannot write output="]),
    (["predict", "run=clf", "input=in.csv", "output=/proc/sys/p.csv"], ["cannot write output="]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), OUTPUT_CASES, ids=[" ".join(a)[:60] for a, _ in
                                                                    OUTPUT_CASES])  # fmt: skip
def test_an_output_that_would_replace_or_cannot_be_written_is_one_line(runs, args, fragments):
    from tests.conftest import run_in_process, snapshot

    before = snapshot(runs)
    assert_one_line_error(run_in_process(args, runs), *fragments)
    assert snapshot(runs) == before


def test_overwrite_true_writes_beside_the_users_files_and_lists_only_its_own(runs):
    from framework.outputs import MARK, written_by_plait
    from tests.conftest import run_in_process, snapshot

    notes = snapshot(runs / "mine")
    proc = run_in_process(["eval", "run=clf", "out=mine", "overwrite=true", "bootstrap=50"], runs)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(runs / "mine").items() >= notes.items()  # the user's file as it was
    ours = written_by_plait(runs / "mine")
    assert "notes.txt" not in ours and {"eval.json", "predictions.csv"} <= ours
    assert (runs / "mine" / MARK).is_file()
    # a folder Plait wrote may take Plait's output again without overwrite=true
    again = run_in_process(["eval", "run=clf", "out=fresh", "bootstrap=50"], runs)
    assert again.returncode == 0, again.stderr
    assert run_in_process(["eval", "run=clf", "out=fresh", "bootstrap=50"], runs).returncode == 0


def test_predict_writes_its_default_file_again_but_not_the_input(runs):
    from tests.conftest import run_in_process

    for _ in range(2):
        proc = run_in_process(["predict", "run=clf", "input=in.csv"], runs)
        assert proc.returncode == 0, proc.stderr
    assert (runs / "in.predictions.csv").is_file()
    kept = (runs / "in.csv").read_bytes()
    proc = run_in_process(["predict", "run=clf", "input=in.csv", "output=in.csv"], runs)
    assert proc.returncode == 2 and (runs / "in.csv").read_bytes() == kept


def test_a_reused_run_dir_is_refused_and_the_first_runs_files_stay_byte_identical(cli, tmp_path):
    from tests.conftest import TINY_LM, snapshot

    short = [*TINY_LM, "trainer.max_steps=4", "trainer.val_every=2", "trainer.ckpt_every=2"]
    assert cli("train", *short, "hydra.run.dir=run").returncode == 0
    before = snapshot(tmp_path / "run")
    assert any(p.endswith(".ckpt") for p in before)
    proc = cli("train", *short, "model.d_model=64", "hydra.run.dir=run")
    assert_one_line_error(proc, "hydra.run.dir=run already holds a run", "resume=auto")
    assert snapshot(tmp_path / "run") == before

    # continued with resume=auto, in the same folder: the earlier metrics rows are kept
    def rows() -> list[dict[str, str]]:
        import csv

        with open(tmp_path / "run" / "metrics.csv", newline="") as fh:
            return [{k: v for k, v in r.items() if v} for r in csv.DictReader(fh)]

    first = rows()
    longer = [a for a in short if not a.startswith("trainer.max_steps")]
    proc = cli("train", *longer, "trainer.max_steps=6", "hydra.run.dir=run", "resume=auto")
    assert proc.returncode == 0, proc.stderr
    assert "continuing the run in run" in proc.stderr
    after = rows()
    assert after[: len(first)] == first and len(after) > len(first)  # appended, none lost


def test_a_user_folder_as_run_dir_is_refused_and_a_clock_named_one_is_written_beside(tmp_path):
    from framework.errors import PlaitError
    from framework.rundir import claim_run_dir

    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "config.yaml").write_text("mine: true\n")
    with pytest.raises(PlaitError, match=r"hydra.run.dir=.*project already holds a run \("):
        claim_run_dir(mine, "hydra.run.dir", timed=False, resume=None)
    assert claim_run_dir(tmp_path / "new", "hydra.run.dir", False, None) == (tmp_path / "new",
                                                                             None)  # fmt: skip
    path, said = claim_run_dir(mine, "hydra.run.dir", timed=True, resume=None)
    assert path == tmp_path / "project_1" and "writes beside it" in said
    (mine / "checkpoints").mkdir()
    (mine / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert claim_run_dir(mine, "k", False, "auto")[0] == mine
    assert claim_run_dir(mine, "k", False, str(mine / "checkpoints" / "last.ckpt"))[0] == mine
    with pytest.raises(PlaitError, match="already holds a run"):
        claim_run_dir(mine, "k", False, str(tmp_path / "elsewhere.ckpt"))


def test_a_grid_sweep_into_a_folder_holding_jobs_is_refused(cli, tmp_path):
    from tests.conftest import TINY_LM, snapshot

    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "config.yaml").write_text("an: earlier job\n")
    before = snapshot(tmp_path / "sweep")
    proc = cli("train", "-m", *TINY_LM, "optimizer.lr=1e-3,2e-3", "hydra.sweep.dir=sweep")
    assert_one_line_error(proc, "hydra.sweep.dir=sweep already holds files (0)")
    assert snapshot(tmp_path / "sweep") == before


VALUE_CASES = [
    (["eval", "run=clf", "batch_size=0"], "batch_size=0 must be at least 1"),
    (["eval", "run=clf", "bootstrap=-5"], "bootstrap=-5 must be at least 1"),
    (["predict", "run=clf", "input=in.csv", "batch_size=-1"], "batch_size=-1 must be at least 1"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "max_new_tokens=0"], "max_new_tokens=0"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "temperature=-1"], "temperature=-1.0"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "num_samples=0"], "num_samples=0"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "top_p=0"], "top_p=0.0 must be above 0"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "top_p=1.5"], "top_p=1.5 must be above 0 and"),
    (["generate", "ckpt=lm/checkpoints/last.ckpt", "top_k=-1"], "top_k=-1 must be at least 0"),
    (["generate", "ckpt=clf/checkpoints/last.ckpt"],
     "is a checkpoint of task text_classification (it predicts a class, not the next token)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragment"), VALUE_CASES, ids=[" ".join(a)[:60] for a, _ in
                                                                  VALUE_CASES])  # fmt: skip
def test_a_commands_own_bad_value_is_one_line_before_any_work(runs, args, fragment):
    from tests.conftest import run_in_process, snapshot

    before = snapshot(runs)
    assert_one_line_error(run_in_process(args, runs), fragment)
    assert snapshot(runs) == before


@pytest.mark.parametrize(
    "args",
    [["hardware=gpu", "hardware.devices=0"], ["hardware=ddp", "hardware.devices=0"],
     ["hardware=multi_gpu", "hardware.devices=-2"], ["hardware=fsdp", "hardware.devices=0"],
     ["hardware=multi_node", "hardware.devices=0"], ["hardware=cpu", "hardware.threads=0"],
     ["hardware=auto", "hardware.processes=0"], ["hardware=multi_node", "hardware.num_nodes=0"]],
)  # fmt: skip
def test_device_counts_are_checked_in_every_preset_before_the_hardware(cli, tmp_path, args):
    key, value = args[1].split("=")
    assert_one_line_error(cli("train", *args), f"{key}={value} must be at least 1")
    assert not (tmp_path / "runs").exists()


def test_nucleus_sampling_keeps_the_fewest_tokens_that_reach_p():
    import torch

    from framework.models.generate import _nucleus

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(_nucleus(logits, 0.75))[0].tolist()
    assert kept == [True, True, False, False]
    assert torch.isfinite(_nucleus(logits, 0.01))[0].tolist() == [True, False, False, False]


# a stranger's run is data: nothing it names is imported, resolved or run ---------------------


@pytest.fixture
def stranger(runs, tmp_path, monkeypatch):
    """The copied runs, made a stranger's: their stored configs (``config.yaml`` and the
    checkpoints' own copies) name an environment variable in texts Plait writes out, and
    ``hostile/`` holds runs whose model is a module that runs code when imported and a
    Hugging Face folder that needs its own code. Returns the secret and the markers."""
    import torch
    import yaml

    secret = "s3cr3t-value-of-the-user"
    monkeypatch.setenv("PLAIT_TEST_SECRET", secret)
    marker = tmp_path / "imported"
    code = tmp_path / "pkgs"
    code.mkdir()
    (code / "plait_stranger_mod.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.setenv("PYTHONPATH", str(code))
    remote = tmp_path / "remote_model"
    remote.mkdir()
    (remote / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (remote / "config.json").write_text(json.dumps({
        "model_type": "evil", "architectures": ["EvilModel"],
        "auto_map": {"AutoConfig": "modeling_evil.EvilConfig",
                     "AutoModel": "modeling_evil.EvilModel"}}))  # fmt: skip
    env = "${oc.env:PLAIT_TEST_SECRET}"
    for run in (runs / "clf", runs / "lm"):
        stored = yaml.safe_load((run / "config.yaml").read_text())
        stored["name"] = f"from {env}"
        stored.setdefault("samples", {})["prompts"] = [f"def {env}"]
        (run / "config.yaml").write_text(yaml.safe_dump(stored))
        for ckpt in (run / "checkpoints").glob("*.ckpt"):
            state = torch.load(ckpt, weights_only=True)
            state["plait"]["config"]["name"] = stored["name"]
            state["plait"]["config"]["samples"] = stored["samples"]
            torch.save(state, ckpt)
    base = torch.load(runs / "lm" / "checkpoints" / "last.ckpt", weights_only=True)
    for name, model in (("package", {"package": "plait_stranger_mod"}),
                        ("remote", {"path": str(remote)})):  # fmt: skip
        run = runs / "hostile" / name
        (run / "checkpoints").mkdir(parents=True)
        state = dict(base, plait=dict(base["plait"]))
        state["plait"]["config"] = dict(base["plait"]["config"],
                                        model={"_name_": "hf_pretrained", **model})  # fmt: skip
        torch.save(state, run / "checkpoints" / "last.ckpt")
        (run / "config.yaml").write_text(yaml.safe_dump(state["plait"]["config"]))
    return secret, marker


def test_a_strangers_run_resolves_nothing_and_leaks_no_environment(stranger, runs):
    from tests.conftest import run_in_process

    secret, marker = stranger
    commands = [
        ["eval", "run=clf", "out=ev", "bootstrap=20"],
        ["eval", "run=lm", "out=ev_lm", "bootstrap=20"],
        ["predict", "run=clf", "input=in.csv"],
        ["export", "run=lm", "out=exp"],
        ["export", "run=clf", "format=safetensors", "out=exp_clf"],
        ["generate", "ckpt=lm/checkpoints/last.ckpt", "max_new_tokens=4"],
    ]
    for args in commands:
        proc = run_in_process(args, runs)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert secret not in proc.stdout + proc.stderr, args
    written = [p for p in runs.rglob("*") if p.is_file() and p.suffix != ".ckpt"]
    assert not [p for p in written if secret.encode() in p.read_bytes()]
    assert "${oc.env:PLAIT_TEST_SECRET}" in (runs / "exp" / "README.md").read_text()
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["package", "remote"])
@pytest.mark.parametrize("command", ["eval", "predict", "export", "generate"])
def test_a_strangers_model_package_or_remote_code_runs_nothing_and_asks_nothing(
    stranger, runs, kind, command
):
    from tests.conftest import run_in_process, snapshot

    _, marker = stranger
    run = f"hostile/{kind}"
    args = {
        "eval": ["eval", f"run={run}"],
        "predict": ["predict", f"run={run}", "input=in.csv"],
        "export": ["export", f"run={run}", "out=exp"],
        "generate": ["generate", f"ckpt={run}/checkpoints/last.ckpt"],
    }[command]
    before = snapshot(runs)
    proc = run_in_process(args, runs)  # pytest's stdin cannot be read: a prompt would fail
    said = {"package": "ships no model", "remote": "needs Python code of its own"}[kind]
    assert_one_line_error(proc, said)
    assert "custom code" not in proc.stdout + proc.stderr  # transformers' prompt
    assert not marker.exists()
    assert snapshot(runs) == before


# fine-tuning inputs at compose ----------------------------------------------------------------


def test_model_init_inputs_are_one_line_before_the_data_stage(cli, runs, tmp_path):
    import os

    import torch

    from tests.conftest import snapshot

    (tmp_path / "junk.ckpt").write_text("not a checkpoint\n")

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"plait": Exploit(), "state_dict": {}}, tmp_path / "pickled.ckpt")
    lm = torch.load(runs / "lm" / "checkpoints" / "last.ckpt", weights_only=True)
    renamed = {f"model.other_{k[6:]}": v for k, v in lm["state_dict"].items()}
    torch.save({**lm, "state_dict": renamed}, tmp_path / "renamed.ckpt")
    tiny = ["model=gpt_tiny", "data.tokenizer.vocab_size=300", "data.max_length=32"]
    cases = [
        (["model.init=no/such/run"], "model.init=no/such/run: no such checkpoint"),
        (["model.init=junk.ckpt"], "model.init=junk.ckpt: cannot read checkpoint junk.ckpt as "
                                   "weights only: it is not a checkpoint"),
        (["model.init=pickled.ckpt"], "that would run code"),
        (["model.init=clf"], "model.init=clf holds a model 'textcnn', and this run builds "
                             "model 'gpt'"),
        (["model.init=lm", "model.d_model=64"], "is (300, 32) in"),
        (["model.init=renamed.ckpt"], "none of the"),
    ]  # fmt: skip
    before = snapshot(runs)
    for args, fragment in cases:
        proc = cli("train", *tiny, *args)
        assert_one_line_error(proc, fragment)
        assert not (tmp_path / "runs").exists()  # no run dir: stopped before the data stage
    assert not (tmp_path / "pwned").exists()
    assert snapshot(runs) == before


def test_a_partial_model_init_says_how_many_of_how_many(runs):
    import torch

    from framework.datainfo import DataInfo
    from framework.models.init import InitReport, match_init

    lm = torch.load(runs / "lm" / "checkpoints" / "last.ckpt", weights_only=True)
    stored = {k[6:]: v for k, v in lm["state_dict"].items() if k.startswith("model.")}
    dropped = sorted(stored)[0]
    del stored[dropped]
    from framework.registry import default_registry

    info = DataInfo.from_dict(lm["plait"]["data_info"])
    cfg = json.loads(json.dumps(lm["plait"]["config"]["model"]))
    model = default_registry().build("model", cfg, info=info)
    report = match_init(model, stored, runs / "x.ckpt")
    assert isinstance(report, InitReport) and report.missing == [dropped]
    assert f"{report.loaded} of the model's {report.loaded + 1} tensors" in report.table().title


# search inputs ---------------------------------------------------------------------------------


def test_a_corrupted_study_file_is_one_line_naming_it(cli, tmp_path):
    from tests.search.test_sweeps import TINY

    bad = tmp_path / "broken.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    before = bad.read_bytes()
    search = ["search=random", "search.trials=2", "optimizer.lr=interval(1e-4,1e-2)"]
    proc = cli("train", *TINY, *search, f"search.storage=sqlite:///{bad}")
    assert_one_line_error(proc, f"the study file {bad} cannot be read", "move it away")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "study.db").write_bytes(before)
    proc = cli("train", *TINY, *search, "hydra.sweep.dir=sweep")
    assert_one_line_error(proc, f"the study file {sweep / 'study.db'} cannot be read")
    (sweep / "multirun.yaml").write_text("name: stdlib_gpt\n")
    assert_one_line_error(cli("sweep-report", "sweep"), "cannot be read")
    assert bad.read_bytes() == before == (sweep / "study.db").read_bytes()
    assert not list(sweep.glob("[0-9]*"))  # no trial started


def test_a_study_whose_writer_was_killed_mid_write_is_rolled_back_not_called_damaged(tmp_path):
    """SIGKILL during a write leaves a hot journal; a read-only open cannot roll it back."""
    import sqlite3

    from framework.search.study import study_file_problem

    db = tmp_path / "study.db"
    writer = (
        "import os, signal, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('CREATE TABLE trials (value REAL)')\n"
        "db.execute('INSERT INTO trials VALUES (0.5)')\n"
        "db.execute('PRAGMA cache_size=1')\n"  # pages spill to the file before the commit
        "db.execute('BEGIN')\n"
        "for _ in range(2000): db.execute('INSERT INTO trials VALUES (1.0)')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(db)], check=False)
    assert (tmp_path / "study.db-journal").stat().st_size > 0
    assert study_file_problem(db) is None
    assert not (tmp_path / "study.db-journal").exists()
    with sqlite3.connect(db) as conn:  # the committed row, not the half-written ones
        assert conn.execute("SELECT value FROM trials").fetchall() == [(0.5,)]
    db.write_bytes(b"this is not sqlite" * 100)
    assert "cannot be read" in study_file_problem(db)


@pytest.mark.parametrize(
    ("changed", "fragment"),
    [
        (["optimizer.lr=interval(1e-3,1e-2)"],
         "searches optimizer.lr as [0.0001, 0.01], and this sweep as [0.001, 0.01]"),
        (["optimizer.lr=interval(1e-4,1e-2)", "model.dropout=interval(0,0.2)"],
         "does not search model.dropout"),
        (["optimizer.lr=interval(1e-4,1e-2)", "trainer.max_steps=7"],
         "sets trainer.max_steps as 10, and this sweep as 7"),
    ],
)  # fmt: skip
def test_continuing_a_study_with_another_space_or_settings_is_refused(cli, tmp_path, changed,
                                                                      fragment):  # fmt: skip
    import optuna

    from framework.search import space as S
    from framework.search.study import same_search, space_text
    from tests.search.test_sweeps import TINY

    first = ["optimizer.lr=interval(1e-4,1e-2)"]
    params, fixed = S.from_overrides([*TINY, *first])
    (tmp_path / "sweep").mkdir()
    url = f"sqlite:///{tmp_path / 'sweep' / 'study.db'}"
    study = optuna.create_study(storage=url, study_name="stdlib_gpt")
    same_search(study, {q.path: space_text(q.distribution()) for q in params}, fixed, url)
    study.tell(study.ask({q.path: q.distribution() for q in params}), 1.0)
    fixed_now = [a for a in TINY if not a.startswith(tuple(c.split("=")[0] for c in changed))]
    kept = (tmp_path / "sweep" / "study.db").read_bytes()
    proc = cli("train", *fixed_now, *changed, "search=random", "search.trials=3",
               "hydra.sweep.dir=sweep")  # fmt: skip
    assert_one_line_error(proc, fragment, "search.study=NEW_NAME")
    assert not list((tmp_path / "sweep").glob("[0-9]*"))  # no trial started
    assert (tmp_path / "sweep" / "study.db").read_bytes() == kept


def test_the_sweep_report_prints_command_lines_as_text(capsys, tmp_path):
    from framework.search.report import print_report

    command = "plait train data.source.paths=[data/a.csv] model.tag=[bold]x[/bold]"
    rows = [{"trial": 0, "state": "FAIL", "value": None, "seconds": 1.0,
             "reason": "stopped: [red]not markup[/red]"}]  # fmt: skip
    summary = {"rows": rows, "study": "s", "objective": "val/loss", "direction": "minimize",
               "importances": {}, "complete": 1, "pruned": 0, "failed": 0,
               "best": {"trial": 0, "command": command}}  # fmt: skip
    print_report(summary, tmp_path)
    out = capsys.readouterr().out
    assert command in out.replace("\n", "")
    assert "[red]not markup" in out
