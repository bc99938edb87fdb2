"""The catalogue of component kinds: for each, its config group, what its builder returns,
which capabilities its components may declare, and how a composed config is checked.

Adding a kind touches this table alone (and ``conf/train.yaml``'s defaults, which a test
keeps in step with it). Import-light: protocols import their libraries when they check.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from framework import protocols as P
from framework.checks import Check
from framework.protocols import Protocol


@dataclass(frozen=True)
class CommonField:
    """A config field shared by every option of a kind."""

    name: str
    """Config key."""
    type: Any
    """OmegaConf-checkable type."""
    default: Any
    """Value when the recipe sets none."""
    doc: str
    """One line for ``plait list`` and the reference."""
    check: Check | None = None
    """Range, choices or form of its values, checked when a config is composed."""


@dataclass(frozen=True)
class KindSpec:
    """How one kind of component appears in the config tree and is checked."""

    group: str
    """Hydra config group holding the options of this kind (``data/source``, ``model``)."""
    protocol: Protocol
    """What a builder of this kind returns, checked right after building."""
    multi: bool = False
    """Whether a recipe selects several options at once (``metric=[accuracy,f1_macro]``)."""
    doc: str = ""
    """One line saying what components of this kind do."""
    common: tuple[CommonField, ...] = ()
    """Fields every option of this kind has besides its builder's own (the ``enabled`` flag
    of ordered pipeline steps, a model's ``target_params``); consumed before building."""
    capabilities: tuple[str, ...] = ()
    """Fields of :class:`framework.contract.Contract` a component of this kind may declare."""
    fit_checked: bool = False
    """Checked at compose against the task's target and inputs (``fits``/``reads``)."""
    at_compose: bool = False
    """Built when the config is composed, so that its errors (bad names and values, hardware
    that is not there) stop the run before any data work; for kinds whose builders are cheap
    and have no effect, such as image transforms and hardware presets."""
    probe: str | None = None
    """Method of the built object (part of the protocol) called without arguments at
    compose, when building alone does not check everything."""


ENABLED_KEY = "enabled"
"""Flag of switchable kinds' options: false skips the step but keeps its settings."""
ENABLED_DOC = "Run this step; false skips it and keeps its settings."
SWITCH = (CommonField(ENABLED_KEY, bool, True, ENABLED_DOC),)
SIZED = (
    CommonField(
        "target_params",
        typing.Optional[str],  # noqa: UP045 (OmegaConf reads typing.Optional, not str | None)
        None,
        "Parameter budget such as 10M, 350k or 1.2B: depth and width are chosen to land "
        "within 10% of it (null: the sizes as written).",
        Check(
            pattern=r"\s*[0-9]*\.?[0-9]+\s*[kKmMbBgG]?\s*",
            says="a parameter count such as 10M, 350k or 1.2B",
        ),
    ),
)
MODEL_COMMON = (
    *SIZED,
    CommonField(
        "init",
        typing.Optional[str],  # noqa: UP045
        None,
        "A Plait run folder or .ckpt whose weights start this model (tensors of the same "
        "name and shape; a new task head is initialized); null: fresh weights.",
    ),
)
HARDWARE_COMMON = (
    CommonField(
        "keep_global_batch",
        bool,
        False,
        "Keep the effective batch (batch_size x accumulate) of one device on any number of "
        "devices and nodes, by dividing trainer.accumulate among them (printed at start).",
    ),
)
"""Settings of every hardware preset that the engine applies itself."""
LR_COMMON = (
    CommonField(
        "lr_decay",
        float,
        1.0,
        "Layer-wise learning-rate decay: the head trains at lr, the top block at lr x decay, "
        "the one below at lr x decay^2, ..., the embeddings lowest; 1: one rate.",
        Check(gt=0, le=1),
    ),
    CommonField(
        "head_lr_scale", float, 1.0, "Multiplier of the head's learning rate.", Check(gt=0)
    ),
    CommonField(
        "lr_scales",
        Any,
        None,
        "Learning-rate multipliers by parameter name: {regex: multiplier}, the first "
        "matching pattern applies (on top of lr_decay).",
    ),
)
STEP = ("streams", "reports_removed", "distributed")

KINDS: dict[str, KindSpec] = {
    "source": KindSpec(
        "data/source", P.SOURCE, doc="where the raw records come from",
        capabilities=("files", "streams", "shards"),
    ),
    "curate": KindSpec(
        "data/curate", P.CALLABLE, multi=True, doc="dedupe, normalize, filter records",
        common=SWITCH, capabilities=STEP,
    ),
    "clean": KindSpec(
        "data/clean", P.CALLABLE, multi=True, doc="strip noise from text", common=SWITCH,
        capabilities=STEP,
    ),
    "tokenizer": KindSpec(
        "data/tokenizer", P.TOKENIZER, doc="text to token ids, trained on train split",
        at_compose=True,
    ),
    "split": KindSpec(
        "data/split", P.SPLIT, doc="train/val/test partition", capabilities=("streams",)
    ),
    "balance": KindSpec(
        "data/balance", P.CALLABLE, doc="class balancing of the training split",
        capabilities=("streams",),
    ),
    "text_augment": KindSpec(
        "data/text_augment", P.TEXT_AUGMENT, multi=True, doc="EDA text operations",
        capabilities=("needs_synonyms",),
    ),
    "synonyms": KindSpec(
        "data/synonyms", P.SYNONYMS, doc="synonym source of the text operations"
    ),
    "image_augment": KindSpec(
        "data/image_augment", P.IMAGE_AUGMENT, multi=True, doc="image transforms",
        at_compose=True, probe="transforms"
    ),
    "task": KindSpec("task", P.TASK, doc="batch format, head, default loss and metrics"),
    "model": KindSpec(
        "model", P.MODEL, doc="the network, built from DataInfo", common=MODEL_COMMON,
        capabilities=("fits", "reads", "size", "exports", "blocks", "loads_weights"),
        fit_checked=True,
    ),
    "loss": KindSpec(
        "loss", P.CALLABLE, doc="training objective", capabilities=("fits",), fit_checked=True
    ),
    "metric": KindSpec(
        "metric", P.METRIC, multi=True, doc="evaluation metrics",
        capabilities=("fits", "logs", "from_confusion"), fit_checked=True,
    ),
    "regularizer": KindSpec(
        "regularizer", P.REGULARIZER, multi=True, doc="penalties and dropout settings"
    ),
    "freeze": KindSpec(
        "freeze", P.CALLABLE, multi=True, doc="which parameters train (several compose)",
        at_compose=True,
        capabilities=("adds_adapters", "changes_during_run", "mergeable", "inert"),
    ),
    "optimizer": KindSpec(
        "optimizer", P.OPTIMIZER, doc="torch optimizer over parameter groups", common=LR_COMMON,
        capabilities=("state_tensors", "sparse_gradients"),
    ),
    "scheduler": KindSpec(
        "scheduler", P.SCHEDULER, doc="learning-rate schedule", capabilities=("monitors",)
    ),
    "callback": KindSpec(
        "callback", P.CALLBACK, multi=True, doc="Lightning callbacks", capabilities=("monitors",)
    ),
    "logger": KindSpec("logger", P.LOGGER, multi=True, doc="Lightning loggers"),
    "hardware": KindSpec(
        "hardware", P.HARDWARE, doc="accelerator, devices, strategy, nodes", at_compose=True,
        common=HARDWARE_COMMON,
    ),
}  # fmt: skip
"""Every kind, in the order of the registry section of the architecture page."""

NAME_KEY = "_name_"
"""Config key naming the registered component a config node builds."""


def builder_node(kind: str, node: Any) -> dict[str, Any]:
    """A component's config without the fields shared by every option of its kind (those the
    engine handles before building)."""
    common = {c.name for c in KINDS[kind].common}
    return {k: v for k, v in node.items() if k not in common}


def config_key(kind: str) -> str:
    """The dotted key of a kind's node in the composed config (``data.source``, ``model``)."""
    return KINDS[kind].group.replace("/", ".")
