"""``plait export run=DIR [format=hf|safetensors] [out=DIR] [ckpt=PATH]``: a trained run's
model as a folder that loads without Plait, with a model card."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.cli.command_config import (
    CommandSpec,
    HydraFlags,
    compose_command,
    compose_one,
    option,
)
from framework.outputs import MARK


@dataclass
class ExportCommand:
    """``plait export`` options."""

    run: str | None = option(None, "the run dir plait train wrote (runs/NAME/<time>)")
    ckpt: str | None = option(None, "a checkpoint to export instead of the run's best")
    format: str = option(
        "hf", "hf (transformers' classes), safetensors, peft (the adapters) or onnx"
    )
    out: str | None = option(None, "the folder to write; null: the run's export_<format>/")
    overwrite: bool = option(False, "write into an out= folder holding files Plait did not write")


SPEC = CommandSpec("export", ExportCommand, "run=runs/stdlib_gpt/<time> format=hf out=export/")
"""How ``plait export`` reads its command line."""
EXAMPLE = SPEC.example


def export_command(items: list[str], flags: HydraFlags = HydraFlags()) -> int:
    """Run ``plait export`` (once per combination with ``--multirun``); returns the exit
    status."""
    for opts, _ in compose_command(SPEC, items, flags) or []:
        ckpt, fmt, out = export_options(opts)
        files = ", ".join(sorted(p.name for p in out.iterdir() if p.name != MARK))
        print(f"exported {ckpt} as {fmt} to {out}: {files}")
    return 0


def export_items(items: list[str]) -> tuple[Path, str, Path]:
    """``plait export ITEMS`` without printing (``framework.api.export``): the checkpoint
    exported, the format and the folder written."""
    return export_options(compose_one(SPEC, items)[0])


def export_options(opts: Any) -> tuple[Path, str, Path]:
    """Export with composed options."""
    from framework.errors import PlaitError
    from framework.export.write import FORMATS, write_export

    if opts.format not in FORMATS:
        raise PlaitError(f"format={opts.format}: use one of {', '.join(FORMATS)}")
    if not opts.run:
        raise PlaitError(f"missing run=DIR (a run plait train wrote); e.g. {EXAMPLE}")
    from framework.evaluate.loading import checkpoint_of
    from framework.outputs import output_folder
    from framework.rundir import RunDir

    run = Path(opts.run)
    ckpt = Path(opts.ckpt) if opts.ckpt else checkpoint_of(opts.run)
    if opts.out:
        output = output_folder(opts.out, "out", opts.overwrite)
    else:
        output = output_folder(RunDir(run).export_dir(opts.format), "out", False, default=True)
    from framework.models.restore import load_trained

    write_export(load_trained(ckpt), opts.format, output.path, run)
    output.seal("plait export")
    return ckpt, opts.format, output.path
