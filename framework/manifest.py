"""A run's manifest (``manifest.json``): what is needed to train the run again and to tell what
differs since: the resolved config, Hydra's overrides and primary config, the command, Plait's
and every installed package's version, the data (each source file's size and SHA-256, and the
data stage's fingerprint), the seed, the hardware, precision and threads, and the recipe's git
revision when it lives in a repository.

RunDir writes and finds it; this module says what is in it and compares it with now."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framework.rundir import RunDir

FORMAT = 1
"""Version of the manifest's layout; a manifest of a higher one is refused, not misread."""

CPU_FLAGS = (
    "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
    "avx512_fp16", "amx_bf16", "amx_tile", "amx_int8", "neon", "asimd", "sve",
)  # fmt: skip
"""The CPU features whose presence changes which kernels torch runs (and so its sums)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files(declared: list[str]) -> list[dict[str, Any]]:
    """Each file the source declared (folders walked, globs expanded): its path, size and
    SHA-256."""
    from framework.data.cache import source_files

    return [{"path": path, "size": size, "sha256": _sha256(Path(path))}
            for path, size, _mtime in source_files(declared)]  # fmt: skip


def _name_and_version(metadata: str) -> tuple[str, str]:
    """``Name`` and ``Version`` from a core-metadata file's header (the lines before the
    first blank one); empty where absent."""
    name = version = ""
    for line in metadata.splitlines():
        if not line:
            break
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    return name, version


def install_paths() -> list[str]:
    """``sys.path`` less the entries inside a ``site-packages`` (or ``dist-packages``) entry:
    those are a package's own vendored folder, put there when it is imported (Ray's
    ``thirdparty_files``), not an installation; listing them would make the package list
    depend on what the process happened to import."""
    entries = [os.path.abspath(p or os.curdir) for p in sys.path]
    sites = [e for e in entries if os.path.basename(e) in ("site-packages", "dist-packages")]
    return [e for e in entries if not any(e.startswith(s + os.sep) for s in sites)]


def packages() -> dict[str, str]:
    """Every installed distribution's version, by its normalized name (on
    :func:`install_paths`). Only each metadata file's two header lines are read:
    ``Distribution.metadata`` parses the whole file as an e-mail, 13x slower over a venv's
    200 distributions (0.28 s against 0.02 s here)."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions(path=install_paths()):
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        name, version = _name_and_version(text)
        name = name.lower().replace("_", "-")
        if name and name not in found:
            found[name] = version
    return dict(sorted(found.items()))


def cpu_flags() -> list[str]:
    """The features of :data:`CPU_FLAGS` this CPU has (``/proc/cpuinfo``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [f for f in CPU_FLAGS if f in have]
    except OSError:
        pass
    return []


def hardware_facts(accelerator: str) -> dict[str, Any]:
    """The machine as it shapes a run's numbers: CPU model, features and the kernels torch
    picked, the GPUs, and the accelerator the run used."""
    import torch

    from framework.machine import cpu_name

    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        capability = None
    gpus = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if torch.cuda.is_available() else [])  # fmt: skip
    return {
        "accelerator": accelerator,
        "cpu": cpu_name(),
        "cpu_flags": cpu_flags(),
        "cpu_kernels": capability,
        "gpus": gpus,
        "cuda": torch.version.cuda,
        "platform": platform.platform(),
    }


def git_revision(path: Path) -> dict[str, Any] | None:
    """The commit of the repository holding ``path`` and whether the file differs from it
    (None outside a repository, or without git)."""
    folder = path.parent if path.is_file() else path
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)  # fmt: skip
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--", str(path)],
                               capture_output=True, text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    modified = bool(dirty.stdout.strip())
    return {"commit": head.stdout.strip(), "file": str(path), "modified": modified}


def hydra_facts() -> dict[str, Any]:
    """The job's overrides, the option chosen in each config group, its primary config and
    config sources, and the recipe's file (empty outside a Hydra job)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
    except (ImportError, ValueError):
        return {}
    from omegaconf import OmegaConf

    sources = [dict(s) for s in hc.runtime.config_sources]
    choices = OmegaConf.to_container(hc.runtime.choices)
    recipe = hc.runtime.choices.get("recipe")
    found = _recipe_file(recipe, sources) if recipe else None
    return {
        "overrides": list(hc.overrides.task),
        "choices": {k: v for k, v in choices.items() if not k.startswith("hydra/")},
        "config_name": hc.job.config_name,
        "config_sources": [f"{s['schema']}://{s['path']}" for s in sources],
        "recipe": recipe,
        "recipe_file": str(found) if found else None,
        "recipe_git": git_revision(found) if found else None,
    }


def _recipe_file(recipe: str, sources: list[dict[str, Any]]) -> Path | None:
    """The file ``recipe/<recipe>.yaml`` was read from: the first config source holding it."""
    from importlib.resources import files

    for source in sources:
        if source["schema"] == "file":
            root = Path(source["path"])
        elif source["schema"] == "pkg":
            try:
                root = Path(str(files(source["path"])))
            except (ModuleNotFoundError, TypeError):
                continue
        else:
            continue
        candidate = root / "recipe" / f"{recipe}.yaml"
        if candidate.is_file():
            return candidate.resolve()
    return None


def plait_version() -> str:
    """The installed Plait's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("plait")
    except PackageNotFoundError:
        return "source"


def build(
    cfg: Any,
    accelerator: str,
    precision: str,
    data: dict[str, Any],
    command: str | None,
) -> dict[str, Any]:
    """The manifest of the run ``cfg`` describes (resolved), trained on ``accelerator`` in
    ``precision``; ``data``: the data stage's fingerprint and source files (:func:`data_files`);
    ``command``: the command line that started it."""
    import torch
    from omegaconf import OmegaConf

    return {
        "format": FORMAT,
        **here(accelerator, data.get("files", [])),
        "command": command,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "hydra": hydra_facts(),
        "seed": cfg.seed,
        "precision": precision,
        "threads": torch.get_num_threads(),
        "deterministic": bool(cfg.trainer.get("deterministic", False)),
        "data": data,
    }


ENV_KEYS = ("ATEN_CPU_CAPABILITY", "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "PYTHONHASHSEED")  # fmt: skip
"""Environment variables that change a run's numbers, recorded when set."""


@dataclass
class Difference:
    """One thing that is not as it was when the run trained."""

    area: str
    """``plait``, ``package``, ``data``, ``hardware``, ``python`` or ``environment``."""
    what: str
    """The package, file or setting."""
    then: Any
    """As the manifest records it."""
    now: Any
    """As it is here now (None: gone)."""
    changes_numbers: bool = True
    """Whether it can change the run's numbers (a different CPU name with the same kernels
    cannot)."""


@dataclass
class Comparison:
    """What differs between a manifest and this machine now."""

    differences: list[Difference] = field(default_factory=list)
    """Everything that differs, in the order: Plait, Python, packages, data, hardware."""
    accelerator: str = "cpu"
    """What the run trained on."""

    @property
    def bit_identical(self) -> bool:
        """Whether a replay can give exactly the original numbers: a CPU run with nothing
        changed that changes numbers."""
        return self.accelerator == "cpu" and not any(d.changes_numbers for d in self.differences)

    def verdict(self) -> str:
        """One line: whether the result can be bit-identical, and why not."""
        if self.bit_identical:
            return ("nothing that changes the numbers differs: the replay should give exactly "
                    "the original's metrics")  # fmt: skip
        why = [d.area for d in self.differences if d.changes_numbers]
        areas = ", ".join(dict.fromkeys(why))
        if self.accelerator != "cpu":
            gpu = "it trained on a GPU, whose kernels may not repeat bit for bit"
            return f"the replay can differ: {gpu}" + (f"; and {areas} differ" if areas else "")
        return f"the replay can differ from the original: {areas} differ"


def compare(manifest: dict[str, Any], now: dict[str, Any]) -> Comparison:
    """What differs between ``manifest`` and ``now`` (a manifest of the same shape, for this
    machine or another run)."""
    out = Comparison(accelerator=(manifest.get("hardware") or {}).get("accelerator", "cpu"))
    add = out.differences.append
    if manifest.get("plait") != now.get("plait"):
        add(Difference("plait", "plait", manifest.get("plait"), now.get("plait")))
    if manifest.get("python") != now.get("python"):
        add(Difference("python", "python", manifest.get("python"), now.get("python")))
    then_p, now_p = manifest.get("packages") or {}, now.get("packages") or {}
    for name in sorted({*then_p, *now_p} - {"plait"}):
        if then_p.get(name) != now_p.get(name):
            add(Difference("package", name, then_p.get(name), now_p.get(name)))
    then_f = {f["path"]: f for f in (manifest.get("data") or {}).get("files", [])}
    now_f = {f["path"]: f for f in (now.get("data") or {}).get("files", [])}
    for path in sorted({*then_f, *now_f}):
        a, b = then_f.get(path), now_f.get(path)
        if a is None or b is None or a["sha256"] != b["sha256"]:
            add(Difference("data", path, _file(a), _file(b)))
    then_h, now_h = manifest.get("hardware") or {}, now.get("hardware") or {}
    for key in ("accelerator", "cpu_kernels", "cpu_flags", "gpus", "cuda", "cpu"):
        if then_h.get(key) != now_h.get(key):
            add(Difference("hardware", key, then_h.get(key), now_h.get(key),
                           changes_numbers=key != "cpu"))  # fmt: skip
    then_e, now_e = manifest.get("environment") or {}, now.get("environment") or {}
    for key in sorted({*then_e, *now_e}):
        if then_e.get(key) != now_e.get(key):
            add(Difference("environment", key, then_e.get(key), now_e.get(key)))
    return out


def _file(entry: dict[str, Any] | None) -> str | None:
    if entry is None:
        return None
    return f"{entry['size']:,} bytes, sha256 {entry['sha256'][:12]}"


def here(accelerator: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """This machine now, in a manifest's shape (for :func:`compare`): Plait, Python, the
    packages, ``files`` (:func:`data_files`), the hardware and the environment."""
    return {
        "plait": plait_version(),
        "python": sys.version.split()[0],
        "packages": packages(),
        "data": {"files": files},
        "hardware": hardware_facts(accelerator),
        "environment": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
    }


def read(run: RunDir) -> dict[str, Any]:
    """``run``'s ``manifest.json``, read as data; a clear error when the folder is not a run,
    the run has none, or a newer Plait wrote it."""
    from framework.errors import PlaitError
    from framework.rundir import RUNS
    from framework.trust import as_data

    if not run.path.is_dir():
        raise PlaitError(f"{run.path}: no such folder; give a run dir such as {RUNS}/NAME/<time>")
    if not run.manifest.is_file():
        if not run.config.is_file():
            raise PlaitError(
                f"{run.path} is not a run dir (no {run.manifest.name} or {run.config.name}); "
                f"give a folder plait train wrote, such as {RUNS}/NAME/<time>"
            )
        raise PlaitError(
            f"{run.path} has no {run.manifest.name} (a Plait without manifests trained it); "
            f"train it again with the command in {run.command}"
        )
    try:
        doc = json.loads(run.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlaitError(f"{run.manifest} is not readable JSON ({type(exc).__name__}); it was "
                         "damaged after the run wrote it") from None  # fmt: skip
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise PlaitError(f"{run.manifest} holds no run config; it is not a Plait manifest")
    if not isinstance(doc.get("format"), int) or doc["format"] > FORMAT:
        raise PlaitError(
            f"{run.manifest} has format {doc.get('format')!r}, newer than this Plait reads "
            f"({FORMAT}): upgrade Plait (pip install -U plait)"
        )
    doc["config"] = as_data(doc["config"])  # a stranger's: data only
    return doc


def update(run: RunDir, changes: dict[str, Any]) -> None:
    """Set top-level keys of ``run``'s own ``manifest.json`` (nothing without one)."""
    if run.manifest.is_file():
        doc = json.loads(run.manifest.read_text(encoding="utf-8"))
        run.write_manifest({**doc, **changes})
