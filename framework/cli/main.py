"""``plait``: train, show, data, eda, list, generate, plot, augment-preview; heavy
libraries imported on use."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from framework.errors import PlaitError

USAGE = """\
examples:
  train      train a recipe:      plait train recipe=stdlib_gpt trainer.max_steps=200
             sweep with -m:       plait train -m optimizer.lr=1e-3,3e-4
  show       composed config and parameter count, without training
  data       the data stage alone, with its report: plait data recipe=tweets_sentiment
  list       registered components: plait list [KIND]
  generate   sample from a checkpoint: plait generate ckpt=PATH prompt="def "
  plot       redraw a run's curves.png from its metrics.csv: plait plot runs/NAME/<time>
  eda        statistics, charts, imbalance and leakage of the data stage (runs/NAME/eda/):
             plait eda recipe=tweets_sentiment
  augment-preview
             what augmentation does to n training examples (PNG grid, text table):
             plait augment-preview recipe=fashion_mnist_2k_basic n=16

Full tracebacks: --verbose or HYDRA_FULL_ERROR=1.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="plait",
        description="Train language models from declarative Hydra recipes.",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--verbose", action="store_true", help="show full tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser(
        "train", help="train a recipe", description="Train (or with -m, sweep) a recipe."
    )
    t.add_argument("-m", "--multirun", action="store_true", help="Hydra multirun (sweeps)")
    t.add_argument("overrides", nargs=argparse.REMAINDER, help="Hydra overrides key=value")
    s = sub.add_parser("show", help="composed config and parameter counts")
    s.add_argument("overrides", nargs=argparse.REMAINDER)
    d = sub.add_parser("data", help="run the data stage alone and print its report")
    d.add_argument("overrides", nargs=argparse.REMAINDER)
    ls = sub.add_parser("list", help="registered components")
    ls.add_argument("kind", nargs="?", help="one kind, such as model")
    ls.add_argument("--markdown", action="store_true", help="print the Markdown config reference")
    g = sub.add_parser("generate", help="sample text from a checkpoint")
    g.add_argument("options", nargs=argparse.REMAINDER, help="ckpt=PATH prompt=TEXT ...")
    pl = sub.add_parser("plot", help="redraw a run's curves.png from metrics.csv")
    pl.add_argument("run_dir", help="the run dir, runs/NAME/<time>")
    e = sub.add_parser("eda", help="exploratory analysis of the data stage")
    e.add_argument("overrides", nargs=argparse.REMAINDER)
    ap = sub.add_parser("augment-preview", help="originals next to augmented training examples")
    ap.add_argument("overrides", nargs=argparse.REMAINDER, help="n=16 out=DIR and overrides")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plait`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    rest = getattr(args, "overrides", None) or getattr(args, "options", None) or []
    verbose = args.verbose or "--verbose" in rest or os.environ.get("HYDRA_FULL_ERROR") == "1"
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        if args.command == "list":
            from framework.cli.listing import list_components

            return list_components(args.kind, args.markdown)
        if args.command == "show":
            from framework.cli.show import show

            return show(_split_flags(args.overrides)[1])
        if args.command == "data":
            from framework.cli.data import data

            return data(_split_flags(args.overrides)[1])
        if args.command == "plot":
            from framework.cli.plot import plot

            return plot(args.run_dir)
        if args.command == "eda":
            from framework.cli.eda import eda

            return eda(_split_flags(args.overrides)[1])
        if args.command == "augment-preview":
            from framework.cli.preview import augment_preview

            return augment_preview(_split_flags(args.overrides)[1])
        if args.command == "generate":
            from framework.cli.generate import generate

            return generate(args.options)
        from framework.cli.train import train

        multirun, overrides = _split_flags(args.overrides)
        return train(overrides, multirun or args.multirun, verbose)
    except PlaitError as exc:
        if verbose:
            raise
        return fail(exc)


def _split_flags(items: Sequence[str]) -> tuple[bool, list[str]]:
    """Pull ``-m``/``--multirun`` (and ``--verbose``) out of the overrides, wherever they are."""
    flags = {"-m", "--multirun"}
    return any(i in flags for i in items), [i for i in items if i not in flags | {"--verbose"}]


def fail(exc: PlaitError) -> int:
    """Print ``plait: error: ...`` on one line to stderr; return exit status 2."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, soft_wrap=True).print(
        Text("plait: error: ", style="bold red") + Text(str(exc))
    )
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
