"""``plait export``: a run's model as a folder other tools load without Plait."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

FORMATS = ("hf", "safetensors")
"""``hf``: a Hugging Face folder (``transformers`` loads it); ``safetensors``: the weights
and their config, for any model."""


def formats_of(model: Any) -> tuple[str, ...]:
    """The export formats a built model can take."""
    from framework.models._gpt import GPT

    if isinstance(model, GPT) and model.head is not None:
        return FORMATS
    if hasattr(getattr(model, "body", None), "save_pretrained"):  # a pretrained LM
        return FORMATS
    if hasattr(getattr(model, "encoder", None), "save_pretrained"):  # pretrained + a head
        return FORMATS
    return ("safetensors",)


def export_run(run: Path, ckpt: Path, fmt: str, out: Path) -> Path:
    """Write the export of checkpoint ``ckpt`` of ``run`` into ``out``; returns ``out``."""
    from transformers.utils import logging as hf_logging

    from framework.export.card import model_card
    from framework.models.restore import load_trained

    hf_logging.disable_progress_bar()
    trained = load_trained(ckpt)
    model, cfg = trained.model, trained.cfg
    allowed = formats_of(model)
    name = cfg.model.get("_name_", "?")
    if fmt not in allowed:
        raise PlaitError(
            f"export: model '{name}' cannot be exported as format={fmt}; it takes "
            f"{', '.join(allowed)}"
        )
    out.mkdir(parents=True, exist_ok=True)
    how = (_hf if fmt == "hf" else _safetensors)(model, trained, out)
    params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    (out / "README.md").write_text(model_card(run, cfg, params, how, fmt), encoding="utf-8")
    return out


def _hf(model: Any, trained: Any, out: Path) -> str:
    from framework.export.tokenizer import save_tokenizer
    from framework.models._gpt import GPT

    special = save_tokenizer(trained.tokenizer, out) if trained.tokenizer is not None else {}
    if isinstance(model, GPT):
        from framework.export.gpt2 import save_gpt2

        hf = save_gpt2(model, out)
        hf.config.update(
            {k: v for k, v in special.items() if k in ("eos_token_id", "pad_token_id")}
        )
        hf.generation_config.eos_token_id = special.get("eos_token_id")
        hf.generation_config.pad_token_id = special.get("pad_token_id")
        hf.save_pretrained(str(out), safe_serialization=True)
        return ("```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer, "
                "pipeline\nmodel = AutoModelForCausalLM.from_pretrained(FOLDER)\n"
                "tok = AutoTokenizer.from_pretrained(FOLDER)\n"
                "print(pipeline('text-generation', model=model, tokenizer=tok)('def ')"
                "[0]['generated_text'])\n```")  # fmt: skip
    if hasattr(getattr(model, "body", None), "save_pretrained"):
        model.body.save_pretrained(str(out), safe_serialization=True)
        return ("```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
                "model = AutoModelForCausalLM.from_pretrained(FOLDER)\n```")  # fmt: skip
    return _encoder_with_head(model, trained, out)


def _encoder_with_head(model: Any, trained: Any, out: Path) -> str:
    """A pretrained encoder with Plait's classification head: the encoder as the HF folder,
    the head in ``head.safetensors`` with ``head.json`` (pooling, labels)."""
    from safetensors.torch import save_file

    labels = list(trained.info.labels or [])
    encoder = model.encoder
    encoder.config.id2label = dict(enumerate(labels))
    encoder.config.label2id = {label: i for i, label in enumerate(labels)}
    encoder.save_pretrained(str(out), safe_serialization=True)
    head = model.classifier
    save_file({"weight": head.weight.detach().contiguous(), "bias": head.bias.detach()},
              str(out / "head.safetensors"))  # fmt: skip
    pooling = trained.cfg.model.get("pooling", "cls")
    (out / "head.json").write_text(json.dumps({"pooling": pooling, "labels": labels}, indent=1))
    return (
        "The encoder loads with `AutoModel`; the classification head (a linear layer over the "
        f"{pooling}-pooled last hidden state) is in `head.safetensors`:\n\n```python\n"
        "import json, torch\nfrom safetensors.torch import load_file\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        "enc, tok = AutoModel.from_pretrained(FOLDER), AutoTokenizer.from_pretrained(FOLDER)\n"
        "head, meta = load_file(f'{FOLDER}/head.safetensors'), "
        "json.load(open(f'{FOLDER}/head.json'))\n"
        "batch = tok(['a text'], return_tensors='pt', padding=True)\n"
        "h = enc(**batch).last_hidden_state\n"
        "m = batch['attention_mask'][..., None]\n"
        "pooled = h[:, 0] if meta['pooling'] == 'cls' else (h * m).sum(1) / m.sum(1)\n"
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
