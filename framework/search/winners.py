"""Which of a search's best trials are within noise of the best: each is evaluated on the
validation split (the records the objective was measured on) and compared with the best by
a paired bootstrap on the same records; a trial whose 95% interval of the difference holds 0
is indistinguishable from it, and the cheapest of those is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPLIT = "val"
"""The split the trials are compared on: the one their objective was measured on."""
COMPARE_BEST = 8
"""How many of the best trials the report compares, unless ``search.compare_best`` says."""


def compare_best(rows: list[dict[str, Any]], objective: str, top: int) -> dict[str, Any] | None:
    """Evaluate the ``top`` best complete trials (``rows``: best first) on the validation
    split and compare each with the best; None when fewer than two have their run dir here."""
    from framework.errors import PlaitError
    from framework.evaluate.analysis import analysis_named
    from framework.evaluate.compare import paired, read_predictions
    from framework.rundir import RunDir

    found = [r for r in rows if r["state"] == "complete" and r["run_dir"]
             and RunDir(r["run_dir"]).evaluated_checkpoint() is not None][:top]  # fmt: skip
    if top < 2 or len(found) < 2:
        return None
    try:
        folder, kind = _evaluated_on_val(found[0]["run_dir"])
        if analysis_named(kind).paired is None:  # a target without a paired test
            return None
        first = read_predictions(folder)
        best, compared, metric = found[0], [], None
        for r in found[1:]:
            folder, other = _evaluated_on_val(r["run_dir"])
            p = read_predictions(folder)
            diffs = paired(kind, first, p) if other == kind and len(p) == len(first) else {}
            if not diffs:
                return None
            metric = metric or _metric(objective, diffs)
            d = diffs[metric]
            compared.append({"trial": r["trial"], "value": d["value"], "low": d["low"],
                             "high": d["high"], "p_value": d["p_value"],
                             "within_noise": d["low"] <= 0 <= d["high"]})  # fmt: skip
    except PlaitError:
        return None  # a trial's run dir is not readable here: no comparison, not a failure
    tied = [best, *(r for r, c in zip(found[1:], compared) if c["within_noise"])]
    cheapest = min(tied, key=lambda r: (r["seconds"] is None, r["seconds"] or 0, r["trial"]))
    return {
        "split": SPLIT,
        "metric": metric,
        "records": len(first),
        "best": best["trial"],
        "trials": compared,
        "within_noise": [r["trial"] for r in tied],
        "cheapest": cheapest["trial"],
        "line": _line(best, tied, cheapest, compared, metric, len(first)),
    }


def _evaluated_on_val(run_dir: str) -> tuple[Path, str]:
    """The trial's evaluation on the validation split: the one it has, else made now."""
    import json

    from framework.evaluate.of_run import evaluation_of
    from framework.rundir import EVAL_JSON

    options = val_options()
    folder, _doc = evaluation_of(run_dir, SPLIT, bootstrap=options.replicates, report=False,
                                 batch_size=options.batch_size)  # fmt: skip
    return folder, json.loads((folder / EVAL_JSON).read_text("utf-8"))["kind"]


def val_options() -> Any:
    """How a trial is evaluated on the validation split for the comparison: the numbers and
    predictions, no charts; a trial writes it at its end from the outputs it kept."""
    from framework.evaluate.run import EvalOptions

    return EvalOptions(batch_size=64, replicates=200, report=False)


def _metric(objective: str, diffs: dict[str, Any]) -> str:
    """The paired metric named like the objective (``val/f1_macro``: ``f1_macro``), else the
    analysis's first (an objective such as ``val/loss`` has no paired test of its own)."""
    name = objective.rsplit("/", 1)[-1]
    return name if name in diffs else next(iter(diffs))


def _line(best: dict, tied: list[dict], cheapest: dict, compared: list[dict], metric: str,
          records: int) -> str:  # fmt: skip
    how = f"paired bootstrap of {SPLIT} {metric} over {records:,} records, 95%"
    if len(tied) == 1:
        return (f"trial {best['trial']} is ahead of the next {len(compared)} beyond noise "
                f"({how})")  # fmt: skip
    names = ", ".join(str(r["trial"]) for r in tied[1:])
    took = f", {cheapest['seconds']:.1f} s" if cheapest["seconds"] is not None else ""
    return (f"{len(tied)} trials are within noise: the best, {best['trial']}, and {names} "
            f"({how}); the cheapest of them is trial {cheapest['trial']}{took}: "
            f"{cheapest['command']}")  # fmt: skip
