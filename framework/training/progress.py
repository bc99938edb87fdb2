"""The rich progress bar: step budget, loss, learning rate, throughput, validation loss."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import RichProgressBar

_SHORT = {
    "train/loss": "loss",
    "lr": "lr",
    "train/tokens_per_s": "tok/s",
    "train/samples_per_s": "samples/s",
    "val/loss": "val",
}


class PlaitProgressBar(RichProgressBar):
    """Lightning's rich bar with step-based wording and short, formatted metrics."""

    def _get_train_description(self, current_epoch: int) -> str:
        return "train"

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        raw = super().get_metrics(trainer, pl_module)
        out: dict[str, Any] = {}
        for key, short in _SHORT.items():
            if key in raw and isinstance(raw[key], (int, float)):
                v = float(raw[key])
                out[short] = (
                    f"{v:.1e}" if key == "lr" else (f"{v:,.0f}" if v >= 1000 else f"{v:.3f}")
                )
        return out
