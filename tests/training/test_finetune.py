"""Fine-tuning: freezing policies, per-layer learning rates, LoRA and starting from a run."""

from __future__ import annotations

import types

import pytest
import torch

from framework.datainfo import DataInfo
from framework.finetune.param_groups import LrScales, param_groups, scale_learning_rates
from framework.finetune.structure import find_layout
from tests.conftest import TINY_LM, run_in_process

LM = DataInfo(vocab_size=64, max_length=16)
CLASSES = DataInfo(vocab_size=64, max_length=16, num_outputs=3, num_classes=3, target="class")
GPT = {"_name_": "gpt", "n_layer": 3, "n_head": 2, "d_model": 16}


def _gpt(registry, info=CLASSES):
    torch.manual_seed(0)
    return registry.build("model", GPT, info=info)


def _step(model, params=None):
    """One AdamW step on a random batch (every parameter in the groups, frozen ones too)."""
    opt = torch.optim.AdamW(params or param_groups(model), lr=1e-2, weight_decay=0.1)
    x = torch.randint(0, 64, (4, 16))
    out = model(x, torch.full((4,), 16))
    out.float().pow(2).mean().backward()
    opt.step()


def _changed(before, model):
    return {n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())}


@pytest.mark.parametrize(
    ("policy", "frozen_groups"),
    [
        ({"_name_": "embeddings"}, ["embeddings"]),
        ({"_name_": "first_n", "n": 2}, ["embeddings", "block 0", "block 1"]),
        ({"_name_": "all_but_head"}, ["embeddings", "block 0", "block 1", "block 2"]),
        ({"_name_": "pattern", "include": [r"blocks\.1\."]}, ["block 1"]),
    ],
)
def test_frozen_parameters_stay_bit_identical_and_the_rest_train(registry, policy, frozen_groups):
    model = _gpt(registry)
    assert registry.build("freeze", policy)(model) == []
    groups = dict(find_layout(model).groups())
    frozen = {n for g in frozen_groups for n in groups[g]}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    _step(model)
    assert {n for n, p in model.named_parameters() if not p.requires_grad} == frozen
    assert _changed(before, model) == set(before) - frozen  # weight decay spared them too


def test_norms_and_biases_can_stay_trainable(registry):
    model = _gpt(registry)
    registry.build("freeze", {"_name_": "all_but_head", "keep_norms_and_biases": True})(model)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "blocks.0.ln1.weight" in trainable and "blocks.0.attn.qkv.weight" not in trainable


def test_gradual_unfreezing_thaws_one_group_from_the_top_exactly_at_its_step(registry):
    model = _gpt(registry)
    (callback,) = registry.build("freeze", {"_name_": "gradual", "every": 2, "unit": "steps"})(
        model
    )
    groups = dict(find_layout(model).groups())
    expected = {0: ["head"], 2: ["head", "block 2"], 4: ["head", "block 2", "block 1"],
                6: ["head", "block 2", "block 1", "block 0"],
                8: ["head", "block 2", "block 1", "block 0", "embeddings"]}  # fmt: skip
    trainer = types.SimpleNamespace(global_step=0, current_epoch=0)
    for step in range(9):
        trainer.global_step = step
        callback.on_train_batch_start(trainer, None, None, 0)
        now = {n for n, p in model.named_parameters() if p.requires_grad}
        thawed = expected[max(k for k in expected if k <= step)]
        assert now == {n for g in thawed for n in groups[g]}, step


@pytest.mark.parametrize(
    ("scales", "expected"),
    [
        # layer-wise decay: head lr, top block lr*0.5, ..., embeddings lr*0.5^4
        ({"lr_decay": 0.5}, {"head": 1.0, "block 2": 0.5, "block 1": 0.25, "block 0": 0.125,
                             "embeddings": 0.0625}),
        # explicit groups by pattern, a head multiplier
        ({"head_lr_scale": 10.0, "lr_scales": {r"blocks\.0\.": 0.1}},
         {"head": 10.0, "block 2": 1.0, "block 1": 1.0, "block 0 ~ blocks\\.0\\.": 0.1,
          "embeddings": 1.0}),
    ],
)  # fmt: skip
def test_each_group_keeps_its_learning_rate_through_warmup_and_decay(registry, scales, expected):
    model = _gpt(registry)
    groups = param_groups(model, None, LrScales.from_config(scales))
    opt = registry.build("optimizer", {"_name_": "adamw", "lr": 1e-3}, params=groups)
    scale_learning_rates(opt)
    sched = registry.build(
        "scheduler", {"_name_": "cosine", "warmup_steps": 4}, optimizer=opt, total_steps=20
    )
    for g in opt.param_groups:  # step 0: a quarter of the way up the warmup
        assert g["lr"] == pytest.approx(1e-3 * expected[g["name"]] / 4)
    for _ in range(4):
        opt.step()
        sched.step()
    for g in opt.param_groups:  # after warmup: the configured rate of each group
        assert g["lr"] == pytest.approx(1e-3 * expected[g["name"]]), g["name"]
    assert {g["name"] for g in opt.param_groups} == set(expected)


def test_lora_trains_only_its_adapters_and_merging_keeps_the_outputs(registry):
    model = _gpt(registry)
    base = sum(p.numel() for p in model.parameters())
    registry.build("freeze", {"_name_": "lora", "rank": 2, "train_head": False})(model)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    # rank 2 on qkv (16->48), proj (16->16), fc (16->64), mlp proj (64->16) in 3 blocks
    assert sum(p.numel() for p in trainable.values()) == 3 * 2 * (16 + 48 + 16 + 16 + 16 + 64
                                                                  + 64 + 16)  # fmt: skip
    assert all("lora_" in n for n in trainable)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    _step(model)
    assert _changed(before, model) == {n for n in trainable if "lora_B" in n or "lora_A" in n}
    assert sum(p.numel() for n, p in model.named_parameters() if "lora_" not in n) == base

    from framework.finetune.lora import merge_adapters

    model.eval()
    x = torch.randint(0, 64, (2, 16))
    adapted = model(x)
    merge_adapters(model)
    assert torch.allclose(model(x), adapted, atol=1e-5)


def test_a_plait_lm_starts_a_classifier_with_a_new_head(tmp_path):
    pretrain = run_in_process(
        ["train", *TINY_LM, "trainer.max_steps=2", "hydra.run.dir=lm"], tmp_path
    )
    assert pretrain.returncode == 0, pretrain.stderr[-2000:]
    lm = tmp_path / "lm"
    fine = run_in_process(
        ["train", "~recipe", "data/source=tweets_sentiment", "task=text_classification",
         "model=gpt_tiny",
         "data/split=stratified", "+data.split.train=300", "data.max_length=32",
         "data/tokenizer=pretrained", f"data.tokenizer.path={lm}/tokenizer.json",
         f"model.init={lm}", "trainer.max_steps=2", "trainer.val_at_start=false",
         "freeze=[embeddings]", "hydra.run.dir=clf"],
        tmp_path,
    )  # fmt: skip
    assert fine.returncode == 0, fine.stderr[-2000:]
    import re

    new = re.findall(r"│ (\S+)\s+│ new head: initialized", fine.stdout)
    assert new == ["classifier.weight", "classifier.bias"]  # exactly the new head's keys
    assert "missing:" not in fine.stdout
    from framework.models.init import init_checkpoint

    source = torch.load(init_checkpoint(str(lm)), weights_only=True)["state_dict"]
    tuned = torch.load(tmp_path / "clf/checkpoints/last.ckpt", weights_only=True)["state_dict"]
    # the frozen embeddings are the LM's, bit for bit; the blocks started from the LM's
    assert torch.equal(tuned["model.tok_emb.weight"], source["model.tok_emb.weight"])
    assert torch.equal(tuned["model.pos_emb.weight"], source["model.pos_emb.weight"])
    assert "model.classifier.weight" in tuned and "model.classifier.weight" not in source


def test_a_checkpoint_of_another_size_names_the_tensor(registry, tmp_path):
    from framework.errors import PlaitError
    from framework.models.init import load_init

    source = _gpt(registry, LM)
    state = {f"model.{k}": v for k, v in source.state_dict().items()}
    torch.save({"state_dict": state, "plait": {"config": {}}}, tmp_path / "lm.ckpt")
    longer = registry.build("model", GPT, info=DataInfo(vocab_size=64, max_length=32))
    with pytest.raises(PlaitError, match=r"tensor 'pos_emb.weight' is \(16, 16\) in .* but "
                       r"\(32, 16\) in this model"):  # fmt: skip
        load_init(longer, str(tmp_path / "lm.ckpt"))
    same = registry.build("model", GPT, info=LM)
    report = load_init(same, str(tmp_path / "lm.ckpt"))
    assert report.missing == [] and report.unexpected == []
    assert all(torch.equal(same.state_dict()[k], v) for k, v in source.state_dict().items())


def test_lora_merge_writes_a_plain_checkpoint_that_generates_what_the_adapters_do(
    tmp_path, registry
):
    train = run_in_process(
        ["train", *TINY_LM, "trainer.max_steps=4", "freeze=[lora]", "freeze.lora.merge=true",
         "optimizer.lr=0.05", "hydra.run.dir=lora"],
        tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-2000:]
    ckpts = tmp_path / "lora/checkpoints"
    adapted = torch.load(ckpts / "last.ckpt", weights_only=True)["state_dict"]
    merged = torch.load(ckpts / "merged.ckpt", weights_only=True)["state_dict"]
    assert any("lora_" in k for k in adapted) and not any("lora_" in k for k in merged)
    qkv = "model.blocks.0.attn.qkv"
    assert not torch.equal(merged[f"{qkv}.weight"], adapted[f"{qkv}.base_layer.weight"])
    args = ["prompt=def ", "max_new_tokens=12", "seed=3"]
    outs = [run_in_process(["generate", f"ckpt={ckpts / name}", *args], tmp_path)
            for name in ("last.ckpt", "merged.ckpt")]  # fmt: skip
    assert all(o.returncode == 0 for o in outs), outs[1].stderr[-2000:]
    assert outs[0].stdout == outs[1].stdout


def test_lora_on_a_pretrained_lm_checkpoints_only_what_trains(tmp_path, registry):
    pretrain = run_in_process(
        ["train", *TINY_LM, "trainer.max_steps=2", "hydra.run.dir=lm"], tmp_path
    )
    assert pretrain.returncode == 0, pretrain.stderr[-2000:]
    train = run_in_process(
        ["train", *TINY_LM, "trainer.max_steps=4", f"model.init={tmp_path / 'lm'}",
         "freeze=[lora]", "freeze.lora.merge=true", "freeze.lora.train_head=false",
         "optimizer.lr=0.05", "hydra.run.dir=lora"],
        tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-2000:]
    ckpts = tmp_path / "lora/checkpoints"
    kept = torch.load(ckpts / "last.ckpt", weights_only=True)["state_dict"]
    kept_params = {k for k in kept if k.startswith("model.")}
    assert kept_params and all("lora_" in k for k in kept_params)  # no frozen base weight
    full = torch.load(ckpts / "merged.ckpt", weights_only=True)["state_dict"]
    assert sum(v.numel() for v in kept.values()) < sum(v.numel() for v in full.values()) / 5
    # the base comes back from model.init: the adapters act as on the merged weights
    args = ["prompt=def ", "max_new_tokens=12", "seed=3"]
    outs = [run_in_process(["generate", f"ckpt={ckpts / name}", *args], tmp_path)
            for name in ("last.ckpt", "merged.ckpt")]  # fmt: skip
    assert all(o.returncode == 0 for o in outs), outs[0].stderr[-2000:]
    assert outs[0].stdout == outs[1].stdout
    # a changed starting point is refused, not mixed in
    from framework.models.init import init_checkpoint

    source = init_checkpoint(str(tmp_path / "lm"))
    ckpt = torch.load(source, weights_only=True)
    ckpt["state_dict"]["model.blocks.0.attn.qkv.weight"] += 1.0
    torch.save(ckpt, source)
    changed = run_in_process(["generate", f"ckpt={ckpts / 'last.ckpt'}", *args], tmp_path)
    assert changed.returncode == 2
    assert changed.stderr.count("\n") == 1 and "frozen base" in changed.stderr
    # and a run cannot start from adapters alone
    again = run_in_process(["train", *TINY_LM, f"model.init={ckpts / 'last.ckpt'}"], tmp_path)
    assert again.returncode == 2 and "merged.ckpt" in again.stderr


def test_show_marks_the_optimizer_groups_of_frozen_blocks(registry):
    from framework.config.compose import compose
    from framework.models.facts import model_facts

    cfg = compose(registry, [*TINY_LM, "freeze=[first_n]", "freeze.first_n.n=1",
                             "optimizer.lr_decay=0.5"])  # fmt: skip
    facts = model_facts(cfg, registry, LM)
    by_label: dict[str, list[int]] = {}
    for label, _, _, count, trainable in facts.lr_groups:
        total = by_label.setdefault(label, [0, 0])
        total[0] += count
        total[1] += trainable
    assert by_label["embeddings"][1] == 0 and by_label["block 0"][1] == 0
    assert by_label["block 0"][0] > 0  # the frozen block is still in the optimizer (gradual)
    for label in ("block 1", "head"):
        assert by_label[label][1] == by_label[label][0] > 0
    assert sum(t for *_, t in facts.lr_groups) == facts.trainable


def test_a_model_declaring_its_blocks_is_laid_out_by_them_not_by_the_largest_list():
    from torch import nn

    from framework.errors import PlaitError
    from framework.models.sizing import built_model
    from framework.registry import NAME_KEY, Registry

    class TwoStacks(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.small = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
            self.large = nn.ModuleList(nn.Linear(8, 8) for _ in range(2))

    def stacks(*, info):
        """Two lists of repeated layers; the smaller holds the blocks."""
        return TwoStacks()

    r = Registry()
    r.add("model", "found", stacks)
    r.add("model", "declared", stacks, blocks="small")
    r.add("model", "wrong", stacks, blocks="missing")
    info = DataInfo()
    assert find_layout(built_model(r, {NAME_KEY: "found"}, info)).blocks_at == "large"
    layout = find_layout(built_model(r, {NAME_KEY: "declared"}, info))
    assert layout.blocks_at == "small" and len(layout.blocks) == 3
    with pytest.raises(
        PlaitError, match="declares blocks='missing'.*lists of repeated modules: small, large"
    ):
        built_model(r, {NAME_KEY: "wrong"}, info)


def test_a_normalization_layer_is_found_by_its_shape_not_its_class_name(registry):
    """``keep_norms_and_biases`` spares any layer whose own parameters are vectors (a
    pretrained model's own RMS norm class, whatever it is called), never a matrix."""
    import torch
    from torch import nn

    class Rescale(nn.Module):  # an RMS norm under a name with no "Norm" in it
        def __init__(self, d: int) -> None:
            super().__init__()
            self.gain = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * self.gain / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(4, 4, bias=False)
            self.rescale = Rescale(4)
            self.head = nn.Linear(4, 2, bias=False)

    from framework.finetune.freeze import freeze_names

    model = Net()
    freeze_names(model, [n for n, _ in model.named_parameters()], keep_norms_and_biases=True)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"rescale.gain"}


@pytest.mark.parametrize("recipe", ["tweets_minilm_lora", "tweets_minilm"])
def test_checks_at_compose_read_no_pretrained_weights(recipe, registry, monkeypatch):
    """Validating a fine-tuning recipe probes the model's structure (freeze policies, layer
    learning rates) on the meta device from the folder's config alone: no weights are read."""
    import transformers

    from framework.config.compose import compose
    from framework.config.validate import validate

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded while checking the config")

    for auto in (transformers.AutoModel, transformers.AutoModelForCausalLM):
        monkeypatch.setattr(auto, "from_pretrained", refuse)
    checked = validate(compose(registry, [f"recipe={recipe}"]), registry)
    assert checked.cfg.model._name_ == "hf_pretrained"
