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

from tests.conftest import TINY_LM, run_plait

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    """A tiny GPT trained on the default recipe's data, evaluated."""
    root = tmp_path_factory.mktemp("lm")
    proc = run_plait(["train", *TINY_LM, "eval=true", "hydra.run.dir=run"], root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "run"


def test_the_gpt_loads_in_plain_transformers_with_the_same_logits_and_ids(lm_run, tmp_path):
    from framework.evaluate.loading import checkpoint_of
    from framework.models.restore import load_trained

    done = run_plait(["export", f"run={lm_run}", f"out={tmp_path / 'hf'}"], tmp_path)
    assert done.returncode == 0, done.stderr
    text = Path(sysconfig.get_paths()["stdlib"], "textwrap.py").read_text()[:400]  # real code
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "load_without_plait.py"), str(tmp_path / "hf"), text, "def "],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
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
    done = run_plait(["export", f"run={lm_run}", f"out={tmp_path / 'hf'}"], tmp_path)
    assert done.returncode == 0, done.stderr
    card = (tmp_path / "hf/README.md").read_text()
    figures = json.loads((lm_run / "eval/eval.json").read_text())["language"]["metrics"]
    for name, v in figures.items():
        row = f"| {name} | {v['value']:.4f} | [{v['low']:.4f}, {v['high']:.4f}] |"
        assert row in card
    assert (lm_run / "command.txt").read_text().strip() in card  # how to reproduce it
    assert "python_stdlib" in card  # the data it was trained on


def test_other_models_export_as_safetensors_and_refuse_hf(tmp_path):
    from safetensors.torch import load_file

    from framework.evaluate.loading import checkpoint_of
    from framework.models.restore import load_trained

    proc = run_plait(["train", *TINY_LM, "model=lstm_lm", "model.hidden=32", "model.embed_dim=16",
                      "hydra.run.dir=run"], tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    refused = run_plait(["export", "run=run", "format=hf"], tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "plait: error: export: model 'lstm' cannot be exported as format=hf; it takes safetensors"
    )
    done = run_plait(["export", "run=run", "format=safetensors", "out=st"], tmp_path)
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
        (["run=empty", "format=onnx"], "format=onnx: use one of hf, safetensors"),
        ([], "missing run=DIR"),
    ],
)
def test_bad_export_input_is_one_line(tmp_path, args, message):
    (tmp_path / "empty/checkpoints").mkdir(parents=True)
    proc = run_plait(["export", *args], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
