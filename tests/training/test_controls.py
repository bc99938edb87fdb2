"""Training controls through real runs: early stopping, a NaN loss, TensorBoard and MLflow
loggers read back by their own libraries, and `plait plot`."""

from __future__ import annotations

import pytest
import torch

from tests.cli.test_errors import assert_one_line_error
from tests.conftest import TINY_LM


def _run(tmp_path, name):
    return next((tmp_path / "runs" / name).iterdir())


def test_early_stopping_stops_when_validation_stalls(plait, tmp_path):
    # learning rate 0: every validation equals the first, so with patience 1 the run stops
    # at its second validation during training (step 20), far before max_steps
    proc = plait("train", *TINY_LM, "name=stall", "optimizer.lr=0.0", "scheduler=constant",
                 "trainer.max_steps=200", "callback=[early_stopping]",
                 "callback.early_stopping.patience=1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    ckpt = torch.load(_run(tmp_path, "stall") / "checkpoints/last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 20


@pytest.mark.parametrize(("accumulate", "bad_step", "last_step"), [(1, 22, 20), (2, 11, 10)])
def test_nan_loss_stops_the_run_and_the_last_checkpoint_loads(
    registry, tmp_path, accumulate, bad_step, last_step
):
    import torch.nn.functional as F

    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.engine import train
    from framework.errors import PlaitError

    class NanAfter:
        """Cross-entropy that turns NaN from the 23rd training micro-batch on."""

        def __init__(self) -> None:
            self.steps = 0

        def __call__(self, preds, target):
            loss = F.cross_entropy(preds.reshape(-1, preds.size(-1)), target.reshape(-1))
            if torch.is_grad_enabled():
                self.steps += 1
                if self.steps > 22:
                    return loss * float("nan")
            return loss

    def nan_after(*, info):
        """A loss that breaks on purpose."""
        return NanAfter()

    registry.add("loss", "nan_after", nan_after)
    cfg = compose(registry, [*TINY_LM, "loss=nan_after", "trainer.max_steps=40",
                             f"trainer.accumulate={accumulate}"])  # fmt: skip
    validate(cfg, registry)
    run_dir = tmp_path / "run"
    try:
        train(cfg, registry, run_dir)
    except PlaitError as exc:
        message = str(exc)
    else:
        raise AssertionError("a NaN loss did not stop the run")
    assert f"became NaN or infinite at step {bad_step};" in message and "resume=auto" in message
    ckpt = torch.load(run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert ckpt["global_step"] == last_step
    assert all(
        torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point()
    )


def test_tensorboard_and_mlflow_runs_are_readable_and_plot_redraws_curves(
    plait, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads file stores on request
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    proc = plait("train", *TINY_LM, "name=logged", "logger=[csv,tensorboard,mlflow]",
                 "trainer.keep_best=2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = _run(tmp_path, "logged")
    kept = sorted(p.name for p in (run / "checkpoints").glob("best-step*.ckpt"))
    assert kept == ["best-step10.ckpt", "best-step20.ckpt"]  # the two validations in training

    val_steps = []
    for events in sorted((run / "tensorboard").glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events))
        acc.Reload()
        if "val/loss" in acc.Tags()["scalars"]:
            val_steps += [e.step for e in acc.Scalars("val/loss")]
    assert 19 in val_steps  # the validation at the last step

    client = MlflowClient(tracking_uri=(run / "mlruns").as_uri())
    (experiment,) = [e for e in client.search_experiments() if e.name == "plait"]
    (logged,) = client.search_runs([experiment.experiment_id])
    history = client.get_metric_history(logged.info.run_id, "val/loss")
    assert [m.step for m in history][-1] == 19
    assert "train/loss" in logged.data.metrics

    png = run / "curves.png"
    png.unlink()
    redraw = plait("plot", str(run))
    assert redraw.returncode == 0, redraw.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert_one_line_error(plait("plot", str(tmp_path)), "no metrics.csv", "runs/NAME/<time>")


def test_a_write_killed_midway_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    from framework.training import checkpoint as ck

    io = ck.AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"global_step": 10, "w": torch.ones(3)}, path)

    def dies_halfway(obj, target):  # the process dies after writing half the bytes
        with open(target, "wb") as fh:
            fh.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(ck, "_atomic_save", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"global_step": 20, "w": torch.zeros(3)}, path)
    kept = torch.load(path, weights_only=True)
    assert kept["global_step"] == 10 and torch.equal(kept["w"], torch.ones(3))


def test_auto_precision_takes_bfloat16_only_where_it_is_native(monkeypatch):
    import torch

    from framework.training import hardware

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert hardware.resolve_precision("auto", "cpu") == "32-true"
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert hardware.resolve_precision("auto", "cpu") == "bf16-mixed"
    assert hardware.resolve_precision("32-true", "cpu") == "32-true"  # asked for: kept
    assert hardware.resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"
