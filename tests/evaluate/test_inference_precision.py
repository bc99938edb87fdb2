"""Evaluation and prediction score in the precision the run trained in, where this machine
runs it natively, and in float32 elsewhere."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from framework.evaluate import inference


class Recorder(torch.nn.Module):
    """A linear classifier that records the dtype its matrix product computed in."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)
        self.seen: list[torch.dtype] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x)
        self.seen.append(out.dtype)
        return out


def _task() -> SimpleNamespace:
    return SimpleNamespace(collate=None, forward=lambda model, batch: (model(batch[0]), batch[1]))


def _records(n: int = 10) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(4, generator=g), torch.tensor(i % 3)) for i in range(n)]


@pytest.mark.parametrize(
    ("precision", "native", "expected"),
    [
        ("bf16-mixed", True, torch.bfloat16),
        ("auto", True, torch.bfloat16),
        ("bf16-mixed", False, torch.float32),  # emulated bfloat16 would be slower
        ("auto", False, torch.float32),
        ("32-true", True, torch.float32),
        (None, True, torch.float32),
        ("16-mixed", True, torch.float32),  # float16 autocast is for GPUs
    ],
)
def test_predict_records_follows_the_run_precision_on_a_cpu(
    monkeypatch, precision, native, expected
):
    monkeypatch.setattr("framework.training.hardware.native_bf16", lambda accelerator: native)
    model = Recorder()
    records = _records()
    out = inference.predict_records(model, _task(), records, batch_size=4, precision=precision)
    assert set(model.seen) == {expected}
    assert out.predictions.dtype.kind == "f" and out.predictions.shape == (10, 3)
    with torch.no_grad():
        exact = model.linear(torch.stack([x for x, _ in records])).numpy()
    tolerance = 5e-2 if expected == torch.bfloat16 else 1e-6
    assert abs(out.predictions - exact).max() < tolerance
    assert list(out.targets) == [i % 3 for i in range(10)]


def test_scoring_precision_is_reported(monkeypatch):
    from framework.evaluate.run import Model, scoring_precision

    monkeypatch.setattr("framework.training.hardware.native_bf16", lambda accelerator: True)
    m = Model(cfg={}, model=Recorder(), tokenizer=None, info=None, task=None)
    assert scoring_precision(m) == "float32"
    m.precision = "bf16-mixed"
    assert scoring_precision(m) == "bfloat16"
    monkeypatch.setattr("framework.training.hardware.native_bf16", lambda accelerator: False)
    assert scoring_precision(m) == "float32"
