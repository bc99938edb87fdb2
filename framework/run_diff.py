"""``plait diff RUN_A RUN_B``: what differs between two runs (config, overrides, data,
environment, results) from their manifests, and the paired bootstrap interval of each
shared test metric on the records both were evaluated on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from framework.manifest import compare, read
from framework.rundir import RunDir


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """A nested config as ``{dotted.key: value}`` (lists kept whole)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: node}


def config_changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every config key whose value differs (absent: None), sorted by key."""
    fa, fb = flatten(a), flatten(b)
    return [{"key": k, "a": fa.get(k), "b": fb.get(k)}
            for k in sorted({*fa, *fb}) if fa.get(k) != fb.get(k)]  # fmt: skip


def result_changes(run_a: RunDir, run_b: RunDir) -> list[dict[str, Any]]:
    """Each final metric (``results.json``) of either run, with both values and b - a."""
    ra, rb = _results(run_a), _results(run_b)
    rows = []
    for key in sorted({*ra, *rb}):
        a, b = ra.get(key), rb.get(key)
        delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        rows.append({"metric": key, "a": a, "b": b, "delta": delta})
    return rows


def _results(run: RunDir) -> dict[str, Any]:
    path = run.results
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def paired_test(folders: list[Path], seed: int = 0) -> dict[str, Any]:
    """The paired bootstrap of each headline test metric, b - a, from two runs' evaluation
    folders (``eval/``) on the same records; ``note`` says why there is none (other records,
    another task, a target without a paired test)."""
    from framework.errors import PlaitError
    from framework.evaluate.compare import paired, read_predictions, same_records
    from framework.rundir import EVAL_JSON

    kinds = [json.loads((f / EVAL_JSON).read_text("utf-8"))["kind"] for f in folders]
    if kinds[0] != kinds[1]:
        return {"metrics": {}, "note": f"the runs are of different tasks ({' and '.join(kinds)})"}
    preds = [read_predictions(f) for f in folders]
    try:
        same_records(["a", "b"], preds)
    except PlaitError:
        return {"metrics": {}, "note": "the runs were evaluated on different test records"}
    found = paired(kinds[0], preds[0], preds[1], seed)
    note = "" if found else f"no paired test for {kinds[0]}"
    return {"metrics": found, "records": len(preds[0]), "note": note}


def diff_runs(
    run_a: str | Path, run_b: str | Path, seed: int = 0, evaluations: list[Path] | None = None
) -> dict:
    """What differs between two runs: config keys, the overrides each was started with, the
    data (fingerprint, files), the environment (Plait, packages, hardware), the final results
    and, given their test ``evaluations`` (``eval/`` folders), the paired bootstrap of the
    test metrics."""
    a, b = RunDir(run_a), RunDir(run_b)
    ma, mb = read(a), read(b)
    env = compare(ma, mb)
    overrides = [(ma.get("hydra") or {}).get("overrides", []),
                 (mb.get("hydra") or {}).get("overrides", [])]  # fmt: skip
    fp = [(m.get("data") or {}).get("fingerprint") for m in (ma, mb)]
    out = {
        "a": str(a.path),
        "b": str(b.path),
        "config": config_changes(ma["config"], mb["config"]),
        "overrides": {
            "a": [o for o in overrides[0] if o not in overrides[1]],
            "b": [o for o in overrides[1] if o not in overrides[0]],
        },
        "data": {
            "fingerprint": {"a": fp[0], "b": fp[1]} if fp[0] != fp[1] else None,
            "files": [_row(d) for d in env.differences if d.area == "data"],
        },
        "environment": [_row(d) for d in env.differences if d.area != "data"],
        "results": result_changes(a, b),
    }
    if evaluations:
        out["paired"] = paired_test(evaluations, seed)
    return out


def _row(d: Any) -> dict[str, Any]:
    return {"area": d.area, "what": d.what, "a": d.then, "b": d.now}
