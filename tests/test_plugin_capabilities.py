"""Capabilities, not names: a plugin's freeze policy, model and metric that declare what a
built-in declares get the built-in's behaviour (per-class logging and the evaluation's
table, an artifact written as files, an ``hf`` export, adapters folded into that export).
One real distribution installed with pip, one tiny run each."""

from __future__ import annotations

import csv
import json
import textwrap

import pytest

from tests.conftest import TINY_LM, pip_install_target, run_in_process
from tests.test_plugin_isolation import _package

pytestmark = pytest.mark.xdist_group("plugin_capabilities")  # one worker installs the plugins

BODY = """
    import torch
    from torchmetrics import Metric

    from framework.contract import Exporter
    from framework.export import write
    from framework.models.gpt import gpt
    from framework.finetune.lora import LoRA

    class Hits(Metric):  # no torchmetrics ``average`` attribute to go by
        def __init__(self, n):
            super().__init__()
            self.add_state("hits", torch.zeros(n), dist_reduce_fx="sum")
            self.add_state("seen", torch.zeros(n), dist_reduce_fx="sum")

        def update(self, preds, target):
            pred = preds.argmax(-1)
            for c in range(len(self.hits)):
                self.hits[c] += ((pred == c) & (target == c)).sum()
                self.seen[c] += (target == c).sum()

        def compute(self):
            return self.hits / self.seen.clamp(min=1)

    class Pairs(Metric):
        def __init__(self, n):
            super().__init__()
            self.add_state("table", torch.zeros(n, n), dist_reduce_fx="sum")

        def update(self, preds, target):
            for t, p in zip(target, preds.argmax(-1)):
                self.table[t, p] += 1

        def compute(self):
            return self.table

    def class_hits(*, info):
        '''Recall per class.'''
        return Hits(info.num_outputs)

    def pair_table(*, info):
        '''True x predicted counts.'''
        return Pairs(info.num_outputs)

    def tiny_lm(n_layer: int = 2, d_model: int = 32, *, info):
        '''Plait's GPT under another name, declaring its export and its blocks.'''
        return gpt(n_layer=n_layer, n_head=2, d_model=d_model, info=info)

    def plain_lm(n_layer: int = 2, d_model: int = 32, *, info):
        '''The same network, declaring nothing.'''
        return gpt(n_layer=n_layer, n_head=2, d_model=d_model, info=info)

    def low_rank(rank: int = 4):
        '''Adapters beside the blocks' linear layers (peft's LoRA, under another name).'''
        return LoRA(rank, 8.0, 0.0, None, True, False)

    def register(registry):
        registry.add("metric", "class_hits", class_hits, fits=("class",), logs="per_class")
        registry.add("metric", "pair_table", pair_table, fits=("class",), logs="artifact")
        registry.add("model", "tiny_lm", tiny_lm, reads="tokens", fits=("tokens",),
                     exports={"hf": Exporter(write.write_gpt2, write.language_model)},
                     blocks="blocks")
        registry.add("model", "plain_lm", plain_lm, reads="tokens", fits=("tokens",))
        registry.add("freeze", "low_rank", low_rank, adds_adapters=True, mergeable=True)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("capable")
    pip_install_target(_package(root, "capable", textwrap.dedent(BODY)), root / "site")
    return {"PYTHONPATH": str(root / "site")}


def test_a_plugin_metric_declaring_per_class_and_artifact_is_logged_as_a_built_in(site, tmp_path):
    ran = run_in_process(
        ["train", "recipe=fortunes", "model=textcnn", "model.embed_dim=16", "model.filters=8",
         "data.max_length=32", "trainer.max_steps=10", "trainer.val_every=10",
         "trainer.ckpt_every=10", "metric=[accuracy,class_hits,pair_table]",
         "hydra.run.dir=cls"],
        tmp_path, env=site,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    run = tmp_path / "cls"
    labels = json.loads((run / "pair_table_val.json").read_text())["labels"]
    assert len(labels) > 2  # the artifact, with the class names, as the confusion matrix's
    with (run / "metrics.csv").open() as f:
        header = next(csv.reader(f))
    assert "val/accuracy" in header
    assert {f"val/class_hits/{c}" for c in labels} <= set(header)  # one value per class
    assert "val/class_hits" not in header and "val/pair_table" not in header


def test_a_plugin_model_and_freeze_policy_declaring_exports_and_adapters(site, tmp_path):
    ran = run_in_process(
        ["train", *TINY_LM, "model=tiny_lm", "freeze=[low_rank]", "hydra.run.dir=lm"],
        tmp_path, env=site,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "LoRA: rank 4" in ran.stderr + ran.stdout  # the adapters went in
    done = run_in_process(["export", "run=lm", "format=hf", "out=hf"], tmp_path, env=site)
    assert done.returncode == 0, done.stderr[-2000:]
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "hf/model.safetensors"))
    assert "transformer.h.1.attn.c_attn.weight" in weights  # a GPT-2 folder, as gpt's
    assert not any("lora" in k for k in weights)  # the declared-mergeable adapters folded in

    plain = run_in_process(
        ["train", *TINY_LM, "model=plain_lm", "trainer.max_steps=2", "hydra.run.dir=plain"],
        tmp_path, env=site,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr[-2000:]
    refused = run_in_process(["export", "run=plain", "format=hf", "out=x"], tmp_path, env=site)
    assert refused.returncode == 2
    assert "model 'plain_lm' cannot be exported as format=hf" in refused.stderr
    assert "it takes safetensors" in refused.stderr


def test_a_metric_declaring_from_confusion_is_bootstrapped_from_the_matrix(registry):
    """The evaluation scores a metric that declares ``from_confusion`` from confusion
    matrices (one vectorized bootstrap); one that does not is built as torchmetrics."""
    from types import SimpleNamespace

    import numpy as np
    from omegaconf import OmegaConf
    from sklearn.metrics import balanced_accuracy_score

    from framework.evaluate import classify, stats
    from framework.evaluate.targets.classes import _recipe_scores

    def never_built(*, info):
        """A metric whose torchmetrics object the evaluation must not need."""
        raise AssertionError("built")

    def balanced(cm):
        return stats.per_class(cm)["recall"].mean(axis=-1)

    registry.add("metric", "balanced", never_built, fits=("class",), from_confusion=balanced)
    cfg = OmegaConf.create({"metric": {"balanced": {"_name_": "balanced"},
                                       "auroc": {"_name_": "auroc"}}})  # fmt: skip
    info = SimpleNamespace(num_outputs=3, num_classes=3, labels=["a", "b", "c"], target="class")
    m = SimpleNamespace(cfg=cfg, task=SimpleNamespace(default_metrics=[]), info=info)
    scores, other = _recipe_scores(m, registry)
    assert set(scores) == {"balanced"} and set(other) == {"auroc"}

    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, 500)
    logits = rng.normal(size=(500, 3)) + 2 * np.eye(3)[true]
    recs = classify.ClassRecords(logits, true, info.labels, [])
    out = classify.metric_intervals(recs, scores, other, seed=0, replicates=300)
    got = out["balanced"]
    assert got["value"] == pytest.approx(balanced_accuracy_score(true, logits.argmax(1)))
    assert got["low"] < got["value"] < got["high"]


def test_an_optimizer_declaring_its_state_sizes_the_memory_estimate(registry):
    from types import SimpleNamespace

    import torch
    from omegaconf import OmegaConf

    from framework.doctor import needs

    def lean(lr: float = 0.01, *, params):
        """SGD with momentum under another name."""
        return torch.optim.SGD(params, lr=lr, momentum=0.9)

    registry.add("optimizer", "lean", lean, state_tensors=1)
    registry.add("optimizer", "silent", lean)
    facts = SimpleNamespace(total=1000, trainable=400, activations=0)
    machine = SimpleNamespace(gpus=[])
    got = {}
    for name in ("lean", "silent", "adamw"):
        cfg = OmegaConf.create({"optimizer": {"_name_": name},
                                "trainer": {"precision": "32-true", "batch_size": 8}})  # fmt: skip
        got[name] = needs(facts, cfg, machine, registry).optimizer
    assert got == {"lean": 400 * 4, "silent": 2 * 400 * 4, "adamw": 2 * 400 * 4}
