"""Training components (losses, metrics, optimizers, schedules, hardware) and the loop glue."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in losses and metrics (with the targets they fit), regularizers,
    optimizers, schedules, callbacks, loggers and hardware presets."""
    from framework import scores
    from framework.training import (
        callbacks,
        hardware,
        loggers,
        losses,
        metrics,
        optim,
        regularizers,
        schedulers,
    )

    add = registry.add
    LABELLED = metrics.LABELLED
    add("loss", "cross_entropy", losses.cross_entropy, fits=("tokens", "class"))
    add("loss", "focal", losses.focal, fits=("tokens", "class"))
    add("loss", "bce_with_logits", losses.bce_with_logits, fits=("multilabel",))
    add("loss", "mse", losses.mse, fits=("value",))

    add("metric", "perplexity", metrics.perplexity, fits=("tokens",))
    add("metric", "accuracy", metrics.accuracy, fits=LABELLED, from_confusion=scores.accuracy)
    add("metric", "exact_match", metrics.exact_match, fits=("multilabel",))
    for name, builder in metrics.AVERAGED.items():
        add("metric", name, builder, fits=LABELLED, logs=metrics.LOGS[name],
            from_confusion=scores.CONFUSION_SCORES.get(name))  # fmt: skip
    add("metric", "auroc", metrics.auroc, fits=LABELLED)
    add("metric", "map_macro", metrics.map_macro, fits=LABELLED)
    add("metric", "confusion_matrix", metrics.confusion_matrix, fits=LABELLED, logs="artifact")
    add("metric", "mse", metrics.mse, fits=("value",))
    add("metric", "mae", metrics.mae, fits=("value",))
    add("metric", "r2", metrics.r2, fits=("value",))

    add("regularizer", "dropout", regularizers.dropout)
    add("regularizer", "l1", regularizers.l1)
    add("regularizer", "l2", regularizers.l2)
    add("regularizer", "weight_decay", regularizers.weight_decay)
    add("optimizer", "adamw", optim.adamw, state_tensors=2)
    add("optimizer", "adam", optim.adam, state_tensors=2)
    add(
        "optimizer",
        "sgd",
        optim.sgd,
        state_tensors=1,
        sparse_gradients=("momentum", "weight_decay"),
    )
    add("scheduler", "cosine", schedulers.cosine)
    add("scheduler", "constant", schedulers.constant)
    add("scheduler", "linear", schedulers.linear)
    add("scheduler", "one_cycle", schedulers.one_cycle)
    add("scheduler", "plateau", schedulers.plateau, monitors="monitor")
    add("callback", "early_stopping", callbacks.early_stopping, monitors="monitor")
    add("logger", "csv", loggers.csv)
    add("logger", "tensorboard", loggers.tensorboard)
    add("logger", "mlflow", loggers.mlflow)
    add("hardware", "auto", hardware.auto)
    add("hardware", "cpu", hardware.cpu)
    add("hardware", "gpu", hardware.gpu)
    add("hardware", "ddp", hardware.ddp)
    add("hardware", "multi_gpu", hardware.multi_gpu)
    add("hardware", "fsdp", hardware.fsdp)
    add("hardware", "multi_node", hardware.multi_node)
