"""The model card (``README.md`` of an export), written from what the run recorded: its data
report, config, command line and ``plait eval`` figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from framework.rundir import RunDir


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def test_figures(run: Path) -> tuple[str, dict[str, dict[str, float]]]:
    """The split ``plait eval`` measured and its metrics with 95% intervals, from
    ``eval/eval.json`` (``("", {})`` when the run was not evaluated): ``{metric: {value,
    low, high}}``."""
    doc = _read_json(RunDir(run).eval_json()) or {}
    for key in ("classification", "multilabel", "regression", "language"):
        if isinstance(doc.get(key), dict) and isinstance(doc[key].get("metrics"), dict):
            figures = {k: v for k, v in doc[key]["metrics"].items() if isinstance(v, dict)}
            return str(doc.get("records_from", "test")), figures
    return "", {}


def _name(cfg: Any, key: str) -> str | None:
    """The ``_name_`` of the component at ``key`` (None when unset)."""
    from omegaconf import OmegaConf

    return OmegaConf.select(cfg, f"{key}._name_", default=None)


def lineage_lines(run: Path) -> list[str]:
    """The lineage's summary: what each step removed (duplicates named) and changed, per
    record in the run's ``lineage.parquet`` (none without one)."""
    from framework.data.lineage import summary

    path = RunDir(run).lineage
    if not path.is_file():
        return []
    lines = ["", "Record lineage (`lineage.parquet`; `plait data --why TEXT_OR_RECORD` tells one "
             "record's story):", ""]  # fmt: skip
    for row in summary(path):
        said = []
        if row["removed"]:
            dup = (f" ({row['duplicates']:,} as duplicates of kept records)"
                   if row["duplicates"] else "")  # fmt: skip
            said.append(f"{row['removed']:,} removed{dup}")
        if row["changed"]:
            said.append(f"{row['changed']:,} changed")
        if row["placed"]:
            said.append(f"{row['placed']:,} records placed in the splits")
        lines.append(f"- {row['stage']} `{row['step']}`: {', '.join(said)}")
    return lines


def model_card(run: Path, cfg: Any, params: int, how: str, fmt: str) -> str:
    """Markdown: data, model, training, test figures, use and limits, reproduction."""
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg, resolve=False)
    report = _read_json(RunDir(run).data_report) or {}
    steps = report.get("steps", [])
    lines = [f"# {cfg.name}", "", f"Trained with Plait; exported as `{fmt}`.", "", "## Data", ""]
    for s in steps:
        lines.append(f"- {s['stage']} `{s['name']}`: {s['rows_in']:,} records in, "
                     f"{s['rows_out']:,} out" + (f", {s['changed']:,} changed" if s.get("changed")
                                                  else ""))  # fmt: skip
    if report.get("splits"):
        sizes = ", ".join(f"{k} {v:,}" for k, v in report["splits"].items())
        lines.append(f"- split ({_name(cfg, 'data.split')}): {sizes}")
    lines += lineage_lines(run)
    model = plain.get("model", {})
    lines += ["", "## Model", "", f"`{model.get('_name_')}`, {params:,} parameters; settings:",
              "", "```yaml", OmegaConf.to_yaml(cfg.model).strip(), "```", "", "## Training", "",
              f"- task `{_name(cfg, 'task')}`, loss `{_name(cfg, 'loss') or 'the task default'}`,"
              f" optimizer `{_name(cfg, 'optimizer')}` (lr {cfg.optimizer.get('lr')})",
              f"- {cfg.trainer.max_steps} steps of batch {cfg.trainer.batch_size} x "
              f"{cfg.trainer.accumulate}, seed {cfg.seed}"]  # fmt: skip
    split, figures = test_figures(run)
    lines += ["", "## Results" + (f" on the {split} split (`plait eval`)" if split else ""), ""]
    if figures:
        lines += ["| metric | value | 95% interval |", "|---|---|---|"]
        for name, v in figures.items():
            low, high = v.get("low"), v.get("high")
            interval = f"[{low:.4f}, {high:.4f}]" if low is not None and high is not None else ""
            lines.append(f"| {name} | {v['value']:.4f} | {interval} |")
    else:
        lines.append("Not evaluated: run `plait eval run=RUN` and export again.")
    command = RunDir(run).command
    repro = command.read_text().strip() if command.is_file() else "(the run did not record it)"
    lines += ["", "## Use", "", how, "", "## Intended use and limits", "",
              "Trained for the task and data above only; its figures hold for data like the "
              "test split, not beyond it. Check it on your own data before relying on it.", "",
              "## Reproduce", "", "```bash", repro, "```", "",
              "The run's `manifest.json` holds its resolved config, package versions, data "
              "files' hashes and hardware: `plait replay RUN` trains it again from that alone "
              "and names what differs first.", ""]  # fmt: skip
    return "\n".join(lines)
