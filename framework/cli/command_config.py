"""The typed, composed options of the commands that read a trained run (``eval``, ``predict``,
``compare``, ``export``, ``generate``): each command's options are a dataclass stored in
Hydra's ConfigStore and composed by Hydra with the same override grammar as ``plait train``
(``key=value``, ``key=[a,b]``, ``~key``, quoting), checked against the dataclass's types, with
Hydra's own flags (``--cfg``, ``--info``, ``--config-dir``, ``--config-name``, ``--multirun``).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.checks import CHECK_KEY, Check, field_checks
from framework.errors import PlaitError, did_you_mean


@dataclass(frozen=True)
class CommandSpec:
    """What a command's options are and how its command line reads."""

    name: str
    """The subcommand (``eval``)."""
    schema: type
    """The dataclass of its options; each field's ``metadata["help"]`` is its ``--help`` line."""
    example: str
    """A typical command line after ``plait NAME``, for messages."""
    passthrough: tuple[str, ...] = ()
    """Override prefixes that are not the command's own options but are applied to the run's
    stored config (``data.source.paths=[new.csv]`` in ``plait eval``)."""
    positional: str | None = None
    """The option that bare arguments fill, in order (``plait compare RUN_A RUN_B``)."""

    @property
    def config_name(self) -> str:
        """The name of its primary config in Hydra's ConfigStore."""
        return f"plait_{self.name.replace('-', '_')}"


@dataclass(frozen=True)
class HydraFlags:
    """Hydra's own command-line flags, as ``plait train`` takes them."""

    cfg: str | None = None
    """``--cfg job|hydra|all``: print the composed config instead of running."""
    info: str | None = None
    """``--info [all|config|defaults|defaults-tree|plugins|searchpath]``."""
    resolve: bool = False
    """``--resolve``: with ``--cfg``, resolve interpolations."""
    config_dir: str | None = None
    """``--config-dir DIR``: a folder added to the search path (a config of its own)."""
    config_name: str | None = None
    """``--config-name NAME``: a YAML in that folder to start from instead of the defaults."""
    multirun: bool = False
    """``-m``/``--multirun``: run once per combination of the swept values (``split=val,test``)."""


def option(default: Any, help: str, text: bool = False, check: Check | None = None) -> Any:
    """A schema field with its ``--help`` line (``default_factory`` for lists); ``text``: free
    text (a prompt) taken exactly as given, never read as override grammar; ``check``: the
    values it takes (a range), checked when the options are composed, before any work."""
    meta: dict[str, Any] = {"help": help, "text": text}
    if check is not None:
        meta[CHECK_KEY] = check
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def help_text(spec: CommandSpec) -> str:
    """Every option of the command with its type, default and meaning (``plait CMD --help``)."""
    from framework.components.schema import type_name

    hints = typing.get_type_hints(spec.schema)
    rows = []
    for f in dataclasses.fields(spec.schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        rows.append((f"{f.name}: {type_name(hints[f.name])} = {default!r}", f.metadata["help"]))
    width = max(len(r[0]) for r in rows)
    lines = ["options (key=value, composed by Hydra like plait train's overrides):"]
    lines += [f"  {left.ljust(width)}  {right}" for left, right in rows]
    if spec.passthrough:
        lines.append(
            f"  {', '.join(p + '*' for p in spec.passthrough)}: overrides of the "
            "run's stored config, as plait train reads them"
        )
    lines += ["", f"example: plait {spec.name} {spec.example}"]
    return "\n".join(lines)


def compose_command(
    spec: CommandSpec, items: Sequence[str], flags: HydraFlags = HydraFlags()
) -> list[tuple[Any, list[str]]] | None:
    """The command's options composed from ``items``: one (options, passthrough overrides)
    pair, or one per combination of swept values with ``--multirun``; None when a flag
    (``--cfg``, ``--info``) printed what was asked instead."""
    own, passthrough, positional = _split(spec, items)
    if positional:
        if spec.positional is None:
            raise PlaitError(f"expected key=value, got '{positional[0]}'; e.g. {spec.example}")
        own = [f"{spec.positional}=[{','.join(quoted(p) for p in positional)}]", *own]
    _check_keys(spec, own)
    own = _texts_as_given(spec, own)
    runs = _sweep(own) if flags.multirun else [list(own)]
    if not flags.multirun:
        _refuse_sweep(spec, own)
    primary = _primary(spec, flags) if flags.config_name else spec.config_name
    if flags.info:
        with _hydra(spec, flags) as hydra:
            hydra.show_info(flags.info, primary, list(own))
        return None
    out = []
    for overrides in runs:
        cfg = _compose(spec, primary, overrides, flags, with_hydra=flags.cfg in ("hydra", "all"))
        if flags.cfg:
            _print_cfg(cfg, flags)
            continue
        check_values(spec, cfg)
        out.append((cfg, passthrough))
    return None if flags.cfg else out


def check_values(spec: CommandSpec, opts: Any) -> None:
    """Every option outside the values its schema declares, in one line."""
    problems = []
    for key, check in field_checks(spec.schema).items():
        value = opts.get(key)
        wrong = check.problem(value)
        if wrong:
            problems.append(f"{key}={value!r} {wrong}")
    if problems:
        many = f"{len(problems)} bad values: " if len(problems) > 1 else ""
        raise PlaitError(f"{many}{'; '.join(problems)}; e.g. plait {spec.name} {spec.example}")


def compose_one(spec: CommandSpec, items: Sequence[str]) -> tuple[Any, list[str]]:
    """The options of one run of the command (no flags): what ``framework.api`` calls."""
    composed = compose_command(spec, items)
    assert composed is not None
    return composed[0]


def _split(spec: CommandSpec, items: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    own, passthrough, positional = [], [], []
    for item in items:
        if item == "--verbose":
            continue
        key = item.partition("=")[0].lstrip("~+")
        if "=" not in item and not item.startswith("~"):
            positional.append(item)
        elif spec.passthrough and key.startswith(spec.passthrough):
            passthrough.append(item)
        else:
            own.append(item)
    return own, passthrough, positional


def quoted(value: str) -> str:
    """``value`` as a quoted string in Hydra's override grammar, whatever characters it has
    (a path with commas, brackets, ``=`` or spaces)."""
    escaped = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, value)
    return "'" + escaped.replace("'", "\\'") + "'"


def _check_keys(spec: CommandSpec, overrides: Sequence[str]) -> None:
    """An unknown option is named with the nearest one, before Hydra is asked."""
    names = [f.name for f in dataclasses.fields(spec.schema)]
    for item in overrides:
        key = item.partition("=")[0].lstrip("~+").split(".")[0]
        if key not in names:
            raise PlaitError(f"unknown option '{key}'; {did_you_mean(key, names)}")


def _texts_as_given(spec: CommandSpec, overrides: Sequence[str]) -> list[str]:
    """Quote the value of a free-text option (``prompt="def "``), and any value with spaces
    at its ends, so Hydra's grammar keeps it as typed (it trims unquoted values and reads
    ``f(x)`` as a function)."""
    texts = {f.name for f in dataclasses.fields(spec.schema) if f.metadata.get("text")}
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if (
            sep
            and not key.startswith("~")
            and value[:1] not in ("'", '"')
            and (key in texts or value != value.strip())
        ):
            item = f"{key}={quoted(value)}"
        out.append(item)
    return out


def _parsed(overrides: Sequence[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        return OverridesParser.create().parse_overrides(list(overrides))
    except OverrideParseException as exc:
        first = str(exc).splitlines()[0]
        raise PlaitError(f"cannot parse option: {first}; write key=value") from None


def _refuse_sweep(spec: CommandSpec, overrides: Sequence[str]) -> None:
    for o in _parsed(overrides):
        if o.is_sweep_override():
            raise PlaitError(
                f"'{o.input_line}' sweeps {o.key_or_group}: add --multirun to run once per "
                f"value, write a list as {o.key_or_group}=[a,b], or quote a text with a comma"
            )


def _sweep(overrides: Sequence[str]) -> list[list[str]]:
    """Each combination of swept values, as Hydra's basic sweeper expands them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    batches = BasicSweeper.split_arguments(_parsed(overrides), None)
    return [list(job) for batch in batches for job in batch]


@contextmanager
def _hydra(spec: CommandSpec, flags: HydraFlags) -> Iterator[Any]:
    """Hydra initialized with the command's schema stored, and ``--config-dir`` searched."""
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra

    folder = flags.config_dir
    if folder is not None and not Path(folder).is_dir():
        raise PlaitError(f"--config-dir {folder}: no such folder")
    store = ConfigStore.instance()
    store.store(name=spec.config_name, node=spec.schema, provider="plait")
    # a config group of ``plait train`` named like an option (``task``) would make Hydra read
    # ``task=NAME`` as a group selection: hide those groups while the command composes
    hidden = {f.name: store.repo.pop(f.name) for f in dataclasses.fields(spec.schema)
              if isinstance(store.repo.get(f.name), dict)}  # fmt: skip
    GlobalHydra.instance().clear()
    empty = Path(__file__).parent  # a folder with no YAML: only the stored schema is found
    try:
        with initialize_config_dir(str(Path(folder or empty).resolve()), version_base=None):
            yield GlobalHydra.instance().hydra
    finally:
        GlobalHydra.instance().clear()
        store.repo.update(hidden)


def _compose(
    spec: CommandSpec, name: str, overrides: list[str], flags: HydraFlags, with_hydra: bool
) -> Any:
    from hydra import compose

    from framework.config.compose import translate

    with _hydra(spec, flags):
        try:
            return compose(config_name=name, overrides=overrides, return_hydra_config=with_hydra)
        except Exception as exc:
            raise translate(exc) from None


def _primary(spec: CommandSpec, flags: HydraFlags) -> str:
    """A user's ``--config-name`` YAML (its own defaults list composed) laid over the
    command's options and stored as the primary config to compose the overrides onto."""
    from hydra import compose
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from framework.config.compose import translate

    name = flags.config_name
    if flags.config_dir is None:
        raise PlaitError(f"--config-name {name} needs --config-dir DIR, the folder holding it")
    if not (Path(flags.config_dir) / f"{name}.yaml").is_file():
        raise PlaitError(
            f"--config-name {name}: no {name}.yaml in {flags.config_dir}; write the options "
            f"there as plait {spec.name} --cfg job prints them"
        )
    with _hydra(spec, flags):
        try:
            own = compose(config_name=name)
        except Exception as exc:
            raise PlaitError(f"{name}.yaml: {translate(exc)}") from None
    body = OmegaConf.to_container(own)
    try:
        _check_keys(spec, [f"{k}=" for k in body])
        merged = OmegaConf.merge(OmegaConf.structured(spec.schema), body)
    except PlaitError as exc:
        raise PlaitError(f"{name}.yaml: {exc}") from None
    except Exception as exc:
        raise PlaitError(f"{name}.yaml: {translate(exc)}") from None
    stored = f"{spec.config_name}__{name}"
    ConfigStore.instance().store(name=stored, node=merged, provider="plait")
    return stored


def _print_cfg(cfg: Any, flags: HydraFlags) -> None:
    from omegaconf import OmegaConf

    if flags.cfg == "hydra":
        cfg = cfg.hydra
    elif flags.cfg == "job" and "hydra" in cfg:
        cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    print(OmegaConf.to_yaml(cfg, resolve=flags.resolve), end="")
