"""Helpers for testing a plugin's components the way Plait's own tests do: a registry with
every installed plugin loaded strictly, a ``DataInfo`` at a tiny size for building a
component without data, a recipe composed and checked as ``plait train`` would, and the
``plait`` command run in a folder. ``plait new-plugin`` writes tests that use them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.datainfo import DataInfo
from framework.registry import Registry, default_registry


def plugin_registry() -> Registry:
    """Plait's components and every installed plugin's, loaded strictly: a plugin that fails
    to register, takes a name already taken or declares a bad schema raises instead of being
    left out, so a test sees it."""
    return default_registry(strict=True)


def tiny_info(
    target: str = "class",
    inputs: str = "tokens",
    classes: int = 3,
    vocab_size: int = 50,
    max_length: int = 16,
) -> DataInfo:
    """What the data stage would hand a builder, at a tiny size: ``target`` one of
    ``tokens``, ``class``, ``multilabel``, ``value``; ``inputs`` ``tokens`` or ``images``
    (3 x 16 x 16)."""
    outputs = {"tokens": None, "value": 1}.get(target, classes)
    per_class = target in ("class", "multilabel")
    return DataInfo(
        vocab_size=vocab_size if inputs == "tokens" else 0,
        max_length=max_length,
        num_outputs=outputs,
        num_classes=classes if per_class else None,
        labels=[f"c{i}" for i in range(classes)] if per_class else None,
        image_shape=[3, 16, 16] if inputs == "images" else None,
        target=target,
    )


def checked_recipe(registry: Registry, overrides: Sequence[str]) -> Any:
    """The config ``plait train OVERRIDES`` would run, composed and checked (every value,
    name and fit) without any data work; raises the one-line ``PlaitError`` it would print."""
    from framework.config.compose import compose
    from framework.config.validate import validate

    return validate(compose(registry, list(overrides)), registry).cfg


def run_plait(
    args: Sequence[str], cwd: str | Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``plait ARGS`` in a fresh process in ``cwd`` (offline: no model hub is reached); its
    exit status and output."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "framework", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
