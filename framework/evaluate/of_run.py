"""Evaluate a trained run on one of its splits or on new records: what ``plait eval`` runs,
and what the sweep report runs on its best trials."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def evaluate_run(
    run: str,
    split: str = "test",
    data_overrides: list[str] | None = None,
    *,
    ckpt: str | None = None,
    task: str | None = None,
    out: str | None = None,
    overwrite: bool = False,
    batch_size: int = 64,
    slices: list[str] | None = None,
    seed: int = 0,
    bootstrap: int = 1000,
    report: bool = True,
) -> tuple[dict[str, Any], Path]:
    """Evaluate ``run`` (its best checkpoint, or ``ckpt``) on ``split``, or on the records
    ``data_overrides`` select, into ``out`` (default: the run's ``eval/`` or ``eval-<split>/``);
    ``report``: false leaves out the charts and ``report.html``. Returns the evaluation's
    document (``eval.json``) and the folder written."""
    from framework.evaluate.analysis import analysis_for
    from framework.evaluate.loading import eval_folder, load_model
    from framework.evaluate.records import new_source, run_split
    from framework.evaluate.run import EvalOptions, evaluate
    from framework.outputs import output_folder
    from framework.registry import default_registry

    given = output_folder(out, "out", overwrite) if out else None
    registry = default_registry()
    m, folder = load_model(run, ckpt, task, registry)
    labels = m.info.labels
    if data_overrides:
        evalset = new_source(m.cfg, m.task, registry, data_overrides, labels)
    else:
        evalset = run_split(m.cfg, m.task, registry, split, labels)
    asked = "" if data_overrides else split
    output = given or output_folder(eval_folder(folder, evalset.name, asked), "out", False,
                                    default=True)  # fmt: skip
    samples = _samples(m) if analysis_for(m.task).samples else []
    options = EvalOptions(
        batch_size=batch_size,
        slices=list(slices) if slices is not None else None,
        seed=seed,
        replicates=bootstrap,
        samples=samples,
        metrics_csv=folder.metrics if folder is not None else None,
        report=report,
    )
    doc = evaluate(m, evalset, registry, output.path, options)
    output.seal("plait eval")
    return doc, output.path


def evaluation_of(run: str, split: str = "test", **options: Any) -> tuple[Path, dict | None]:
    """The folder of ``run``'s evaluation on ``split``: the one it has (and None), else one
    made now by :func:`evaluate_run` with ``options`` (and its document)."""
    from framework.rundir import RunDir

    found = RunDir(run)
    if found.eval_json(split).is_file():
        return found.eval_dir(split), None
    doc, folder = evaluate_run(run, split, **options)
    return folder, doc


def _samples(m: Any) -> list[str]:
    """Continuations of the run's ``samples.prompts``, as training wrote them."""
    from framework.models.generate import sample

    s = m.cfg.get("samples") or {}
    prompts = list(s.get("prompts") or [])
    if not prompts:
        return []
    return sample(
        m.model,
        m.tokenizer,
        prompts,
        m.info.max_length,
        int(s.get("max_new_tokens", 100)),
        float(s.get("temperature", 0.8)),
        s.get("top_k"),
        seed=int(m.cfg.get("seed", 0)),
    )
