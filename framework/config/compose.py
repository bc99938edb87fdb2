"""Compose a run's config with Hydra and turn Hydra's errors into one clear line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from framework.errors import PlaitError, did_you_mean
from framework.registry import KINDS, Registry

CONFIG_MODULE = "framework.conf"
"""Package holding the primary config tree (``conf/`` in the repo, shipped in the wheel)."""
CONFIG_PATH = f"pkg://{CONFIG_MODULE}"
CONFIG_NAME = "train"


def publish(registry: Registry) -> None:
    """Store the root schema and every registered component in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore

    from framework.config.schema import SCHEMA_NAME, PlaitConfig

    store = ConfigStore.instance()
    store.store(name=SCHEMA_NAME, node=PlaitConfig, provider="plait")
    registry.publish(store)


def compose(
    registry: Registry,
    overrides: Sequence[str] = (),
    config_name: str = CONFIG_NAME,
    config_dir: str | None = None,
    with_hydra: bool = False,
) -> Any:
    """Compose ``conf/train.yaml`` with ``overrides``; errors become :class:`PlaitError`.
    ``config_dir`` (``--config-dir``): a folder of the user's configs searched first;
    ``config_name`` (``--config-name``): a primary config there that extends ``train``;
    ``with_hydra``: keep Hydra's own node (``hydra.run.dir``)."""
    from hydra import compose as hydra_compose
    from hydra.core.global_hydra import GlobalHydra

    publish(registry)
    GlobalHydra.instance().clear()
    try:
        start, searched = initialize(config_name, config_dir)
        with start:
            return hydra_compose(config_name=config_name, overrides=[*searched, *overrides],
                                 return_hydra_config=with_hydra)  # fmt: skip
    except PlaitError:
        raise
    except Exception as exc:
        raise translate(exc, registry) from exc
    finally:
        GlobalHydra.instance().clear()


def initialize(config_name: str, config_dir: str | None) -> tuple[Any, list[str]]:
    """Hydra's initialization for the primary config, and the override that puts the other
    folder on the search path: Hydra finds the primary config before it reads
    ``hydra.searchpath``, so a primary config of the user's starts from their folder."""
    from pathlib import Path

    from hydra import initialize_config_dir, initialize_config_module

    if config_dir is None:
        return initialize_config_module(config_module=CONFIG_MODULE, version_base=None), []
    folder = str(Path(config_dir).resolve())
    if config_name == CONFIG_NAME:
        start = initialize_config_module(config_module=CONFIG_MODULE, version_base=None)
        return start, [f"hydra.searchpath=[file://{folder}]"]
    start = initialize_config_dir(config_dir=folder, version_base=None)
    return start, [f"hydra.searchpath=[{CONFIG_PATH}]"]


_GROUP_TO_KIND = {spec.group: kind for kind, spec in KINDS.items()}


def _kind_of(group: str) -> str:
    return _GROUP_TO_KIND.get(group, group)


def translate(exc: BaseException, registry: Registry | None = None) -> PlaitError:
    """Phrase a Hydra or OmegaConf composition error as one line with the fix."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    msg = str(exc)
    if "search.space" in msg:
        return PlaitError(
            "search.space is written in a recipe's YAML; on the command line give the searched "
            "values as sweeps instead: optimizer.lr='tag(log,interval(1e-4,1e-2))' "
            "model.dropout='interval(0,0.3)' model=textcnn,lstm"
        )
    if isinstance(exc, MissingConfigException):
        m = re.search(r"Could not (?:find|load) '([^']+)'", msg)
        target = m.group(1) if m else "?"
        group, _, name = target.rpartition("/")
        if not group:
            return PlaitError(f"config '{target}' not found; check the name")
        kind = _kind_of(group)
        options = list(exc.options or [])
        if not options and registry is not None and kind in KINDS:  # Hydra lists none for
            options = registry.names(kind)  # an option inside a list selection ([a, b])
        from framework.components.memory import former_provider

        gone = former_provider(group, name)
        if gone:
            return PlaitError(f"unknown {kind} '{name}'; {gone}")
        hint = f"see `plait list {kind}`" if kind in KINDS else "see the recipes/ folder"
        return PlaitError(f"unknown {kind} '{name}'; {did_you_mean(name, options)} ({hint})")
    if isinstance(exc, OverrideParseException):
        return PlaitError(f"cannot parse override: {msg.splitlines()[0]}; write key=value")
    cause = exc.__cause__ or exc
    if isinstance(cause, ValidationError):
        key = getattr(cause, "full_key", "?")
        first = str(cause).splitlines()[0]
        return PlaitError(f"wrong type for '{key}': {first}")
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) or "not in struct" in msg:
        key = getattr(cause, "full_key", None)
        return _unknown_key(key, cause, msg, registry=registry)
    m = re.search(r"Key '(\w+)' not in '(\w+)'.*?full_key: (\S+)", msg, re.S)
    if m:
        where = re.search(r"In '([^']+)'", msg)
        return _unknown_key(m.group(3), None, msg, where.group(1) if where else None, registry)
    m = re.search(
        r"Value '([^']*)' (?:of type '\w+' )?could not be converted to (\w+).*?full_key: (\S+)",
        msg,
        re.S,
    )
    if m:
        where = re.search(r"In '([^']+)'", msg)
        loc = f" in '{where.group(1)}'" if where else ""
        typ = m.group(2).lower()
        article = "an" if typ[0] in "aeiou" else "a"
        return PlaitError(
            f"wrong type for '{m.group(3)}'{loc}: '{m.group(1)}' is not {article} {typ}"
        )
    return PlaitError(" ".join(msg.split())[:300])


def _unknown_key(
    key: str | None,
    cause: Any,
    msg: str,
    where: str | None = None,
    registry: Registry | None = None,
) -> PlaitError:
    if key is None:
        m = re.search(r"override '([^']+)'", msg)
        key = m.group(1) if m else "?"
    parent = getattr(cause, "parent_node", None)
    leaf = key.rsplit(".", 1)[-1]
    known: list[str] = []
    if parent is not None and hasattr(parent, "keys"):
        known = [str(k) for k in parent.keys() if not str(k).startswith("_")]
    else:
        known = _schema_keys(key)
    loc = f" (in '{where}')" if where else ""
    kind = _GROUP_TO_KIND.get(key.rpartition(".")[0].replace(".", "/"))
    if not known and kind:
        # the selected option is not known here: look at the keys of every option of the kind
        comps = list(registry.components(kind)) if registry is not None else []
        owners = [c.name for c in comps if leaf in {p.name for p in c.params()}]
        see = f"see `plait list {kind}`"
        close = did_you_mean(leaf, {p.name for c in comps for p in c.params()})
        if owners:
            verb = "have" if len(owners) > 1 else "has"
            close = f"the selected {kind} has no '{leaf}' ({', '.join(owners)} {verb} it; {see})"
            if where and where.startswith("recipe/"):  # a recipe's setting for its own choice
                close += f"; the recipe sets it for its own {kind}: start without it (~recipe)"
        elif close.startswith("did you mean"):
            close = f"{close} ({see})"
        else:
            close = f"the selected {kind} has no '{leaf}' ({see})"
        return PlaitError(f"unknown key '{key}'{loc}; {close}")
    return PlaitError(f"unknown key '{key}'{loc}; {did_you_mean(leaf, known)}")


def _schema_keys(full_key: str) -> list[str]:
    """Keys of the root-schema node holding ``full_key`` (for suggestions)."""
    from omegaconf import OmegaConf

    from framework.config.schema import PlaitConfig

    parent = full_key.rpartition(".")[0]
    root = OmegaConf.structured(PlaitConfig)
    node = OmegaConf.select(root, parent) if parent else root
    return [str(k) for k in node.keys()] if hasattr(node, "keys") else []
