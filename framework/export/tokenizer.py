"""The run's tokenizer as a ``PreTrainedTokenizerFast`` folder (``tokenizer.json`` and its
special tokens), which ``AutoTokenizer.from_pretrained`` loads."""

from __future__ import annotations

from typing import Any

from framework.data.tokenizers import EOS, PAD, UNK


def save_tokenizer(tokenizer: Any, out: Any) -> dict[str, Any]:
    """Write the tokenizer files into ``out``; return the special tokens' ids (for the model
    config: ``eos_token_id``, ``pad_token_id``)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer.from_str(tokenizer.to_str())
    specials = {}
    vocab = tok.get_vocab()
    for role, token in (("eos_token", EOS), ("unk_token", UNK), ("pad_token", PAD)):
        if token in vocab:
            specials[role] = token
    for role, token in (("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("cls_token", "[CLS]"),
                        ("sep_token", "[SEP]"), ("mask_token", "[MASK]")):  # fmt: skip
        if token in vocab and role not in specials:
            specials[role] = token
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **specials)
    fast.save_pretrained(str(out))
    return {f"{role}_id": vocab[token] for role, token in specials.items()}
