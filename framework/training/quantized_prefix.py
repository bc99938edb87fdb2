"""A frozen prefix run in int8 while training (``trainer.quantize_frozen``): where the frozen
blocks' outputs are not computed once (online augmentation, ``cache_frozen=false``), their
linear layers can run as int8 matrix products (torch's dynamically quantized ``Linear``:
int8 weights with a scale per output row, activations quantized per batch), the cheapest
forward pass without a gradient on a CPU that has no native bfloat16.

Transformers have a few activation channels tens of times larger than the rest (MiniLM: 28
against a spread of 0.7 after attention), and one int8 scale per batch for those inputs loses
the small values: MiniLM's feed-forward output layer, quantized, is 13-25% off. So each
frozen linear layer is measured on a calibration batch first, and only those whose int8
output stays within ``TOLERANCE`` of float32 are quantized; the log names how many.

Only the training forward changes: each frozen block keeps its float32 weights, and its
forward goes to an int8 copy kept outside the model while the block is in training mode.
Validation, the test pass, evaluation, checkpoints and the export see the float32 model, so
what is reported is what leaves Plait."""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Any

log = logging.getLogger("plait")

TOLERANCE = 0.05
"""Largest relative error (norm of the difference over the norm of the float32 output) of a
linear layer's int8 output on the calibration batch for it to be quantized."""


def quantize_frozen_prefix(model: Any, batch: tuple[Any, ...]) -> tuple[int, int]:
    """Route the training forward of ``model``'s frozen blocks (the embeddings and the first
    blocks frozen: :func:`~framework.training.prefix_cache.frozen_blocks`) to copies whose
    linear layers that stay within :data:`TOLERANCE` on ``batch`` (ids, lengths, ...) are int8;
    returns (layers quantized, frozen linear layers); (0, 0) leaves the model alone."""
    import torch

    from framework.finetune.structure import find_layout
    from framework.training.prefix_cache import frozen_blocks

    k = frozen_blocks(model)
    if k == 0:
        return 0, 0
    blocks = model.get_submodule(find_layout(model).blocks_at)
    inputs = _linear_inputs(model, [blocks[i] for i in range(k)], batch)
    chosen, total = 0, 0
    with warnings.catch_warnings():  # torch.ao's eager quantization announces its move to torchao
        warnings.simplefilter("ignore")
        for i in range(k):
            names = [n for n, m in blocks[i].named_modules() if isinstance(m, torch.nn.Linear)]
            int8 = {n: _int8_linear(blocks[i].get_submodule(n), inputs[(i, n)]) for n in names}
            good = {n: q for n, (q, error) in int8.items() if error <= TOLERANCE}
            chosen, total = chosen + len(good), total + len(names)
            if good:
                _route(blocks[i], _with_layers(blocks[i], good))
    log.info("frozen blocks 0-%d train with %d of their %d linear layers in int8 (the rest are "
             "more than %.0f%% off in int8 on a calibration batch: outlier activations); "
             "validation, test, evaluation and export run float32", k - 1, chosen, total,
             TOLERANCE * 100)  # fmt: skip
    return chosen, total


def quantize_prefix(model: Any, train: Any, collate: Any, calibrate: int = 64) -> None:
    """:func:`quantize_frozen_prefix` calibrated on the first ``calibrate`` records of the
    ``train`` split, for token batches of text models (``PadCollate``); others are left
    alone, with a line in the log (the compose check allows the option on the CPU only)."""
    from framework.tasks.text_batches import PadCollate
    from framework.training.prefix_cache import StatesCollate

    if isinstance(collate, StatesCollate):
        log.info("trainer.quantize_frozen: the frozen blocks' outputs are cached "
                 "(trainer.cache_frozen), so they do not run while training; nothing to "
                 "quantize")  # fmt: skip
        return
    if train is None or len(train) == 0 or not isinstance(collate, PadCollate):
        log.info("trainer.quantize_frozen: only fine-tuned text models' frozen blocks are "
                 "quantized; this run's model is left in float32")  # fmt: skip
        return
    batch = collate([train[i] for i in range(min(calibrate, len(train)))])
    if quantize_frozen_prefix(model, batch) == (0, 0):
        log.info("trainer.quantize_frozen: the embeddings and first blocks are not frozen "
                 "(freeze=[first_n], ...), so nothing is quantized")  # fmt: skip


def _linear_inputs(model: Any, blocks: list[Any], batch: tuple[Any, ...]) -> dict:
    """The input of each linear layer of ``blocks`` on ``batch``, keyed (block, name)."""
    import torch

    seen: dict[tuple[int, str], Any] = {}
    hooks = []
    for i, block in enumerate(blocks):
        for name, module in block.named_modules():
            if isinstance(module, torch.nn.Linear):

                def keep(m: Any, args: Any, key: tuple[int, str] = (i, name)) -> None:
                    seen.setdefault(key, args[0].detach().float())

                hooks.append(module.register_forward_pre_hook(keep))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(batch[0], lengths=batch[1])
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return seen


def _int8_linear(linear: Any, x: Any) -> tuple[Any, float]:
    """``linear`` int8 dynamically quantized (a scale per output row), and the relative error
    of its output on ``x``."""
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    float_linear = copy.deepcopy(linear).float()
    float_linear.qconfig = per_channel_dynamic_qconfig
    int8 = Int8Linear.from_float(float_linear)
    with torch.no_grad():
        want = float_linear(x)
        error = (int8(x) - want).norm() / want.norm().clamp_min(1e-12)
    return int8, float(error)


def _with_layers(block: Any, layers: dict[str, Any]) -> Any:
    """A float32 copy of ``block`` with the named linear layers replaced by ``layers`` (which
    take over the replaced layers' forward hooks, as torch's ``quantize_dynamic`` does), in
    training mode (dropout as in the block)."""
    out = copy.deepcopy(block).float().train()
    for name, layer in layers.items():
        parent, _, attr = name.rpartition(".")
        replaced = out.get_submodule(name)
        layer._forward_pre_hooks.update(replaced._forward_pre_hooks)
        layer._forward_hooks.update(replaced._forward_hooks)
        setattr(out.get_submodule(parent), attr, layer)
    return out


def _route(block: Any, int8: Any) -> None:
    """Send ``block``'s forward to ``int8`` in training mode (float32 inputs, no autocast:
    quantized kernels take float32; the output is cast back to the input's dtype)."""
    import torch

    original = block.forward  # the copy lives in this closure, not among the model's modules

    def forward(hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
        if not block.training:
            return original(hidden_states, *args, **kwargs)
        dtype = hidden_states.dtype
        with torch.no_grad(), torch.autocast("cpu", enabled=False):
            out = int8(hidden_states.float(), *_float(args), **_float(kwargs))
        return _cast(out, dtype)

    block.forward = forward


def _float(values: Any) -> Any:
    """Floating tensors in ``values`` (a tuple or a dict) as float32."""
    import torch

    def one(v: Any) -> Any:
        return v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v

    if isinstance(values, dict):
        return {k: one(v) for k, v in values.items()}
    return tuple(one(v) for v in values)


def _cast(out: Any, dtype: Any) -> Any:
    """``out`` (a tensor or a tuple whose first element is the hidden states) in ``dtype``."""
    if isinstance(out, tuple):
        return (_cast(out[0], dtype), *out[1:])
    return out.to(dtype)
