"""What a search optimizes: the name and direction of the objective, and its value for one
trial (the best over the trial's validations, not the last)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.errors import PlaitError


@dataclass(frozen=True)
class Objective:
    """The metric a search optimizes."""

    name: str
    """As the results name it: ``val/f1_macro``, ``val/loss``, ``test/accuracy``."""
    direction: str
    """``minimize`` or ``maximize``."""

    @property
    def better(self) -> Any:
        """``min`` or ``max``: the better of values."""
        return min if self.direction == "minimize" else max


def objective_of(cfg: Any, task: Any) -> Objective:
    """``optimized_metric`` (else the task's monitored metric) and its direction:
    ``search.direction``, else the monitor's own mode, else down for a loss."""
    name = cfg.optimized_metric or task.monitor
    direction = cfg.search.direction
    if direction is None:
        as_val = name.replace("test/", "val/", 1)
        if as_val == task.monitor:
            direction = "minimize" if task.monitor_mode == "min" else "maximize"
        elif as_val == "val/loss":
            direction = "minimize"
        else:
            raise PlaitError(
                f"optimized_metric={name} is not the task's monitored metric ({task.monitor}), "
                "so its direction is unknown; set search.direction=maximize or minimize"
            )
    return Objective(name, direction)


def trial_value(metrics_csv: Path, results: dict[str, float], objective: Objective) -> float:
    """The objective's best value over the trial's validations (``metrics.csv``); a test
    metric, measured once, from ``results``. A value that went NaN or infinite fails the
    trial (:class:`PlaitError`)."""
    values = _column(metrics_csv, objective.name) if metrics_csv.exists() else []
    if not values and objective.name in results:
        values = [results[objective.name]]
    if not values:
        raise PlaitError(
            f"the trial logged no '{objective.name}'; set optimized_metric to a metric the run "
            f"reports ({', '.join(sorted(results)) or 'none'})"
        )
    if not all(math.isfinite(v) for v in values):
        raise PlaitError(f"{objective.name} became NaN or infinite (the run diverged)")
    return objective.better(values)


def _column(path: Path, name: str) -> list[float]:
    """Every logged value of one metric, in order, NaN and infinities kept."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [float(row[name]) for row in csv.DictReader(fh) if row.get(name) not in ("", None)]
