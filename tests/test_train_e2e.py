"""End to end through the real command: train a tiny GPT on real text, then sample from it."""

from __future__ import annotations

import csv
import json

from framework.data.tokenizers import TextTokenizer
from tests.conftest import TINY_LM


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_writes_every_artifact_and_val_loss_falls(plait, tmp_path):
    proc = plait("train", *TINY_LM, "trainer.max_steps=40", "hydra.run.dir=runs/e2e", "eda=true")
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "runs/e2e"
    for name in (
        "config.yaml",
        "metrics.csv",
        "curves.png",
        "tokenizer.json",
        "samples.txt",
        "checkpoints/last.ckpt",
        "checkpoints/best.ckpt",
        "data_info.json",
        "eda/eda.json",
        "eda/report.html",
        "eda/lengths.png",
    ):
        assert (run / name).is_file(), name
    eda = json.loads((run / "eda/eda.json").read_text())
    documents = json.loads((run / "data_report.json").read_text())["splits"]
    assert {k: v["rows"] for k, v in eda["splits"].items()} == documents
    assert "${" not in (run / "config.yaml").read_text()  # resolved
    png = (run / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    rows = _rows(run / "metrics.csv")
    val = [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    val_steps = [int(r["step"]) for r in rows if r.get("val/loss")]
    train_steps = [int(r["step"]) for r in rows if r.get("train/loss")]
    assert val_steps == [0, 9, 19, 29, 39]  # before training, then every 10 steps
    assert val[-1] < val[0] - 0.3, val
    assert train_steps == list(range(4, 40, 5))  # logged every 5 steps, not every step
    assert any(r.get("train/tokens_per_s") for r in rows)

    info = json.loads((run / "data_info.json").read_text())
    tok = TextTokenizer.load(run / "tokenizer.json")
    assert info["vocab_size"] == tok.vocab_size <= 300
    samples = (run / "samples.txt").read_text()
    assert samples.count("-" * 72) == 2  # three prompts of the default recipe
    assert "def " in samples and "class " in samples
    assert "prompt: 'def '" in samples and "prompt: 'class '" in samples

    # output to a pipe: plain progress lines while it trains, then the summary panel
    out = proc.stdout
    assert "step 25/40  train/loss" in out and "step 40/40  val/loss" in out
    assert "step 40/40  val/loss" in (run / "train.log").read_text()
    assert "plait train: done" in out and "runs/e2e" in out
    last = float(out.split("last validation")[1].split("loss ")[1].split()[0])
    assert abs(last - val[-1]) < 1e-3 * max(1.0, val[-1])

    args = [
        f"ckpt={run}/checkpoints/last.ckpt",
        "prompt=def ",
        "max_new_tokens=12",
        "num_samples=2",
        "seed=3",
    ]
    gen = plait("generate", *args)
    assert gen.returncode == 0, gen.stderr
    assert gen.stdout.count("sample ") == 2 and "def " in gen.stdout
    assert plait("generate", *args).stdout == gen.stdout  # seeded


def test_multirun_sweeps_a_value(plait, tmp_path):
    proc = plait(
        "train",
        "-m",
        *TINY_LM,
        "trainer.max_steps=6",  # shorter than val_every=10
        "optimizer.lr=0.01,0.001",
        "hydra.sweep.dir=runs/sweep",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from omegaconf import OmegaConf

    configs = sorted((tmp_path / "runs/sweep").glob("*/config.yaml"))
    lrs = sorted(OmegaConf.load(p).optimizer.lr for p in configs)
    assert lrs == [0.001, 0.01]
    for config in configs:  # each trial ends validated: a figure for the sweeper
        results = json.loads((config.parent / "results.json").read_text())
        val_steps = [
            int(r["step"]) for r in _rows(config.parent / "metrics.csv") if r.get("val/loss")
        ]
        assert "val/loss" in results and len(val_steps) == 2 and val_steps[-1] >= 5
