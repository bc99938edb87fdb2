"""The progress bar reads logged metrics (a host sync each) only on logging steps."""

from __future__ import annotations

from types import SimpleNamespace

from lightning.pytorch.callbacks import RichProgressBar

from framework.training.progress import PlaitProgressBar


def test_metrics_are_read_only_on_logging_steps_and_outside_training(monkeypatch):
    reads = []

    def fake_get_metrics(self, trainer, pl_module):
        reads.append(trainer.global_step)
        return {"train/loss": 1.0 + trainer.global_step, "lr": 1e-3, "v_num": 0}

    monkeypatch.setattr(RichProgressBar, "get_metrics", fake_get_metrics)
    bar = PlaitProgressBar(metrics_every=5)
    shown = []
    for step in range(1, 13):
        trainer = SimpleNamespace(global_step=step, training=True)
        shown.append(bar.get_metrics(trainer, None)["loss"] if step >= 5 else None)
    assert reads == [5, 10]
    assert shown[4:] == ["6.000"] * 5 + ["11.000"] * 3  # held between logging steps
    bar.get_metrics(SimpleNamespace(global_step=12, training=False), None)
    assert reads == [5, 10, 12]


def test_curves_pair_train_and_val_and_leave_per_class_values_out():
    from framework.training.curves import curve_panels

    keys = ["val/f1_macro", "train/loss", "val/loss", "lr", "val/f1_per_class/negative",
            "test/f1_per_class/positive", "train/samples_per_s"]  # fmt: skip
    panels = curve_panels(keys)
    assert next(iter(panels)) == "loss" and panels["loss"] == ["train/loss", "val/loss"]
    assert set(panels) == {"loss", "f1_macro", "lr", "samples_per_s"}


def test_the_bar_counts_steps_of_the_whole_run_when_resumed():
    bar = PlaitProgressBar()
    updates = []
    bar._trainer = SimpleNamespace(max_steps=100, global_step=80)  # resumed at step 80
    assert bar.total_train_batches == 100
    bar._update = lambda bar_id, current, **kw: updates.append(current)
    bar._update_metrics = lambda *a: None
    bar.refresh = lambda **kw: None
    bar.train_progress_bar_id = 0
    bar.on_train_batch_end(SimpleNamespace(global_step=81), None, None, None, 0)
    assert updates[-1] == 81  # the run's step, not the batch index of this epoch (1)


def test_a_drawing_is_copied_only_while_it_shows_the_same_points(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from framework.training.curves import drawn_digest, plot_curves

    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,lr,step,train/loss,val/loss,test/loss\n"
                   "0,0.1,0,,2.0,\n0,0.1,4,1.5,,\n0,,9,,1.0,\n")  # fmt: skip
    drawn = plot_curves(csv, tmp_path / "curves.png")
    digest = drawn_digest(drawn)
    assert digest and drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "eval").mkdir()
    with monkeypatch.context() as m:  # a copy draws nothing
        m.setattr(plt, "subplots", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
        # the test pass's value logged after the drawing is not a curve: the same drawing
        csv.write_text(csv.read_text() + "1,,10,,,0.9\n")
        copied = plot_curves(csv, tmp_path / "eval" / "curves.png", drawn)
        assert copied.read_bytes() == drawn.read_bytes()
    # one more validation point: drawn afresh, with its own digest
    csv.write_text(csv.read_text() + "1,,19,,0.8,\n")
    fresh = plot_curves(csv, tmp_path / "eval" / "curves.png", drawn)
    assert drawn_digest(fresh) not in (None, digest)
    assert fresh.read_bytes() != drawn.read_bytes()
