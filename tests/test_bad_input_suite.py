"""The bad-input suite: configs, data files and faults a user meets, each ending in one line
on stderr that names the key (or the file and record), exit status 2, no traceback, and no
run directory for a config error. In-process, so the whole suite takes seconds."""

from __future__ import annotations

import json

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
