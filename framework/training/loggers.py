"""Built-in loggers."""

from __future__ import annotations

from typing import Any


def csv(flush_every: int = 50, *, run_dir: str) -> Any:
    """CSV file ``metrics.csv`` in the run dir (read by ``curves.png``).

    Args:
        flush_every: Write buffered rows to disk every this many logging steps.
    """
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(save_dir=run_dir, name="", version="", flush_logs_every_n_steps=flush_every)
    from framework.rundir import RunDir

    if RunDir(run_dir).metrics.is_file():  # a run continued in its folder
        logger._experiment = _appending_writer(logger.log_dir)
    return logger


def _appending_writer(log_dir: str) -> Any:
    """Lightning's CSV writer, except that it keeps the rows a run continued in place wrote
    before (Lightning's own deletes ``metrics.csv`` when it starts)."""
    import csv as csv_module

    from lightning.pytorch.loggers.csv_logs import ExperimentWriter

    class AppendingWriter(ExperimentWriter):
        def _check_log_dir_exists(self) -> None:
            with open(self.metrics_file_path, newline="", encoding="utf-8") as fh:
                self.metrics_keys = sorted(next(csv_module.reader(fh), []))

    return AppendingWriter(log_dir=log_dir)


def tensorboard(*, run_dir: str) -> Any:
    """TensorBoard event files in ``<run dir>/tensorboard`` (``tensorboard --logdir runs``)."""
    import importlib.util

    from lightning.pytorch.loggers import TensorBoardLogger

    if importlib.util.find_spec("tensorboard") is None:
        from framework.errors import install_hint

        raise install_hint("logger 'tensorboard'", "pip install tensorboard")
    return TensorBoardLogger(
        save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False
    )


def mlflow(experiment: str = "plait", tracking_uri: str | None = None, *, run_dir: str) -> Any:
    """An MLflow run in a local file store, no server needed (``<run dir>/mlruns`` unless
    ``tracking_uri`` says otherwise); browse it with ``mlflow ui --backend-store-uri ...``.

    Args:
        experiment: MLflow experiment name.
        tracking_uri: Where runs go (``file:/abs/path/mlruns``, ``sqlite:///mlflow.db``, or
            a server URL); null: ``mlruns`` in the run dir.
    """
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("mlflow") is None:
        from framework.errors import install_hint

        raise install_hint("logger 'mlflow'", "pip install mlflow-skinny")
    from lightning.pytorch.loggers import MLFlowLogger

    uri = tracking_uri or (Path(run_dir).resolve() / "mlruns").as_uri()
    if uri.startswith("file:"):  # MLflow 3 asks for this opt-in to its (kept) file store
        import os

        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MLFlowLogger(experiment_name=experiment, tracking_uri=uri)
