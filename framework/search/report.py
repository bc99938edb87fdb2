"""The sweep report (``plait sweep-report DIR``, also written at the end of every sweep): the
trials sorted by objective with the reasons of failed and pruned ones, a CSV, the best
trial's command line, Optuna's parameter importances and PNG plots, in ``<sweep>/report/``."""

from __future__ import annotations

import csv
import json
import math
import shlex
from pathlib import Path
from typing import Any

from framework.errors import PlaitError
from framework.rundir import RunDir
from framework.search import study as St

REPORT = "report"
"""Folder of the report inside the sweep folder."""


def trial_rows(study: Any) -> list[dict[str, Any]]:
    """One row per trial: complete ones best first, then pruned, then failed."""
    sign = 1 if study.direction.name == "MINIMIZE" else -1
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state.name in ("RUNNING", "WAITING") or t.user_attrs.get(St.REASON) == St.SURPLUS:
            continue
        value = t.value if t.state.name == "COMPLETE" else t.user_attrs.get("value")
        rows.append({
            "trial": t.number,
            "state": {"COMPLETE": "complete", "PRUNED": "pruned"}.get(t.state.name, "failed"),
            "value": value,
            **{f"param:{k}": v for k, v in t.params.items()},
            "seconds": t.user_attrs.get("seconds"),
            "reason": t.user_attrs.get(St.REASON, ""),
            "run_dir": t.user_attrs.get(St.RUN_DIR, ""),
            "command": command(t.user_attrs.get(St.OVERRIDES, [])),
        })  # fmt: skip
    order = {"complete": 0, "pruned": 1, "failed": 2}
    return sorted(rows, key=lambda r: (order[r["state"]],
                                       sign * r["value"] if r["state"] == "complete" else 0,
                                       r["trial"]))  # fmt: skip


def command(overrides: list[str]) -> str:
    """The ``plait train`` command line that reruns a trial alone."""
    return " ".join(["plait", "train", *(shlex.quote(o) for o in overrides)])


def importances(study: Any) -> dict[str, float]:
    """Optuna's parameter importances (fANOVA); empty with fewer than two complete trials or
    a single parameter value."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2 or not complete[0].params:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):  # every trial took the same values
        return {}


def write_report(sweep_dir: Path, study: Any, print_it: bool = False) -> Path:
    """Write ``report/`` (trials.csv, sweep.json, PNGs) for ``study``, with the best trials
    compared on the validation split (``search.compare_best``); print the table, the
    comparison and the best command when asked. Returns the report folder."""
    from framework.search.winners import compare_best

    out = Path(sweep_dir) / REPORT
    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    objective = (study.metric_names or ["value"])[0]
    noise = compare_best(rows, objective, _compared(sweep_dir))
    for c in (noise or {}).get("trials", []):
        row = next(r for r in rows if r["trial"] == c["trial"])
        row["vs_best"] = f"{c['value']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}]"
        row["within_noise"] = c["within_noise"]
    _write_csv(out / "trials.csv", rows)
    imp = importances(study)
    best = next((r for r in rows if r["state"] == "complete"), None)
    summary = {
        "study": study.study_name,
        "objective": objective,
        "direction": study.direction.name.lower(),
        "trials": len(rows),
        "complete": sum(r["state"] == "complete" for r in rows),
        "pruned": sum(r["state"] == "pruned" for r in rows),
        "failed": sum(r["state"] == "failed" for r in rows),
        "best": best,
        "noise": noise,
        "importances": imp,
        "rows": rows,
    }
    (out / "sweep.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    from framework.search.charts import draw_all

    draw_all(out, study, rows, summary["objective"])
    if print_it:
        print_report(summary, out)
    return out


def _compared(sweep_dir: Path) -> int:
    """``search.compare_best`` of the sweep's saved config (its default without one)."""
    from omegaconf import OmegaConf

    from framework.search.winners import COMPARE_BEST
    from framework.trust import as_data

    saved = RunDir.sweep_config(sweep_dir)
    if saved.is_file():
        config = OmegaConf.create(as_data(OmegaConf.load(saved)))  # a stranger's folder: data
        value = OmegaConf.select(config, "search.compare_best", default=None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return COMPARE_BEST


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def print_report(summary: dict[str, Any], out: Path) -> None:
    """The trials as a rich table, the importances and the best command line."""
    from rich.console import Console
    from rich.table import Table

    rows = summary["rows"]
    params = sorted({k for r in rows for k in r if k.startswith("param:")})
    table = Table(title=f"sweep '{summary['study']}': {summary['objective']} "
                        f"({summary['direction']})")  # fmt: skip
    for col, width in [
        ("trial", 5),
        ("state", 8),
        (summary["objective"], 8),
        *((p[6:], min(len(p) - 6, 12)) for p in params),
        ("s", 5),
        *([("vs best", 24)] if summary.get("noise") else []),
    ]:
        table.add_column(col, no_wrap=True, min_width=width)
    notes = any(r["reason"] for r in rows)
    if notes:  # the full reasons are in trials.csv
        table.add_column("note", overflow="ellipsis", no_wrap=True, max_width=48)
    for r in rows:
        table.add_row(
            str(r["trial"]), r["state"], _fmt(r["value"]), *(_fmt(r.get(p)) for p in params),
            _fmt(r["seconds"]), *([_versus(r)] if summary.get("noise") else []),
            *([r["reason"]] if notes else []),
        )  # fmt: skip
    console = Console(soft_wrap=True, markup=False)  # command lines and reasons as typed
    console.print(table)
    if summary["importances"]:
        said = ", ".join(f"{k} {v:.2f}" for k, v in summary["importances"].items())
        console.print(f"parameter importances: {said}")
    console.print(f"{summary['complete']} complete, {summary['pruned']} pruned, "
                  f"{summary['failed']} failed; report: {out}")  # fmt: skip
    if summary["best"] is not None:
        console.print(f"best trial {summary['best']['trial']}: {summary['best']['command']}")
    if summary.get("noise"):
        console.print(summary["noise"]["line"])


def _versus(row: dict[str, Any]) -> str:
    """The trial's difference from the best, with its interval; ``≈`` within noise."""
    if "vs_best" not in row:
        return ""
    return ("≈ " if row["within_noise"] else "") + row["vs_best"]


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def load_study(sweep_dir: Path) -> Any:
    """The study of a sweep folder (its ``multirun.yaml`` says where it is stored)."""
    import optuna
    from omegaconf import OmegaConf

    sweep_dir = Path(sweep_dir)
    saved = RunDir.sweep_config(sweep_dir)
    if not saved.is_file():
        raise PlaitError(
            f"{sweep_dir} is not a sweep folder (no multirun.yaml); give the folder "
            "`plait train -m` or a search wrote (runs/<name>/search_... or multirun_...)"
        )
    from framework.trust import as_data

    config = OmegaConf.create(as_data(OmegaConf.load(saved)))  # a stranger's folder: data
    search = config.get("search") or OmegaConf.create({"storage": None, "study": None})
    url = St.storage_url(search, sweep_dir)
    if url.startswith("sqlite:///"):
        file = Path(url[len("sqlite:///") :])
        if not file.is_file():
            raise PlaitError(f"{sweep_dir} holds no study ({St.STUDY_DB} is missing)")
        problem = St.study_file_problem(file)
        if problem:
            raise PlaitError(problem)
    St.quiet()
    try:
        return optuna.load_study(study_name=St.study_name(search, config.name), storage=url)
    except KeyError:
        raise PlaitError(f"no study '{St.study_name(search, config.name)}' in {url}") from None
