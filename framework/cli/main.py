"""``plait``: train, show, doctor, data, eda, eval, predict, compare, replay, diff, sweep-report,
list, generate, plot, augment-preview; heavy libraries imported on use."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from framework import collector
from framework.errors import PlaitError, explain, fail

USAGE = """\
examples:
  train      train a recipe:      plait train recipe=stdlib_gpt trainer.max_steps=200
             sweep with -m:       plait train -m optimizer.lr=1e-3,3e-4
             search:              plait train recipe=tweets_textcnn search=random
  sweep-report
             a sweep's trials, best command, importances, plots:
             plait sweep-report runs/NAME/search_random_<hash>
  show       composed config and parameter count, without training
  doctor     this machine and what a recipe needs: plait doctor recipe=tweets_minilm [--json]
  data       the data stage alone, with its report: plait data recipe=tweets_sentiment
             what it did to one record: plait data recipe=tweets_sentiment --why 1234
  list       registered components: plait list [KIND] [--provider NAME]
  new-plugin a plugin package to start from: plait new-plugin acme --kinds model,metric
  generate   sample from a checkpoint: plait generate ckpt=PATH prompt="def "
  plot       redraw a run's curves.png from its metrics.csv: plait plot runs/NAME/<time>
  eda        statistics, charts, imbalance and leakage of the data stage (runs/NAME/eda/):
             plait eda recipe=tweets_sentiment
  eval       evaluate a run (test split, any split, or new data) into runs/.../eval/:
             plait eval run=runs/tweets_sentiment/<time>
  predict    labels for new records: plait predict run=DIR input=new.csv
  export     a run's model for transformers, with a model card:
             plait export run=runs/stdlib_gpt/<time> format=hf out=export/
  compare    runs side by side: plait compare runs/a/<time> runs/b/<time>
  replay     train a run again from its manifest: plait replay runs/NAME/<time>
  diff       what differs between two runs: plait diff runs/a/<time> runs/b/<time>
  augment-preview
             what augmentation does to n training examples (PNG grid, text table):
             plait augment-preview recipe=fashion_mnist_2k_basic n=16

Full tracebacks: --verbose or HYDRA_FULL_ERROR=1.
"""


OVERRIDES: dict[str, Any] = {"nargs": argparse.REMAINDER, "help": "Hydra overrides key=value"}


@dataclass(frozen=True)
class Command:
    """One subcommand: its help, the arguments it takes and the function that runs it."""

    help: str
    """One line in ``plait --help``."""
    run: str
    """``module:function`` called with the parsed arguments (imported on use)."""
    args: tuple[tuple[str, dict[str, Any]], ...] = (("overrides", OVERRIDES),)
    """argparse arguments: (name or flag, keyword arguments)."""
    call: Callable[[argparse.Namespace], tuple[Any, ...]] = lambda a: (
        _split_flags(a.overrides)[1],
    )
    """The function's arguments from the parsed namespace."""
    gc_paused: bool = False
    """Whether the command starts with Python's garbage collector paused, until its work
    grows with the data (:mod:`framework.collector`)."""


ESTIMATE: tuple[str, dict[str, Any]] = (
    "--estimate",
    {"action": "store_true",
     "help": "time a short trial of the recipe here and predict the whole run's time"},
)  # fmt: skip

HYDRA_FLAGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("-m", {"dest": "multirun", "action": "store_true", "help": "Hydra multirun (sweeps)"}),
    ("--multirun", {"dest": "multirun", "action": "store_true", "help": "the same as -m"}),
    ("--cfg", {"choices": ("job", "hydra", "all"),
               "help": "print the composed config (Hydra's --cfg) instead of running"}),
    ("--info", {"nargs": "?", "const": "all", "default": None,
                "choices": ("all", "config", "defaults", "defaults-tree", "plugins",
                            "searchpath"),
                "help": "print Hydra's information about this app and exit"}),
    ("--resolve", {"action": "store_true", "help": "with --cfg: resolve interpolations"}),
    ("--config-dir", {"dest": "config_dir", "help": "a folder of your own configs to search"}),
    ("--config-name", {"dest": "config_name",
                       "help": "the primary config to start from (a YAML in --config-dir)"}),
)  # fmt: skip
"""Hydra's own flags, which every command that composes a config takes."""

COMPOSED = {
    "generate": ("framework.cli.generate", "generate", "sample text from a checkpoint"),
    "eval": ("framework.cli.evaluate", "evaluate_command",
             "evaluate a trained run: metrics with intervals, error analysis, HTML report"),
    "predict": ("framework.cli.predict", "predict_command",
                "predictions for new records (CSV, JSONL, text lines)"),
    "export": ("framework.cli.export", "export_command",
               "a trained run's model as a Hugging Face or safetensors folder with a model card"),
    "compare": ("framework.cli.compare", "compare_command",
                "runs side by side: metrics with intervals, paired bootstrap, curves overlaid"),
    "replay": ("framework.cli.replay", "replay_command",
               "train a run again from its manifest alone, naming what differs first"),
    "diff": ("framework.cli.diff", "diff_command",
             "what differs between two runs: config, data, environment, results, paired test"),
}  # fmt: skip
"""The commands whose options are a schema composed by Hydra: module, function, help line.
Each module defines ``SPEC`` (a ``CommandSpec``)."""


def _composed_command(name: str) -> Command:
    module, function, help = COMPOSED[name]
    return Command(
        help,
        f"{module}:{function}",
        (*HYDRA_FLAGS, ("options", {"nargs": argparse.REMAINDER, "help": "key=value options"})),
        _command_args,
        gc_paused=True,
    )


def _command_args(args: argparse.Namespace) -> tuple[list[str], Any]:
    """The options and Hydra's flags of a composed command; a flag may also come after the
    first option (``plait eval run=R --cfg job``)."""
    from framework.cli.command_config import HydraFlags

    f, items = _late_flags(args, args.options)
    flags = HydraFlags(f.cfg, f.info, f.resolve, f.config_dir, f.config_name, f.multirun)
    return [i for i in items if i != "--verbose"], flags


COMMANDS: dict[str, Command] = {
    "train": Command(
        "train a recipe (with -m, sweep it)",
        "framework.cli.train:train",
        (*HYDRA_FLAGS,
         ("--package", {"help": "with --cfg: the config package to print"}),
         ("overrides", OVERRIDES)),
        lambda a: _train_args(a),
        gc_paused=True,
    ),
    "show": Command(
        "composed config and parameter counts (--estimate: time a trial, predict the run)",
        "framework.cli.show:show",
        (ESTIMATE, ("overrides", OVERRIDES)),
        lambda a: (_without(a.overrides, "--estimate"), a.estimate or "--estimate" in a.overrides),
        gc_paused=True,
    ),
    "doctor": Command(
        "this machine's CPU, memory and GPUs, a recipe's memory needs, and the settings to use",
        "framework.cli.doctor:doctor",
        (("--json", {"action": "store_true", "help": "print a JSON object"}), ESTIMATE,
         ("overrides", OVERRIDES)),
        lambda a: (_without(a.overrides, "--json", "--estimate"),
                   a.json or "--json" in a.overrides,
                   a.estimate or "--estimate" in a.overrides),
        gc_paused=True,
    ),
    "data": Command(
        "run the data stage alone and print its report (--why: what it did to one record)",
        "framework.cli.data:data",
        (("--why", {"help": "a record number or a text: every step's effect on it"}),
         ("overrides", OVERRIDES)),
        lambda a: _why(a),
    ),
    "list": Command(
        "registered components",
        "framework.cli.listing:list_components",
        (("kind", {"nargs": "?", "help": "one kind, such as model"}),
         ("--markdown", {"action": "store_true", "help": "print the Markdown config reference"}),
         ("--provider", {"help": "only the components of this provider (plait, a plugin)"})),
        lambda a: (a.kind, a.markdown, a.provider),
        gc_paused=True,
    ),
    "new-plugin": Command(
        "write a working plugin package to start from",
        "framework.cli.new_plugin:new_plugin",
        (("name", {"help": "the plugin's name (lower_snake_case or kebab-case)"}),
         ("--kinds", {"default": "model", "help": "comma-separated kinds: model,metric,..."}),
         ("--out", {"default": ".", "help": "folder to write plait-NAME/ into"})),
        lambda a: (a.name, a.kinds, a.out),
    ),
    "generate": _composed_command("generate"),
    "plot": Command(
        "redraw a run's curves.png from metrics.csv",
        "framework.cli.plot:plot",
        (("run_dir", {"help": "the run dir, runs/NAME/<time>"}),),
        lambda a: (a.run_dir,),
    ),
    "eda": Command("exploratory analysis of the data stage", "framework.cli.eda:eda"),
    "eval": _composed_command("eval"),
    "predict": _composed_command("predict"),
    "export": _composed_command("export"),
    "compare": _composed_command("compare"),
    "replay": _composed_command("replay"),
    "diff": _composed_command("diff"),
    "sweep-report": Command(
        "a sweep's trials sorted by objective, best command line, importances, plots",
        "framework.cli.sweep_report:sweep_report",
        (("sweep_dir", {"help": "the sweep folder, runs/NAME/search_... or multirun_..."}),),
        lambda a: (a.sweep_dir,),
    ),
    "augment-preview": Command(
        "originals next to augmented training examples",
        "framework.cli.preview:augment_preview",
        (("overrides", {"nargs": argparse.REMAINDER, "help": "n=16 out=DIR and overrides"}),),
    ),
}  # fmt: skip
"""Every subcommand, in the order ``plait --help`` lists them."""


def _train_args(
    args: argparse.Namespace,
) -> tuple[list[str], bool, bool, list[str], str, str | None]:
    """``plait train``'s overrides, multirun, verbosity, Hydra's printing flags, and its
    ``--config-name`` and ``--config-dir`` (a flag may come after the first override)."""
    from pathlib import Path

    from framework.config.compose import CONFIG_NAME

    found, items = _late_flags(args, args.overrides, (("--package", {}),))
    multirun, overrides = _split_flags(items)
    hydra_flags = [*(["--cfg", found.cfg] if found.cfg else []),
                   *(["--info", found.info] if found.info else []),
                   *(["--resolve"] if found.resolve else []),
                   *(["--package", found.package] if found.package else [])]  # fmt: skip
    if found.config_dir and not Path(found.config_dir).is_dir():
        raise PlaitError(f"--config-dir {found.config_dir}: no such folder")
    if found.config_name and not found.config_dir:
        raise PlaitError(f"--config-name {found.config_name} needs --config-dir DIR, the "
                         "folder holding it")  # fmt: skip
    return (overrides, multirun or found.multirun, _verbose(args), hydra_flags,
            found.config_name or CONFIG_NAME, found.config_dir)  # fmt: skip


def _late_flags(
    args: argparse.Namespace,
    items: Sequence[str],
    extra: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> tuple[argparse.Namespace, list[str]]:
    """Hydra's flags given before the first override (in ``args``) or after it (in
    ``items``), and the items that are not flags."""
    later = argparse.ArgumentParser(add_help=False)
    for flag, kwargs in (*HYDRA_FLAGS, *extra):
        later.add_argument(flag, **kwargs)
    found, rest = later.parse_known_args(list(items))
    for key, value in vars(found).items():
        setattr(found, key, getattr(args, key, None) or value)
    return found, rest


def _verbose(args: argparse.Namespace) -> bool:
    rest = (getattr(args, "overrides", None) or getattr(args, "options", None)
            or getattr(args, "runs", None) or [])  # fmt: skip
    return args.verbose or "--verbose" in rest or os.environ.get("HYDRA_FULL_ERROR") == "1"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="plait",
        description="Train language models from declarative Hydra recipes.",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--verbose", action="store_true", help="show full tracebacks")
    p.add_argument("--version", action="version", version=f"plait {_version()}",
                   help="print Plait's version and exit")  # fmt: skip
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    for name, command in COMMANDS.items():
        cmd = sub.add_parser(name, help=command.help, description=command.help,
                             formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        cmd.options_of = name
        for flag, kwargs in command.args:
            cmd.add_argument(flag, **kwargs)
    return p


class _CommandParser(argparse.ArgumentParser):
    """A command's parser whose epilog (its options, from the command's schema) is made only
    when its help is printed: making every command's imports each command's module, 0.13 s
    of every start."""

    options_of: str | None = None

    def format_help(self) -> str:
        if self.epilog is None and self.options_of is not None:
            self.epilog = _options_help(self.options_of)
        return super().format_help()


def _options_help(name: str) -> str | None:
    """A composed command's options from its schema, for ``plait NAME --help``."""
    if name not in COMPOSED:
        return None
    from framework.cli.command_config import help_text

    return help_text(importlib.import_module(COMPOSED[name][0]).SPEC)


def _version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("plait")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plait`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    verbose = _verbose(args)
    command = COMMANDS[args.command]
    module, _, function = command.run.partition(":")
    if command.gc_paused:
        collector.pause(own_process=argv is None)  # argv given: called by another program
    try:
        run = getattr(importlib.import_module(module), function)
        return run(*command.call(args))
    except PlaitError as exc:
        if verbose:
            raise
        return fail(explain(exc) or exc)
    except Exception as exc:
        said = None if verbose else explain(exc)
        if said is None:
            raise
        return fail(said)
    finally:
        collector.resume()


def _why(args: argparse.Namespace) -> tuple[list[str], str | None]:
    """``plait data``'s overrides and its ``--why`` value, given before or after them."""
    items = _split_flags(args.overrides)[1]
    why = args.why
    for i, item in enumerate(items):
        if item == "--why" and i + 1 < len(items):
            return [*items[:i], *items[i + 2 :]], items[i + 1]
        if item.startswith("--why="):
            return [*items[:i], *items[i + 1 :]], item.split("=", 1)[1]
    if "--why" in items:
        raise PlaitError("--why needs a value: a record number or a text")
    return items, why


def _without(items: Sequence[str], *flags: str) -> list[str]:
    """The overrides, without ``flags`` (which may come after the first override)."""
    return [o for o in _split_flags(items)[1] if o not in flags]


def _split_flags(items: Sequence[str]) -> tuple[bool, list[str]]:
    """Pull ``-m``/``--multirun`` (and ``--verbose``) out of the overrides, wherever they are."""
    flags = {"-m", "--multirun"}
    return any(i in flags for i in items), [i for i in items if i not in flags | {"--verbose"}]


if __name__ == "__main__":
    sys.exit(main())
