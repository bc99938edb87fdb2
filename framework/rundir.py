"""The run directory: the one module that knows every path in it, writes every artifact and
finds runs.

    runs/<name>/<time>/                 one training run (Hydra's run dir)
        config.yaml                     the composed config, resolved
        data_report.json                every data step's counts (``plait data``: runs/<name>/)
        data_info.json                  vocabulary, classes, class weights, image shape
        tokenizer.json  labels.json     the trained tokenizer, the class names
        metrics.csv  curves.png         logged values and their curves
        confusion_matrix_<split>.json|png
        results.json                    final validation and test metrics
        samples.txt                     generated continuations (causal LM)
        train.log                       the job's log and progress lines
        manifest.json                   config, overrides, command, package versions, data
                                        files' hashes, hardware: ``plait replay``/``diff``
        lineage.parquet                 what the data stage did to each record (``--why``)
        checkpoints/                    last.ckpt, best.ckpt, step<N>.ckpt
        eda/                            ``eda: true`` (``plait eda``: runs/<name>/eda/)
        eval/                           ``eval: true`` and ``plait eval``: report.html,
                                        eval.json, predictions.csv, the charts
        eval-<split or file>/           ``plait eval split=val`` or on new data
    runs/<name>/multirun_<time>/<n>/    one job of a sweep (``plait train -m``)
    runs/<name>/search_<sampler>_<hash>/ a search: study.db, <n>/ per trial, report/
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from framework.errors import PlaitError

RUNS = "runs"
"""Folder, relative to the working directory, holding every recipe's runs."""

CONFIG = "config.yaml"
COMMAND = "command.txt"
MANIFEST = "manifest.json"
DATA_REPORT = "data_report.json"
DATA_INFO = "data_info.json"
TOKENIZER = "tokenizer.json"
LABELS = "labels.json"
METRICS = "metrics.csv"
CURVES = "curves.png"
RESULTS = "results.json"
SAMPLES = "samples.txt"
CHECKPOINTS = "checkpoints"
LAST_CKPT = "last.ckpt"
BEST_CKPT = "best.ckpt"
MERGED_CKPT = "merged.ckpt"
EDA = "eda"
EVAL = "eval"
EVAL_JSON = "eval.json"
PREDICTIONS = "predictions.csv"
SWEEP_CONFIG = "multirun.yaml"
COMPARE = "compare"


def _atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file renamed into place: a kill keeps the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class RunDir:
    """One run's folder (``runs/<name>/<time>``, or ``runs/<name>`` for the data commands)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # paths ------------------------------------------------------------------------------

    @property
    def config(self) -> Path:
        """``config.yaml``: the composed config, resolved."""
        return self.path / CONFIG

    @property
    def metrics(self) -> Path:
        """``metrics.csv``: what the csv logger wrote."""
        return self.path / METRICS

    @property
    def curves(self) -> Path:
        """``curves.png``: the curves drawn from ``metrics.csv``."""
        return self.path / CURVES

    @property
    def checkpoints(self) -> Path:
        """``checkpoints/``: last, best and periodic checkpoints."""
        return self.path / CHECKPOINTS

    @property
    def eda(self) -> Path:
        """``eda/``: the exploratory analysis."""
        return self.path / EDA

    @property
    def last_checkpoint(self) -> Path:
        """``checkpoints/last.ckpt``: the newest state, to resume."""
        return self.checkpoints / LAST_CKPT

    @property
    def best_checkpoint(self) -> Path:
        """``checkpoints/best.ckpt``: the best validation (one kept)."""
        return self.checkpoints / BEST_CKPT

    @property
    def merged_checkpoint(self) -> Path:
        """``checkpoints/merged.ckpt``: adapters folded into the base (``merge: true``)."""
        return self.checkpoints / MERGED_CKPT

    @property
    def lineage(self) -> Path:
        """``lineage.parquet``: what the data stage did to each record (``plait data --why``)."""
        from framework.data.lineage import FILE

        return self.path / FILE

    @property
    def results(self) -> Path:
        """``results.json``: the final validation and test metrics."""
        return self.path / RESULTS

    @property
    def manifest(self) -> Path:
        """``manifest.json``: the config, versions, data, hardware and command of the run."""
        return self.path / MANIFEST

    @property
    def command(self) -> Path:
        """``command.txt``: the ``plait train`` command line of this run."""
        return self.path / COMMAND

    def evaluated_checkpoint(self) -> Path | None:
        """The checkpoint evaluations use: ``best.ckpt``, else the newest
        ``best-step<N>.ckpt``, else ``last.ckpt``; None when there is none."""
        found = [self.best_checkpoint] if self.best_checkpoint.is_file() else []
        steps = self.checkpoints.glob("best-step*.ckpt")
        found += sorted(steps, key=lambda p: p.stat().st_mtime)[::-1]
        found += [self.last_checkpoint] if self.last_checkpoint.is_file() else []
        return found[0] if found else None

    def eval_dir(self, records: str = "test") -> Path:
        """``eval/`` for the test split, ``eval-<records>`` for another split or a file."""
        if records == "test":
            return self.path / EVAL
        stem = Path(records.split(",")[0].strip()).stem or records
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
        return self.path / f"{EVAL}-{safe}"

    def eval_json(self, records: str = "test") -> Path:
        """``eval.json`` of :meth:`eval_dir`."""
        return self.eval_dir(records) / EVAL_JSON

    def export_dir(self, fmt: str) -> Path:
        """``export_<format>/``: where ``plait export`` writes by default."""
        return self.path / f"export_{fmt}"

    @staticmethod
    def of_checkpoint(ckpt: Path) -> RunDir | None:
        """The run dir a checkpoint file sits in (``<run>/checkpoints/x.ckpt``), or None."""
        return RunDir(ckpt.parent.parent) if ckpt.parent.name == CHECKPOINTS else None

    @property
    def data_report(self) -> Path:
        """``data_report.json``: every data step's counts and examples."""
        return self.path / DATA_REPORT

    @staticmethod
    def sweep_config(sweep_dir: str | Path) -> Path:
        """``<sweep>/multirun.yaml``: the config a sweep (``-m`` or a search) ran with."""
        return Path(sweep_dir) / SWEEP_CONFIG

    @staticmethod
    def compare_dir(stamp: str) -> Path:
        """``runs/compare/<time>``: where ``plait compare`` writes by default."""
        return Path(RUNS) / COMPARE / stamp

    @staticmethod
    def search_dir(name: str, sampler: str, digest: str) -> str:
        """``runs/<name>/search_<sampler>_<digest>``: a search's sweep folder."""
        return f"{RUNS}/{name}/search_{sampler}_{digest}"

    def confusion(self, split: str, suffix: str, metric: str = "confusion_matrix") -> Path:
        """``<metric>_<split>.<suffix>`` (``json`` or ``png``): an artifact metric's file."""
        return self.path / f"{metric}_{split}.{suffix}"

    # writers ----------------------------------------------------------------------------

    def write_config(self, cfg: Any) -> None:
        """``config.yaml``, interpolations resolved."""
        from omegaconf import OmegaConf

        _atomic_write(self.config, OmegaConf.to_yaml(cfg, resolve=True))

    def write_command(self, line: str | None = None) -> str | None:
        """``command.txt``: the command line of this run, which ``plait export`` puts in the
        card: ``line`` when given (``plait replay``), else ``plait train`` with Hydra's
        overrides (nothing outside a Hydra job). Returns the line written."""
        import shlex

        if line is None:
            try:
                from hydra.core.hydra_config import HydraConfig

                overrides = [o for o in HydraConfig.get().overrides.task if "hydra." not in o]
            except (ImportError, ValueError):
                return None
            line = " ".join(["plait", "train", *(shlex.quote(o) for o in overrides)])
        _atomic_write(self.command, line + "\n")
        return line

    def resume_command(self) -> str:
        """``plait train`` with this run's own overrides (``command.txt``) and ``resume=auto``:
        the command that continues it, runnable as printed."""
        import shlex

        try:
            line = self.command.read_text(encoding="utf-8").strip()
        except OSError:
            line = "plait train"
        kept = [w for w in shlex.split(line) if not w.startswith("resume=")]
        return " ".join(shlex.quote(w) for w in [*kept, "resume=auto"])

    def write_manifest(self, doc: dict[str, Any]) -> None:
        """``manifest.json``: what trains the run again (:mod:`framework.manifest`)."""
        self.write_json(MANIFEST, doc)

    def write_json(self, name: str, value: Any) -> Path:
        """``<name>`` as indented JSON; returns its path."""
        path = self.path / name
        _atomic_write(path, json.dumps(value, indent=2, ensure_ascii=False))
        return path

    def write_data(
        self, report: Any, tokenizer: Any, labels: list[str] | None, lineage: Any = None
    ) -> None:
        """The data stage's artifacts: ``data_report.json``, ``tokenizer.json``,
        ``labels.json`` and ``lineage.parquet`` (each when there is one; the lineage linked
        from the data cache where the file system allows, else copied)."""
        self.path.mkdir(parents=True, exist_ok=True)
        report.save(self.data_report)
        if lineage is not None and Path(lineage).is_file():
            self.lineage.unlink(missing_ok=True)
            try:
                os.link(lineage, self.lineage)
            except OSError:
                import shutil

                shutil.copyfile(lineage, self.lineage)
        if tokenizer is not None:
            tokenizer.save(self.path / TOKENIZER)
        if labels:
            self.write_json(LABELS, labels)

    def write_info(self, info: Any) -> None:
        """``data_info.json``: what the builders were given."""
        self.write_json(DATA_INFO, info.to_dict())

    def write_results(self, results: dict[str, float]) -> None:
        """``results.json``: final validation and test metrics."""
        self.write_json(RESULTS, results)

    def write_samples(self, prompts: list[str], texts: list[str]) -> None:
        """``samples.txt``: each prompt, then its continuation, separated by rules."""
        sep = "\n" + "-" * 72 + "\n"
        parts = [f"prompt: {p!r}\n\n{t}" for p, t in zip(prompts, texts)]
        _atomic_write(self.path / SAMPLES, sep.join(parts) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Any other text artifact (``augment_preview.txt``); returns its path."""
        path = self.path / name
        _atomic_write(path, text)
        return path


# finding runs ------------------------------------------------------------------------------


def recipe_dir(name: str, root: str | Path = RUNS) -> RunDir:
    """``runs/<name>``: where the data commands write and a recipe's runs live."""
    return RunDir(Path(root) / name)


def checkpoints_newest_first(
    runs_root: str | Path, exclude: str | Path | None = None
) -> list[Path]:
    """Every ``*/checkpoints/last.ckpt`` under ``runs_root`` (a recipe's folder), the newest
    first, leaving out the run ``exclude``."""
    root = Path(runs_root)
    skip = Path(exclude) if exclude is not None else None
    found = [
        p
        for p in root.glob(f"*/{CHECKPOINTS}/{LAST_CKPT}")
        if skip is None or skip not in p.parents
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


SHAPING = ("model", "task", "data.tokenizer", "data.max_length")
"""Config keys a checkpoint's weights depend on: a run resumes only when they are equal."""


def read_checkpoint(path: str | Path, mmap: bool = False) -> dict[str, Any]:
    """A Plait checkpoint read with ``weights_only=True`` (a file that would run code when
    loaded is refused); it holds a ``plait`` section (config, DataInfo, tokenizer), its
    config read as data (:func:`framework.trust.as_data`). ``mmap``: tensors stay on disk
    until read (a check that looks at shapes only)."""
    import re
    import zipfile

    import torch

    if not zipfile.is_zipfile(path):
        raise PlaitError(
            f"cannot read checkpoint {path} as weights only: it is not a checkpoint (torch "
            "writes them as zip files); give a .ckpt file Plait wrote"
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:
        text = str(exc).strip()
        code = re.search(r"GLOBAL ([\w.]+)", text)
        if code:  # a pickled object that names a callable: it would run code when loaded
            said = f"it holds a Python object ({code.group(1)}) that would run code"
        else:
            said = (text.splitlines() or [type(exc).__name__])[0][:160]
        raise PlaitError(
            f"cannot read checkpoint {path} as weights only ({said}); Plait loads no code "
            "from checkpoints: give a checkpoint Plait wrote"
        ) from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("plait"), dict):
        raise PlaitError(f"{path} is not a Plait checkpoint (no 'plait' section)")
    if not isinstance(ckpt["plait"].get("config"), dict):
        raise PlaitError(f"{path} is not a Plait checkpoint (its 'plait' section has no config)")
    from framework.trust import as_data

    ckpt["plait"]["config"] = as_data(ckpt["plait"]["config"])  # a stranger's: data only
    return ckpt


def read_payload(path: str | Path) -> dict[str, Any]:
    """The ``plait`` section of a checkpoint: its config, DataInfo and tokenizer (the
    tensors stay on disk: memory-mapped, never read)."""
    return read_checkpoint(path, mmap=True)["plait"]


def mismatch(stored: Any, cfg: Any) -> str | None:
    """Why a checkpoint trained under config ``stored`` cannot continue under ``cfg``, or
    None when the weights fit (same model, task, tokenizer and block size)."""
    from omegaconf import OmegaConf

    stored = OmegaConf.create(stored)
    for key in SHAPING:
        was = OmegaConf.select(stored, key, default=None)
        now = OmegaConf.select(cfg, key, default=None)
        was = OmegaConf.to_container(was, resolve=True) if OmegaConf.is_config(was) else was
        now = OmegaConf.to_container(now, resolve=True) if OmegaConf.is_config(now) else now
        if was != now:
            if isinstance(was, dict) and isinstance(now, dict):
                diff = sorted(k for k in {*was, *now} if was.get(k) != now.get(k))
                first = diff[0]
                return f"{key}.{first} was {was.get(first)!r}, now {now.get(first)!r}"
            return f"{key} was {was!r}, now {now!r}"
    return None


def stored_config(ckpt: Path) -> Any:
    """The config a checkpoint was trained with, as data (:func:`framework.trust.as_data`):
    its run's ``config.yaml`` when it sits in a run dir (no checkpoint is read), else the
    checkpoint's own copy."""
    from omegaconf import OmegaConf

    from framework.trust import as_data

    beside = ckpt.parent.parent / CONFIG
    if ckpt.parent.name == CHECKPOINTS and beside.is_file():
        try:
            return as_data(OmegaConf.load(beside))
        except Exception as exc:
            raise PlaitError(f"{beside} is not a readable config ({type(exc).__name__})") from None
    return read_payload(ckpt)["config"]


def check_resume_path(resume: str, cfg: Any) -> None:
    """``resume=PATH``: the file exists, reads as weights only, and fits ``cfg``."""
    if not Path(resume).is_file():
        raise PlaitError(f"resume={resume}: no such checkpoint; give a .ckpt path or resume=auto")
    why = mismatch(read_payload(resume)["config"], cfg)
    if why:
        raise PlaitError(f"resume={resume} does not fit this config: {why}")


RUN_MARKS = (CONFIG, CHECKPOINTS, ".hydra")
"""What a folder holds once ``plait train`` ran in it."""


def claim_run_dir(path: Path, key: str, timed: bool, resume: str | None) -> tuple[Path, str | None]:
    """The folder a run (or a sweep) writes into, and what to say about it: ``path`` when it
    is new or empty; the same folder when ``resume`` continues the run it holds (``auto``,
    or a checkpoint inside it); beside it (``path_1``) when ``timed`` (a name from the
    clock, taken by a run started in the same second). Anything else is refused: no file a
    user or an earlier run made there is replaced."""
    held = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
    if not held:
        return path, None
    own_last = path / CHECKPOINTS / LAST_CKPT
    if resume == "auto" and own_last.is_file():
        return path, f"continuing the run in {path} from {own_last} (resume=auto)"
    if resume and resume != "auto" and path.resolve() in Path(resume).resolve().parents:
        return path, f"continuing the run in {path} from {resume}"
    if timed:
        n = 1
        while path.with_name(f"{path.name}_{n}").exists():
            n += 1
        beside = path.with_name(f"{path.name}_{n}")
        return beside, f"{path} already holds a run; this one writes beside it, to {beside}"
    shown = ", ".join(held[:4]) + (f" and {len(held) - 4} more" if len(held) > 4 else "")
    run = any(name in held for name in RUN_MARKS)
    way_on = (", or resume=auto to continue that run there" if own_last.is_file()
              else "")  # fmt: skip
    raise PlaitError(
        f"{key}={path} already holds {'a run' if run else 'files'} ({shown}); a run replaces "
        f"none of them: give a new {key}{way_on}"
    )


def find_resume(resume: str | None, run: RunDir, cfg: Any) -> str | None:
    """The checkpoint ``resume`` names: None, a path (checked when the config was composed,
    :func:`check_resume_path`), or ``auto``: this run dir's own ``last.ckpt`` (a run
    continued in place), else the newest ``last.ckpt`` of another run of the same recipe
    whose model, task and tokenizer fit ``cfg``, found before any data work."""
    if not resume:
        return None
    if resume != "auto":
        return resume
    if run.last_checkpoint.is_file():
        why = mismatch(stored_config(run.last_checkpoint), cfg)
        if why:
            raise PlaitError(f"resume=auto: the run in {run.path} does not fit this config: {why}")
        return str(run.last_checkpoint)
    found = checkpoints_newest_first(run.path.parent, run.path)
    if not found:
        raise PlaitError(
            f"resume=auto found no checkpoint under {run.path.parent}/*/{CHECKPOINTS}/; "
            "train once first, or give resume=PATH"
        )
    reasons = []
    for path in found:
        why = mismatch(stored_config(path), cfg)
        if why is None:
            return str(path)
        reasons.append((path, why))
    path, why = reasons[0]
    raise PlaitError(
        f"resume=auto: no run under {run.path.parent} fits this config; the newest, "
        f"{path.parent.parent.name}, differs: {why}; train without resume, or give "
        "resume=PATH of a checkpoint of this model"
    )


def metrics_of(run_dir: str | Path) -> Path:
    """``metrics.csv`` of an existing run dir (``plait plot``), or a clear error."""
    run = RunDir(run_dir)
    if not run.metrics.is_file():
        raise PlaitError(
            f"plot: no {METRICS} in '{run_dir}'; give a run dir such as {RUNS}/NAME/<time>"
        )
    return run.metrics
