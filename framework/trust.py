"""Recipes and checkpoints may come from strangers: a config that names a Python callable
(``_target_``) is refused unless its author's own ``allow_targets: true`` says otherwise."""

from __future__ import annotations

import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import PlaitError
from framework.registry import TARGET_KEY


def target_keys(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(key, value) of every ``_target_`` anywhere in a config, interpolations unresolved."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if k == TARGET_KEY:
                out.append((key, str(v)))
            out.extend(target_keys(v, key))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(target_keys(v, f"{prefix}[{i}]"))
    return out


_INTERPOLATION = re.compile(r"(\\*)\$\{")


def as_data(node: Any) -> Any:
    """A stored config (a stranger's run dir or checkpoint) as plain data: every ``${...}`` in
    it escaped, so OmegaConf reads it as the text it is and never resolves it (no
    ``${oc.env:...}`` reads this machine's environment). Plait stores configs resolved, so
    its own runs lose nothing."""
    if isinstance(node, DictConfig) or OmegaConf.is_list(node):
        node = OmegaConf.to_container(node, resolve=False)
    if isinstance(node, dict):
        return {k: as_data(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_data(v) for v in node]
    if isinstance(node, str):
        return _INTERPOLATION.sub(lambda m: m.group(1) * 2 + "\\${", node)
    return node


def refuse_targets(cfg: Any, trusted: bool = False) -> None:
    """Stop, before anything is built, when a config names a Python callable with
    ``_target_`` and is not ``trusted`` (its own ``allow_targets: true``): a recipe runs no
    code of its own."""
    if trusted:
        return
    plain = OmegaConf.to_container(cfg, resolve=False) if isinstance(cfg, DictConfig) else cfg
    found = target_keys(plain)
    if found:
        key, value = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise PlaitError(
            f"'{key}' names a Python callable ({value}){more}; recipes run no code of their "
            "own: select a registered component by name (`plait list`), or set "
            "allow_targets=true if you trust this recipe"
        )
