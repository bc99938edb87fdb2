"""What a run tells its user: plain progress lines when the output is not a terminal (and
always into ``train.log``), and a summary panel at the end."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L

from framework.rundir import RunDir

TRAIN_LOG = "train.log"
"""The run's log (Hydra's job log): progress lines are appended to it."""


def _short(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (or the working directory) when it lies below it."""
    import os

    base = base or Path.cwd()
    try:
        return (
            os.path.relpath(path, base)
            if Path(path).resolve().is_relative_to(base.resolve())
            else str(path)
        )
    except ValueError:
        return str(path)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


class ProgressLines(L.Callback):
    """A plain line every ``every`` optimizer steps and after each validation, appended to
    ``train.log`` and, when standard output is not a terminal (nohup, CI), printed too."""

    def __init__(self, run_dir: str | Path, every: int, echo: bool | None = None) -> None:
        self.log_path = RunDir(run_dir).path / TRAIN_LOG
        self.every = max(1, every)
        self.echo = (not sys.stdout.isatty()) if echo is None else echo
        self._last = -1

    def _emit(self, trainer: L.Trainer, text: str) -> None:
        if not trainer.is_global_zero:
            return
        line = f"step {trainer.global_step}/{trainer.max_steps}  {text}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}][plait][INFO] - {line}\n")
        if self.echo:
            print(line, flush=True)

    def _values(self, trainer: L.Trainer, prefix: str) -> str:
        metrics = trainer.callback_metrics
        keys = [k for k in metrics if k.startswith(prefix) and k.count("/") == 1]
        if prefix == "train/" and "lr" in metrics:
            keys.append("lr")
        return "  ".join(f"{k} {_fmt(float(metrics[k]))}" for k in keys)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        step = trainer.global_step
        if step % self.every == 0 and step != self._last:
            self._last = step
            self._emit(trainer, self._values(trainer, "train/"))

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self._emit(trainer, self._values(trainer, "val/"))


def summary(
    run: RunDir, results: dict[str, float], best: tuple[str, float | None, str], seconds: float,
    generative: bool,
) -> Any:  # fmt: skip
    """The end-of-run panel: where the run is, its best, last and test figures, its speed,
    and the commands that come next."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # a long path or command folds, never cropped
    where = _short(run.path)
    table.add_row("run dir", where)
    monitor, score, path = best
    if score is not None:
        table.add_row(f"best {monitor}", f"{_fmt(score)}  ({_short(Path(path), run.path)})")
    for split in ("val", "test"):
        shown = {
            k: v for k, v in results.items() if k.startswith(f"{split}/") and k.count("/") == 1
        }
        if split == "val" and "val/loss" in shown and "val/perplexity" not in shown and generative:
            shown["val/perplexity"] = math.exp(min(shown["val/loss"], 50.0))
        if shown:
            label = "last validation" if split == "val" else "test (best checkpoint)"
            table.add_row(
                label, "  ".join(f"{k.split('/')[1]} {_fmt(v)}" for k, v in shown.items())
            )
    speed = [f"{k.split('/')[1].replace('_', ' ')} {_fmt(v)}" for k, v in results.items()
             if k.startswith("train/") and k.endswith("_per_s")]  # fmt: skip
    table.add_row("time", f"{seconds / 60:.1f} min" + (f"  ({speed[0]})" if speed else ""))
    ckpt = _short(run.best_checkpoint)
    nxt = [f"plait plot {where}", f"{run.resume_command()}  (continue this run)"]
    if generative:
        nxt.insert(0, f'plait generate ckpt={ckpt} prompt="..."')
    table.add_row("next", escape("\n".join(nxt)))  # paths and overrides hold brackets
    return Panel(table, title="plait train: done", title_align="left", expand=False)
