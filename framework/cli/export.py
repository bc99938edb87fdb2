"""``plait export run=DIR [format=hf|safetensors] [out=DIR] [ckpt=PATH]``: a trained run's
model as a folder that loads without Plait, with a model card."""

from __future__ import annotations

from pathlib import Path

OPTIONS = {
    "run": (str, None),
    "ckpt": (str, None),
    "format": (str, "hf"),
    "out": (str, None),
}
"""``plait export`` options."""
EXAMPLE = "run=runs/stdlib_gpt/<time> format=hf out=export/"


def export_command(items: list[str]) -> int:
    """Run ``plait export``; returns the exit status."""
    ckpt, fmt, out = export_items(items)
    files = ", ".join(sorted(p.name for p in out.iterdir()))
    print(f"exported {ckpt} as {fmt} to {out}: {files}")
    return 0


def export_items(items: list[str]) -> tuple[Path, str, Path]:
    """``plait export ITEMS`` without printing (``framework.api.export``): the checkpoint
    exported, the format and the folder written."""
    from framework.cli.options import parse_options
    from framework.errors import PlaitError
    from framework.export.write import FORMATS, export_run

    opts, _ = parse_options(items, OPTIONS, EXAMPLE)
    if opts["format"] not in FORMATS:
        raise PlaitError(f"format={opts['format']}: use one of {', '.join(FORMATS)}")
    if not opts["run"]:
        raise PlaitError(f"missing run=DIR (a run plait train wrote); e.g. {EXAMPLE}")
    from framework.evaluate.loading import checkpoint_of
    from framework.rundir import RunDir

    run = Path(opts["run"])
    ckpt = Path(opts["ckpt"]) if opts["ckpt"] else checkpoint_of(opts["run"])
    out = Path(opts["out"]) if opts["out"] else RunDir(run).export_dir(opts["format"])
    export_run(run, ckpt, opts["format"], out)
    return ckpt, opts["format"], out
