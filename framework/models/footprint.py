"""A model's cost before training: FLOPs of one example and the memory its weights,
gradients and optimizer state take at a given precision (``plait show``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from framework.datainfo import DataInfo

BYTES = {
    "64-true": (8, 8), "64": (8, 8), "32-true": (4, 4), "32": (4, 4),
    "bf16-mixed": (4, 4), "16-mixed": (4, 4), "bf16-true": (2, 2), "16-true": (2, 2),
}  # fmt: skip
"""Bytes per weight and per gradient under each Lightning precision (mixed precision keeps
float32 weights and gradients; activations are cast)."""


def dummy_batch(info: DataInfo) -> tuple[Any, dict[str, Any]]:
    """One example shaped like the data: ``data.max_length`` token ids, or one image."""
    import torch

    if info.image_shape:
        return torch.zeros(1, *info.image_shape), {}
    x = torch.zeros(1, info.max_length, dtype=torch.long)
    return x, ({"lengths": torch.tensor([info.max_length])} if info.num_outputs else {})


def _lstm_flops(module: Any, steps: int) -> int:
    """Multiply-adds of a fused LSTM over ``steps`` time steps, as FLOPs (x2)."""
    total = 0
    dirs = 2 if module.bidirectional else 1
    for layer in range(module.num_layers):
        inputs = module.input_size if layer == 0 else module.hidden_size * dirs
        total += dirs * 4 * module.hidden_size * (inputs + module.hidden_size)
    return 2 * steps * total


def _cpu_kernels() -> dict[Any, Any]:
    """FLOP formulas for kernels torch's counter does not know (CPU flash attention)."""
    import torch
    from torch.utils.flop_counter import sdpa_flop_count

    def sdpa(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kw: Any) -> int:
        return sdpa_flop_count(query, key, value)

    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    return {op: sdpa} if op is not None else {}


def flop_counter(mapping: dict[Any, Any]) -> Any:
    """torch's ``FlopCounterMode`` without its import of ``torch._dynamo`` (1 to 2 s, paid by
    every ``plait show`` of a new model): its dispatch mode asks, through the documented
    ``_should_skip_dynamo`` hook, not to be wrapped in ``torch._dynamo.disable``; nothing is
    compiled while a model is counted. Where torch's internals differ, the stock counter."""
    from torch.utils import flop_counter as fc

    inner = getattr(fc, "_FlopCounterMode", None)
    raw = getattr(getattr(inner, "__torch_dispatch__", None), "__wrapped__", None)
    if inner is None or raw is None:
        return fc.FlopCounterMode(display=False, custom_mapping=mapping)

    class Dispatch(inner):  # type: ignore[misc, valid-type]
        __torch_dispatch__ = raw

        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False

    class Counter(fc.FlopCounterMode):
        def __enter__(self) -> Any:
            self.flop_counts.clear()
            self.mod_tracker.__enter__()
            self.mode = Dispatch(self)
            self.mode.__enter__()
            return self

    return Counter(display=False, custom_mapping=mapping)


def forward_flops(model: Any, info: DataInfo) -> int:
    """FLOPs of one forward pass on one example (torch's FLOP counter; fused LSTM kernels,
    which it cannot see into, counted from their shapes; attention counted over the full
    square, as the kernels compute it)."""
    import torch
    from torch import nn

    x, kwargs = dummy_batch(info)
    was_training = model.training
    model.train()  # eval mode takes fused fast paths (transformer layers) the counter misses
    try:
        with flop_counter(_cpu_kernels()) as counter, torch.no_grad():
            model(x, **kwargs)
    finally:
        model.train(was_training)
    total = counter.get_total_flops()
    counts = counter.get_flop_counts()
    steps = x.shape[1] if not info.image_shape else 1
    for name, module in model.named_modules():
        if isinstance(module, nn.LSTM):
            key = f"{type(model).__name__}.{name}"
            if not sum(counts.get(key, {}).values()):
                total += _lstm_flops(module, steps)
    return total


def activation_bytes(model: Any, info: DataInfo) -> int:
    """Bytes of the tensors one training example's forward pass keeps for the backward pass
    (measured in float32, each storage counted once): the activation memory per example,
    which grows with the batch."""
    import torch

    x, kwargs = dummy_batch(info)
    kept: dict[Any, int] = {}

    def pack(t: Any) -> Any:
        if isinstance(t, torch.Tensor) and t.device.type != "meta":
            storage = t.untyped_storage()
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    was_training = model.training
    model.train()
    try:
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(x, **kwargs)
    finally:
        model.train(was_training)
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    return sum(n for ptr, n in kept.items() if ptr not in weights)


@dataclass
class Memory:
    """Bytes for training state at one precision (activations not included)."""

    weights: int
    gradients: int
    optimizer: int
    optimizer_note: str

    @property
    def total(self) -> int:
        """Weights + gradients + optimizer state."""
        return self.weights + self.gradients + self.optimizer


def training_memory(
    model: Any, precision: str, optimizer: str, states: int | None = None
) -> Memory:
    """Memory of weights (all), gradients and optimizer state (trainable only)."""
    unique = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in unique)
    trainable = sum(p.numel() for p in unique if p.requires_grad)
    return memory_of(total, trainable, precision, optimizer, states)


def memory_of(
    total: int, trainable: int, precision: str, optimizer: str, states: int | None
) -> Memory:
    """Memory of ``total`` weights and the gradients and optimizer state of ``trainable``
    (``states``: the optimizer's declared ``state_tensors`` per weight, None if undeclared)."""
    w_bytes, g_bytes = BYTES.get(str(precision), (4, 4))
    note = f"{optimizer}: {states} state tensor(s) per weight"
    if states is None:
        states, note = 2, f"{optimizer}: assumed 2 state tensors per weight"
    return Memory(total * w_bytes, trainable * g_bytes, trainable * states * w_bytes, note)


def human(n: float, unit: str = "") -> str:
    """1234567 -> '1.23 M' (bytes: 'MiB' steps of 1024 when ``unit`` is 'B')."""
    step, names = (1024, ["B", "KiB", "MiB", "GiB", "TiB"]) if unit == "B" else (
        1000, ["", " k", " M", " G", " T", " P"])  # fmt: skip
    i = 0
    while abs(n) >= step and i < len(names) - 1:
        n, i = n / step, i + 1
    return f"{n:.3g} {names[i]}".rstrip() if unit == "B" else f"{n:.3g}{names[i]}{unit}"
