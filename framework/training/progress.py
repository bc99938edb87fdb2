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
    """Lightning's rich bar with step-based wording and short, formatted metrics.

    Lightning asks for the bar's metrics after every batch, and reading them converts each
    logged tensor with ``.item()``: a host sync per step on a GPU. This bar reads them only
    on steps where training metrics were logged (every ``metrics_every`` steps) and outside
    training (after validation); in between it shows the values it already has.
    """

    def __init__(self, metrics_every: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics_every = max(1, metrics_every)
        self._shown: dict[str, Any] = {}
        self._shown_step = -1

    def _get_train_description(self, current_epoch: int) -> str:
        return "train"

    @property
    def total_train_batches(self) -> int | float:
        """The bar counts optimizer steps of the whole run (a resumed run reads 80/100)."""
        return self.trainer.max_steps

    def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any, **kwargs: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args, **kwargs)
        self._update(self.train_progress_bar_id, trainer.global_step)

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        step = trainer.global_step
        fresh = not trainer.training or (
            step % self.metrics_every == 0 and step != self._shown_step
        )
        if not fresh:
            return self._shown
        self._shown_step = step
        self._shown = self._format(super().get_metrics(trainer, pl_module))
        return self._shown

    @staticmethod
    def _format(raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, short in _SHORT.items():
            if key in raw and isinstance(raw[key], (int, float)):
                v = float(raw[key])
                out[short] = (
                    f"{v:.1e}" if key == "lr" else (f"{v:,.0f}" if v >= 1000 else f"{v:.3f}")
                )
        return out
