"""``plait export``: a run's model as a folder other tools load without Plait."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

FORMATS = ("hf", "safetensors", "peft", "onnx")
"""``hf``: a Hugging Face folder (``transformers`` loads it); ``safetensors``: the weights
and their config, for any model; ``peft``: a LoRA run's adapters in peft's format;
``onnx``: a classifier (or regressor) as an ONNX graph (onnxruntime runs it)."""


def has_adapters(model: Any) -> bool:
    """Whether adapters (peft's ``lora_`` weights) are injected in ``model``."""
    from framework.finetune.lora import ADAPTER

    return any(ADAPTER in name for name, _ in model.named_parameters())


def hf_body(model: Any) -> tuple[str, Any] | None:
    """``(attribute, module)`` of a pretrained Hugging Face body in a Plait model (``body``
    of a language model, ``encoder`` under a classification head), else None."""
    for attr in ("body", "encoder"):
        module = getattr(model, attr, None)
        if hasattr(module, "save_pretrained"):
            return attr, module
    return None


def formats_of(model: Any, trained: Any, registry: Any) -> tuple[str, ...]:
    """The export formats a built model can take: ``safetensors`` always, the formats its
    model declares (``exports``) that apply to it, ``onnx`` for a per-example head."""
    exports = registry.contract("model", trained.cfg.model).exports or {}
    declared = [f for f, e in exports.items() if e.applies(model, trained.info)]
    onnx = ["onnx"] if trained.info.num_outputs else []
    return (*[f for f in declared if f == "hf"], "safetensors",
            *[f for f in declared if f != "hf"], *onnx)  # fmt: skip


def run_policies(trained: Any, registry: Any) -> list[Any]:
    """The contracts of the freeze policies ``trained``'s run composed."""
    from framework.finetune.freeze import freeze_policies

    return [registry.contract("freeze", node) for node in freeze_policies(trained.cfg)]


def write_export(trained: Any, fmt: str, out: Path, run: Path | None = None) -> Path:
    """Write ``trained`` (a rebuilt model with its config, tokenizer and data facts) as
    ``fmt`` into ``out``, with the model card of ``run``; returns ``out``."""
    from transformers.utils import logging as hf_logging

    from framework.export.card import model_card

    hf_logging.disable_progress_bar()
    from framework.registry import default_registry

    registry = trained.registry or default_registry()
    model, cfg = trained.model, trained.cfg
    allowed = formats_of(model, trained, registry)
    name = cfg.model.get("_name_", "?")
    if fmt not in allowed:
        why = {"peft": " (peft: a run whose freeze policy added adapters to a pretrained "
                       "model)",
               "onnx": " (onnx: a model with a per-example head)"}.get(fmt, "")  # fmt: skip
        raise PlaitError(
            f"export: model '{name}' cannot be exported as format={fmt}{why}; it takes "
            f"{', '.join(allowed)}"
        )
    out.mkdir(parents=True, exist_ok=True)
    exporters = registry.contract("model", cfg.model).exports or {}
    if fmt == "onnx":
        from framework.export.onnx import save_onnx

        how = save_onnx(model, trained, out)
    elif fmt in exporters and not exporters[fmt].folds_adapters:
        how = exporters[fmt].write(model, trained, out)
    else:
        if any(c.mergeable for c in run_policies(trained, registry)) and has_adapters(model):
            from framework.finetune.lora import merged_copy

            model = merged_copy(model)  # the adapters folded into plain weights
        how = (exporters[fmt].write if fmt in exporters else _safetensors)(model, trained, out)
    params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    card = model_card(run or Path(trained.path).parent.parent, cfg, params, how, fmt)
    (out / "README.md").write_text(card, encoding="utf-8")
    return out


def write_peft(model: Any, trained: Any, out: Path) -> str:
    """The adapters as ``adapter_config.json`` + ``adapter_model.safetensors`` over the
    pretrained folder the run started from (``PeftModel.from_pretrained(base, out)``), the
    tokenizer, and a classifier's head files."""
    from safetensors.torch import save_file

    from framework.finetune.lora import ADAPTER
    from framework.hf_folder import resolve

    attr, body = hf_body(model)  # type: ignore[misc]
    adapters = {}
    targets = set()
    for name, p in body.named_parameters():
        if ADAPTER in name:  # model.layers.0.q_proj.lora_A.default.weight
            module, _, rest = name.partition(f".{ADAPTER}")
            kind, _adapter, leaf = rest.split(".", 2)
            adapters[f"base_model.model.{module}.{ADAPTER}{kind}.{leaf}"] = p.detach().contiguous()
            targets.add(module.rsplit(".", 1)[-1])
    m = trained.cfg.model
    base = resolve(m.get("path"), m.get("package"), m.get("gguf_file"), "model")
    config = copy.deepcopy(model.peft_config["default"])  # what the policy injected
    config.target_modules = sorted(targets)
    config.base_model_name_or_path = str(base)
    config.task_type = "CAUSAL_LM" if attr == "body" else "FEATURE_EXTRACTION"
    config.save_pretrained(str(out))
    save_file(adapters, str(out / "adapter_model.safetensors"))
    if trained.tokenizer is not None:
        from framework.export.tokenizer import save_tokenizer

        save_tokenizer(trained.tokenizer, out)
    auto = "AutoModelForCausalLM" if attr == "body" else "AutoModel"
    how = (
        f"LoRA adapters (rank {config.r}, alpha {config.lora_alpha:g}) in peft's format, over "
        f"`{base.name}`:\n\n```python\nfrom peft import PeftModel\n"
        f"from transformers import {auto}\n"
        f"base = {auto}.from_pretrained(BASE_FOLDER)\n"
        "model = PeftModel.from_pretrained(base, FOLDER)\n```"
    )
    if attr == "encoder":
        how += "\n\n" + _write_head(model, trained, out)
    return how


def write_gpt2(model: Any, trained: Any, out: Path) -> str:
    """Plait's GPT language model as a ``GPT2LMHeadModel`` folder with its tokenizer."""
    from framework.export.gpt2 import save_gpt2
    from framework.export.tokenizer import save_tokenizer

    special = save_tokenizer(trained.tokenizer, out) if trained.tokenizer is not None else {}
    save_gpt2(model, out, special)
    return ("```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer, "
            "pipeline\nmodel = AutoModelForCausalLM.from_pretrained(FOLDER)\n"
            "tok = AutoTokenizer.from_pretrained(FOLDER)\n"
            "print(pipeline('text-generation', model=model, tokenizer=tok)('def ')"
            "[0]['generated_text'])\n```")  # fmt: skip


def write_pretrained(model: Any, trained: Any, out: Path) -> str:
    """A fine-tuned Hugging Face model: a language model's body as its folder, or an encoder
    with Plait's classification head beside it; with the tokenizer."""
    from framework.export.tokenizer import save_tokenizer

    if trained.tokenizer is not None:
        save_tokenizer(trained.tokenizer, out)
    if hf_body(model)[0] == "body":  # type: ignore[index]
        model.body.save_pretrained(str(out), safe_serialization=True)
        return ("```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
                "model = AutoModelForCausalLM.from_pretrained(FOLDER)\n```")  # fmt: skip
    return _encoder_with_head(model, trained, out)


def language_model(_model: Any, info: Any) -> bool:
    """A model built for next-token prediction (no per-example head)."""
    return not info.num_outputs


def holds_adapters(model: Any, _info: Any) -> bool:
    """A Hugging Face body with adapters injected."""
    return hf_body(model) is not None and has_adapters(model)


def _encoder_with_head(model: Any, trained: Any, out: Path) -> str:
    """A pretrained encoder with Plait's classification head: the encoder as the HF folder
    (labels in its config), the head beside it (:func:`_write_head`)."""
    labels = list(trained.info.labels or [])
    encoder = model.encoder
    encoder.config.id2label = dict(enumerate(labels))
    encoder.config.label2id = {label: i for i, label in enumerate(labels)}
    encoder.save_pretrained(str(out), safe_serialization=True)
    return "The encoder loads with `AutoModel`. " + _write_head(model, trained, out)


def _write_head(model: Any, trained: Any, out: Path) -> str:
    """``head.safetensors`` (the linear head) and ``head.json`` (pooling, labels, input
    length); returns the card's lines on using them."""
    from safetensors.torch import save_file

    labels = list(trained.info.labels or [])
    head = model.classifier
    save_file({"weight": head.weight.detach().contiguous(), "bias": head.bias.detach()},
              str(out / "head.safetensors"))  # fmt: skip
    pooling = trained.cfg.model.get("pooling", "cls")
    meta = {"pooling": pooling, "labels": labels, "max_length": int(trained.cfg.data.max_length)}
    (out / "head.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    return (
        "The classification head (a linear layer over the "
        f"{pooling}-pooled last hidden state) is in `head.safetensors`, its pooling, labels "
        "and input length in `head.json`:\n\n```python\n"
        "import json, torch\nfrom safetensors.torch import load_file\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        "enc, tok = AutoModel.from_pretrained(FOLDER), AutoTokenizer.from_pretrained(FOLDER)\n"
        "head = load_file(f'{FOLDER}/head.safetensors')\n"
        "meta = json.load(open(f'{FOLDER}/head.json'))\n"
        "batch = tok(['a text'], return_tensors='pt', padding=True, truncation=True, "
        "max_length=meta['max_length'])\n"
        "h, m = enc(**batch).last_hidden_state, batch['attention_mask']\n"
        "pooled = {'cls': lambda: h[:, 0],\n"
        "          'last': lambda: h[torch.arange(len(h)), m.sum(1) - 1],\n"
        "          'max': lambda: h.masked_fill(m[..., None] == 0, float('-inf')).amax(1),\n"
        "          'mean': lambda: (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)}"
        "[meta['pooling']]()\n"
        "logits = pooled @ head['weight'].T + head['bias']\n"
        "print([meta['labels'][i] for i in logits.argmax(-1)])\n```"
    )


def _safetensors(model: Any, trained: Any, out: Path) -> str:
    """Weights as ``model.safetensors`` with ``plait_model.json`` (the model's config and
    the data facts it was built from) and the tokenizer."""
    from omegaconf import OmegaConf
    from safetensors.torch import save_model

    save_model(model, str(out / "model.safetensors"))
    facts = {"model": OmegaConf.to_container(trained.cfg.model, resolve=True),
             "data_info": trained.info.to_dict()}  # fmt: skip
    (out / "plait_model.json").write_text(json.dumps(facts, indent=1, ensure_ascii=False))
    if trained.tokenizer is not None:
        trained.tokenizer.save(out / "tokenizer.json")
    return (
        "`model.safetensors` holds the weights (names as the model's `state_dict`), "
        "`plait_model.json` the model's settings and the data facts it was built from, "
        "`tokenizer.json` the tokenizer (`tokenizers.Tokenizer.from_file`). Rebuild the "
        "network with Plait (`registry.build('model', config['model'], info=DataInfo."
        "from_dict(config['data_info']))`), then `safetensors.torch.load_model(model, "
        "FOLDER + '/model.safetensors')`."
    )
