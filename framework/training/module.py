"""TaskModule: the one generic LightningModule every task trains through."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import nn

from framework.finetune.frozen_base import KEY as FROZEN_BASE
from framework.finetune.frozen_base import FrozenBase, stored_base
from framework.finetune.param_groups import LrScales, param_groups, scale_learning_rates
from framework.models.init import MODULE_PREFIX
from framework.training.kept_outputs import OutputKeeper, loader_order


class TaskModule(L.LightningModule):
    """Model + task + loss + metrics + optimizer; the step stays as close to a raw loop as it can.

    Training metrics are logged every ``log_every`` optimizer steps only, so the hot loop does
    no host synchronisation in between.
    """

    def __init__(
        self,
        task: Any,
        model: nn.Module,
        loss: Callable[[Any, Any], torch.Tensor],
        metrics: dict[str, Any],
        make_optimizer: Callable[[list[dict[str, Any]]], torch.optim.Optimizer],
        make_scheduler: Callable[[torch.optim.Optimizer], Any],
        log_every: int = 10,
        payload: dict[str, Any] | None = None,
        regularizers: list[Any] | None = None,
        check_every: int = 1,
        lr_scales: LrScales | None = None,
        frozen_base: FrozenBase | None = None,
        metric_logs: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.task = task
        self.model = model
        self.loss = loss
        self.regularizers = list(regularizers or [])
        self.check_every = max(1, check_every)
        """Optimizer steps between checks that the loss is finite (every checkpoint and
        validation step is one of them)."""
        self.metric_logs = dict(metric_logs or {})
        """What each metric logs (``number``, ``per_class``, ``artifact``), by name: the
        metric's declared ``logs`` capability; absent: one number."""
        self.val_metrics = nn.ModuleDict(metrics)
        self.test_metrics = nn.ModuleDict({k: m.clone() for k, m in metrics.items()})
        self.make_optimizer = make_optimizer
        self.make_scheduler = make_scheduler
        self.lr_scales = lr_scales
        self.log_every = max(1, log_every)
        self.payload = payload or {}
        self.frozen_base = frozen_base
        """The frozen base that checkpoints leave out, or None (they hold every weight)."""
        self._units = 0
        self._clock: float | None = None
        self._paused_at: float | None = None
        self._loss_sum: torch.Tensor | float = 0.0
        self._penalty_sums: dict[str, torch.Tensor | float] = {}
        self._loss_count = 0
        self._first_bad: torch.Tensor | None = None
        self._plateau: Any = None
        self._plateau_state: dict[str, Any] | None = None
        self.keeper: OutputKeeper | None = None
        """Set (``eval: true``): validation and test outputs are kept for the evaluation."""
        self.weights_step = 0
        """The optimizer step of the weights the model holds (a loaded checkpoint's)."""

    def forward(self, batch: Any) -> Any:
        return self.task.forward(self.model, batch)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        preds, target = self.task.forward(self.model, batch)
        loss = self.loss(preds, target)
        self._units += self.task.count(batch)
        self._loss_sum = self._loss_sum + loss.detach()  # stays on the device: no sync
        self._loss_count += 1
        total = loss
        for reg in self.regularizers:
            term = reg.penalty(self.model) if hasattr(reg, "penalty") else None
            if term is None:
                continue
            total = total + term
            self._penalty_sums[reg.name] = self._penalty_sums.get(reg.name, 0.0) + term.detach()
        self._watch_finite(total)
        if (self.global_step + 1) % self.log_every == 0:
            self._log_train()
        return total

    def _watch_finite(self, loss: torch.Tensor) -> None:
        """Remember, on the device, the first step whose loss is NaN or infinite."""
        bad = ~torch.isfinite(loss.detach())
        if self._first_bad is None:
            self._first_bad = torch.full((), -1.0, device=loss.device)
        fresh = bad & (self._first_bad < 0)
        self._first_bad = torch.where(fresh, float(self.global_step), self._first_bad)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Every ``check_every`` steps, after the step's last micro-batch and before its
        update, checkpoint or validation: stop if a loss was not finite."""
        if self._first_bad is None or (self.global_step + 1) % self.check_every:
            return
        # the one host sync, every check_every steps; under DDP every rank stops together
        first = int(self.trainer.strategy.reduce(self._first_bad.clone(), reduce_op="max"))
        if first >= 0:
            from framework.errors import PlaitError
            from framework.rundir import RunDir

            last = RunDir(self.trainer.default_root_dir).last_checkpoint
            kept = (
                "checkpoints/last.ckpt holds the last good step (resume=auto continues from it)"
                if last.is_file()
                else "no checkpoint was written before it"
            )
            raise PlaitError(
                f"the training loss became NaN or infinite at step {first}; {kept}: lower "
                "optimizer.lr, set trainer.grad_clip, or check the data"
            )

    def _log_train(self) -> None:
        """Log the mean training loss since the last log, the learning rate and throughput."""
        now = time.perf_counter()
        mean_loss = self._loss_sum / max(self._loss_count, 1)
        for name, total in self._penalty_sums.items():
            self.log(f"train/penalty/{name}", total / max(self._loss_count, 1), on_step=True,
                     batch_size=1)  # fmt: skip
        self._loss_sum, self._loss_count, self._penalty_sums = 0.0, 0, {}
        self.log("train/loss", mean_loss, on_step=True, prog_bar=True, batch_size=1)
        self.log(
            "lr",
            self.trainer.optimizers[0].param_groups[0]["lr"],
            on_step=True,
            prog_bar=True,
            batch_size=1,
        )
        if self._clock is not None:
            rate = self._units * self.trainer.world_size / max(now - self._clock, 1e-9)
            self.log(
                f"train/{self.task.unit}_per_s", rate, on_step=True, prog_bar=True, batch_size=1
            )
        self._units, self._clock = 0, now

    def on_validation_epoch_start(self) -> None:
        self._paused_at = time.perf_counter()
        if self.keeper is not None:
            self.keeper.start("val", self.global_step)

    def on_test_epoch_start(self) -> None:
        if self.keeper is not None:
            self.keeper.start("test", self.weights_step)

    def kept_outputs(self, datamodule: Any) -> dict[str, Any]:
        """The outputs of the last validation and test passes that ran the weights the model
        holds now over a whole split, by split name, in record order."""
        if self.keeper is None:
            return {}
        out = {}
        loaders = {"val": datamodule.val_dataloader, "test": datamodule.test_dataloader}
        for split, loader in loaders.items():
            if split in datamodule.datasets:
                size = len(datamodule.datasets[split])
                kept = self.keeper.outputs(split, loader_order(loader()), size, self.weights_step)
                if kept is not None:
                    out[split] = kept
        return out

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # validation, checkpoints and curves since the last batch do not count against throughput
        if self._paused_at is not None and self._clock is not None:
            self._clock += time.perf_counter() - self._paused_at
        self._paused_at = None

    def _eval_step(self, batch: Any, split: str, metrics: nn.ModuleDict) -> None:
        preds, target = self.task.forward(self.model, batch)
        loss = self.loss(preds, target)
        n = len(target)
        if self.keeper is not None:
            self.keeper.add(split, preds, target)
        self.log(
            f"{split}/loss",
            loss,
            on_epoch=True,
            prog_bar=split == "val",
            batch_size=n,
            sync_dist=True,  # reduced across ranks once per evaluation, not per step
        )
        for metric in metrics.values():
            metric.update(preds, target)  # logged once, at the end of the pass

    def _log_metrics(self, split: str, metrics: nn.ModuleDict) -> None:
        """Each metric over the whole pass (torchmetrics reduces across ranks): a number as
        ``val/<name>``, a per-class metric as one scalar per class
        (``val/f1_per_class/<class name>``), a confusion matrix as files in the run dir.
        Logging the metric object at each step instead costs Lightning a walk over its
        state per batch and metric."""
        labels = self.payload.get("data_info", {}).get("labels") or []
        for name, metric in metrics.items():
            logs = self.metric_logs.get(name, "number")
            if logs == "number":
                self.log(f"{split}/{name}", metric.compute(), on_epoch=True)
                metric.reset()
            elif logs == "artifact":
                matrix = metric.compute().cpu().numpy()
                metric.reset()
                if self.trainer.is_global_zero:
                    from framework.training.confusion import write_confusion

                    write_confusion(matrix, labels, self.trainer.default_root_dir, split, name)
            elif logs == "per_class":
                values = metric.compute()
                for i, v in enumerate(values):
                    label = labels[i] if i < len(labels) else str(i)
                    self.log(f"{split}/{name}/{label}", v, on_epoch=True)
                metric.reset()

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val", self.val_metrics)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test", self.test_metrics)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "val", self.val_metrics)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "test", self.test_metrics)

    def configure_optimizers(self) -> Any:
        decays = [r.decay(self.model) for r in self.regularizers if hasattr(r, "decay")]
        decays = [d for d in decays if d is not None]
        if len(decays) > 1:
            from framework.errors import PlaitError

            raise PlaitError("select the weight_decay regularizer once; merge its params lists")
        groups = param_groups(self.model, decays[0] if decays else None, self.lr_scales)
        optimizer = self.make_optimizer(groups)
        scale_learning_rates(optimizer)
        scheduler = self.make_scheduler(optimizer)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self._plateau = scheduler  # stepped after each validation, with its metric
            if self._plateau_state is not None:
                scheduler.load_state_dict(self._plateau_state)
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_validation_end(self) -> None:
        if self._plateau is None or self.trainer.sanity_checking:
            return
        from framework.training._plateau import plateau_monitor

        monitor = plateau_monitor(self._plateau)
        value = self.trainer.callback_metrics.get(monitor)
        if value is None:
            from framework.errors import PlaitError

            known = ", ".join(sorted(k for k in self.trainer.callback_metrics if "/" in k))
            raise PlaitError(f"scheduler.monitor: '{monitor}' is not logged; logged: {known}")
        self._plateau.step(float(value))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["plait"] = {**self.payload, "torch_rng": torch.get_rng_state()}
        if self.frozen_base is not None:
            self.frozen_base.strip(checkpoint["state_dict"], MODULE_PREFIX)
            checkpoint["plait"][FROZEN_BASE] = self.frozen_base.to_dict()
        if self._plateau is not None:
            checkpoint["plait"]["plateau"] = self._plateau.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.weights_step = int(checkpoint.get("global_step", -1))
        state = checkpoint.get("plait", {})
        base = stored_base(checkpoint)
        if base is not None:
            base.restore(checkpoint["state_dict"], self.model, "the checkpoint", MODULE_PREFIX)
        rng = state.get("torch_rng")
        if rng is not None:
            torch.set_rng_state(rng)
        self._plateau_state = state.get("plateau")
