"""``plait replay RUN``: a run's manifest as a primary config to train again from (no recipe
file), and every difference from when it trained, with whether the numbers can repeat
exactly. The command (``framework.cli.replay``) trains it."""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from framework.errors import PlaitError
from framework.manifest import Comparison
from framework.rundir import RUNS, RunDir

PRIMARY = "replay"
"""Name of the primary config a replay composes from (the manifest's config)."""


@dataclass
class Plan:
    """What a replay will train, and what differs from the original."""

    source: RunDir
    """The run replayed."""
    manifest: dict[str, Any]
    """Its manifest, read as data."""
    overrides: list[str]
    """The overrides given to the replay, applied to the manifest's config."""
    comparison: Comparison
    """What differs between then and now."""
    run_dir: Path
    """Where the replay trains."""
    out_given: bool = False
    """Whether ``out=`` chose ``run_dir`` (the command then names it, so that ``resume=auto``
    continues there)."""

    def provenance(self) -> dict[str, Any]:
        """What the replay's manifest says of where it came from: the run replayed, and the
        overrides of the recipe that make the replay (the original's, then the replay's,
        a later value of a key replacing an earlier one)."""
        hydra = dict(self.manifest.get("hydra") or {})
        merged: dict[str, str] = {}
        for item in [*hydra.get("overrides", []), *self.overrides]:
            merged[item.partition("=")[0].lstrip("+~")] = item
        hydra["overrides"] = list(merged.values())
        return {"replay_of": {"run": str(self.source.path.resolve()),
                              "overrides": list(self.overrides)},
                "hydra": hydra}  # fmt: skip

    @property
    def command(self) -> str:
        """The command line that runs this replay again."""
        out = [f"out={self.run_dir}"] if self.out_given else []
        words = ["plait", "replay", str(self.source.path), *self.overrides, *out]
        return " ".join(shlex.quote(w) for w in words)


def primary_config(manifest: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The manifest's resolved config as a primary config Hydra composes (the schema first,
    so its types are checked): a single run (a search's trial replays alone), from scratch
    (no ``resume``), trusting no ``_target_`` unless the replay's own overrides say so."""
    config = dict(manifest["config"])
    config["resume"] = None
    config["allow_targets"] = False
    config["search"] = {**(config.get("search") or {}), "sampler": "none"}
    hydra = {"run": {"dir": str(run_dir)}, "job": {"chdir": False}, "output_subdir": ".hydra"}
    return {"defaults": ["plait_schema", "_self_"], **config, "hydra": hydra}


@contextmanager
def primary_folder(manifest: dict[str, Any], run_dir: Path) -> Iterator[str]:
    """A temporary config folder holding :func:`primary_config` as ``replay.yaml``."""
    import yaml

    with tempfile.TemporaryDirectory(prefix="plait-replay-") as folder:
        (Path(folder) / f"{PRIMARY}.yaml").write_text(
            yaml.safe_dump(primary_config(manifest, run_dir), sort_keys=False), encoding="utf-8"
        )
        yield folder


def plan(run: str | Path, overrides: Sequence[str], out: str | None = None) -> Plan:
    """Read ``run``'s manifest, compose its config with ``overrides`` (checked as ``plait
    train`` checks them, before any data work) and compare what it read and ran on with this
    machine now. A data file the run read that is gone stops here, named."""
    from framework import manifest as M
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.data.stage import DataStage
    from framework.registry import default_registry

    source = RunDir(run)
    doc = M.read(source)
    name = str(doc["config"].get("name", "plait"))
    run_dir = Path(out) if out else Path(RUNS) / name / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    registry = default_registry()
    with primary_folder(doc, run_dir) as folder:
        checked = validate(compose(registry, list(overrides), PRIMARY, folder), registry)
    data_overridden = any(o.lstrip("+~").startswith("data") for o in overrides)
    recorded = (doc.get("data") or {}).get("files", [])
    gone = [f["path"] for f in recorded if not Path(f["path"]).is_file()]
    if gone and not data_overridden:
        more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
        raise PlaitError(
            f"replay: {gone[0]}{more}, which the run read, is gone; put it back, or replay on "
            "other data with data.source.paths=[FILE]"
        )
    stage = DataStage(checked.cfg.data, checked.task, registry, checked.cfg.seed)
    now = M.here(
        (doc.get("hardware") or {}).get("accelerator", "cpu"),
        M.data_files(stage.declared_files()),
    )
    return Plan(source, doc, list(overrides), M.compare(doc, now), run_dir, bool(out))


def describe(p: Plan) -> list[str]:
    """What the replay will do, one line each: the differences found, then the verdict."""
    lines = [f"replay of {p.source.path} into {p.run_dir}"]
    if p.overrides:
        lines.append(f"  overrides: {' '.join(p.overrides)}")
    for d in p.comparison.differences:
        what = f"{d.area} {d.what}" if d.area != d.what else d.area
        lines.append(f"  differs: {what}: {_shown(d.then)} then, {_shown(d.now)} now")
    if not p.comparison.differences:
        lines.append("  no difference in Plait, Python, packages, data files or hardware")
    if p.overrides:
        lines.append("  the overrides change the run, so its numbers are expected to differ")
    else:
        lines.append(f"  {p.comparison.verdict()}")
    return lines


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
