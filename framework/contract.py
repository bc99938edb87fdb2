"""The component contract: what the engine may rely on about a component, declared as data
when it is registered (``registry.add(kind, name, builder, fits=..., size=...)``).

Built-ins and plugins declare capabilities the same way; the engine reads them from the
registered :class:`Contract` alone, never from attributes of the builder or from its name.
Which fields a kind accepts is part of its entry in :data:`framework.kinds.KINDS`.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from framework.errors import PlaitError

TARGETS = ("tokens", "class", "multilabel", "value")
"""``tokens``: next-token prediction; ``class``: one class per example; ``multilabel``: any
subset of the classes; ``value``: a number per example."""
INPUTS = ("tokens", "images")
"""What a model reads."""


@dataclass(frozen=True)
class SizeKnobs:
    """The parameters that set a model's size (``model.target_params``)."""

    depth: str | None
    """Integer parameter counting layers or blocks; None: the depth is fixed."""
    widths: tuple[str, ...]
    """Width parameters (ints or lists of ints), scaled by one common factor."""
    multiple_of: str | None = None
    """Parameter every width must be divisible by (attention heads)."""


def scales(depth: str | None, *widths: str, multiple_of: str | None = None) -> SizeKnobs:
    """Size knobs for ``registry.add(..., size=scales("n_layer", "d_model"))``."""
    return SizeKnobs(depth, tuple(widths), multiple_of)


METRIC_LOGS = ("number", "per_class", "artifact")
"""What a metric logs: ``number``: one value (``val/<name>``); ``per_class``: one value per
class (``val/<name>/<class>``, and the evaluation's per-class table); ``artifact``: a
class-by-class matrix written as files at each evaluation's end (``confusion_val.png``),
never logged as a number."""


def always(_model: Any, _info: Any) -> bool:
    """An :class:`Exporter` that applies to every built model."""
    return True


@dataclass(frozen=True)
class Exporter:
    """How a model is written in one export format (``plait export format=...``)."""

    write: Callable[[Any, Any, Any], str]
    """``write(model, trained, out)``: write the built model into folder ``out`` (``trained``:
    the run's config, tokenizer and data facts); return the model card's lines on loading it."""
    applies: Callable[[Any, Any], bool] = always
    """``applies(model, info)``: whether this built model can take the format (a GPT with a
    language-model head, a body that holds adapters)."""
    folds_adapters: bool = True
    """Write the model with the adapters of a ``mergeable`` freeze policy folded into its
    weights; false: the model as it is, adapters apart (``peft``)."""


FileLister = Callable[[Mapping[str, Any]], list[str]]
"""A source's ``files``: given the source's config values, the paths it reads."""


@dataclass(frozen=True)
class Contract:
    """Capabilities of one registered component. Every field has one meaning for every kind
    that accepts it; the defaults are what an undeclared component gets."""

    fits: tuple[str, ...] | None = None
    """model, loss, metric: the task targets it fits (see :data:`TARGETS`); None: any task."""
    reads: str | None = None
    """model: ``tokens`` or ``images``; None: whatever the task feeds."""
    size: SizeKnobs | None = None
    """model: the knobs ``model.target_params`` scales; None: a fixed size."""
    files: FileLister | None = None
    """source: the files it reads, hashed (size and time) into the data cache's fingerprint so
    an edited file misses the cache; None: undeclared, the fingerprint holds the config alone
    and the run warns."""
    shards: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None
    """source: its config split into one config per piece (a file), whose records, read one
    after another, are the whole source's; ``data/engine=ray`` reads the pieces in parallel
    tasks. None: the driver reads the source and hands it to Ray in blocks."""
    streams: bool = False
    """source: builds a ``datasets.IterableDataset`` when called with ``streaming=True``;
    curate, clean: a per-record step (``TextMap``/``RowFilter``); split: assigns records by
    its ``val``/``test`` shares; balance: leaves the data as it is. Usable with
    ``data.streaming=true``."""
    needs_synonyms: bool = False
    """text_augment: looks words up in ``data/synonyms``."""
    reports_removed: bool = False
    """curate, clean: the built step lists examples of what it removed in ``examples``."""
    distributed: Callable[..., Any] | None = None
    """curate, clean: the step's form on Ray Data (``data/engine=ray``) for a step that needs
    the whole data set, a function ``(step, dataset, ctx) -> (dataset, StepRecord)`` over a
    ``ray.data.Dataset``; None: per-record steps (``streams``) run as ``map_batches``, the
    others cannot run on Ray."""
    monitors: str | None = None
    """callback, scheduler: the parameter naming a logged metric it watches (``monitor``);
    its value is checked at compose against the metrics the run logs."""
    logs: str = "number"
    """metric: what it logs (see :data:`METRIC_LOGS`): one number, one per class, or an
    artifact."""
    from_confusion: Callable[[Any], Any] | None = None
    """metric: its single-label value as a function of confusion matrices (a NumPy array
    (C, C), or (R, C, C) for R bootstrap replicates, rows true, columns predicted), so
    ``plait eval`` bootstraps it in one vectorized pass; None: its torchmetrics object is
    evaluated on each of fewer resamples."""
    exports: Mapping[str, Exporter] | None = None
    """model: the export formats its weights can be written as beyond ``safetensors`` (and
    ``onnx``, which any per-example model takes), each with its :class:`Exporter`: ``hf`` (a
    folder ``transformers`` loads), ``peft`` (adapters over the pretrained folder)."""
    loads_weights: str | None = None
    """model: its boolean parameter that loads pretrained weights (``pretrained``): checks at
    compose set it false and build the structure alone on the meta device, so no weights
    are read before the run; None: the model has no weights to load."""
    blocks: str | None = None
    """model: module path of its list of repeated blocks (``encoder.layers``), for freeze
    policies and per-layer learning rates; None: found from the structure (the list of
    modules of one type holding the most parameters)."""
    adds_adapters: bool = False
    """freeze: adds weights of its own beside the model's and trains those (and the head):
    checkpoints of a run started from pretrained weights may leave the frozen base out, and
    an export writes the adapters (``peft``) or folds them in."""
    changes_during_run: bool = False
    """freeze: changes which parameters train while the run goes (a schedule), so every
    weight is saved in every checkpoint."""
    mergeable: bool = False
    """freeze: the weights it adds fold into the base (``merged.ckpt``, an ``hf`` export);
    the merged model's config no longer selects the policy."""
    inert: bool = False
    """freeze: changes nothing (``none``): nothing to check against the model at compose."""
    state_tensors: int | None = None
    """optimizer: tensors of state it keeps per trainable weight (Adam: 2, SGD with momentum:
    1), for the memory estimate of ``plait show`` and ``plait doctor``; None: undeclared, 2
    assumed and said."""
    sparse_gradients: tuple[str, ...] | None = None
    """optimizer: takes sparse gradients (a model with ``sparse=true``) while the options
    named here are 0 (SGD: ``momentum``, ``weight_decay``); None: cannot take them."""

    def declared(self) -> list[str]:
        """Names of the fields set away from their defaults."""
        return [f.name for f in fields(self) if getattr(self, f.name) != f.default]

    def describe(self) -> str:
        """The declared capabilities as one short line (``plait list``)."""
        parts = []
        if self.reads:
            parts.append(f"reads {self.reads}")
        if self.fits is not None:
            parts.append(f"fits {'/'.join(self.fits)}")
        if self.size is not None:
            knobs = [k for k in (self.size.depth, *self.size.widths) if k]
            parts.append(f"sized ({', '.join(knobs)})")
        if self.files is not None:
            parts.append("declares its files")
        if self.shards is not None:
            parts.append("read in pieces on Ray")
        if self.streams:
            parts.append("streams")
        if self.needs_synonyms:
            parts.append("needs synonyms")
        if self.reports_removed:
            parts.append("reports removed examples")
        if self.distributed is not None:
            parts.append("runs on Ray")
        if self.monitors:
            parts.append(f"watches the metric in {self.monitors}")
        if self.logs != "number":
            parts.append({"per_class": "logs one value per class",
                          "artifact": "writes an artifact"}[self.logs])  # fmt: skip
        if self.exports:
            parts.append(f"exports {'/'.join(self.exports)}")
        if self.blocks:
            parts.append(f"blocks at {self.blocks}")
        if self.adds_adapters:
            parts.append("adds adapters")
        if self.changes_during_run:
            parts.append("changes during the run")
        if self.mergeable:
            parts.append("mergeable")
        if self.inert:
            parts.append("changes nothing")
        return "; ".join(parts)


def make_contract(kind: str, name: str, allowed: tuple[str, ...], **declared: Any) -> Contract:
    """A :class:`Contract` from keyword capabilities; one a kind does not take, or a value
    outside its vocabulary, is refused naming the component."""
    known = {f.name for f in fields(Contract)}
    for key, value in declared.items():
        if key not in known:
            raise PlaitError(f"{kind} '{name}': unknown capability '{key}'; known: {sorted(known)}")
        if key not in allowed:
            raise PlaitError(
                f"{kind} '{name}': a {kind} cannot declare '{key}' "
                f"({kind} takes {', '.join(allowed) or 'no capability'})"
            )
        if key == "fits" and value is not None:
            value = tuple(value)
            bad = [t for t in value if t not in TARGETS]
            if bad:
                raise PlaitError(f"{kind} '{name}': fits={bad[0]!r}; targets: {', '.join(TARGETS)}")
            declared[key] = value
        if key == "reads" and value is not None and value not in INPUTS:
            raise PlaitError(f"{kind} '{name}': reads={value!r}; inputs: {', '.join(INPUTS)}")
        if key == "size" and value is not None and not isinstance(value, SizeKnobs):
            raise PlaitError(f"{kind} '{name}': size must be scales(depth, *widths)")
        if key == "shards" and value is not None and not callable(value):
            raise PlaitError(f"{kind} '{name}': shards must be a function of the source's config")
        if key == "distributed" and value is not None and not callable(value):
            raise PlaitError(f"{kind} '{name}': distributed must be a function (step, ds, ctx)")
        if key == "logs" and value not in METRIC_LOGS:
            raise PlaitError(f"{kind} '{name}': logs={value!r}; one of {', '.join(METRIC_LOGS)}")
        if key == "exports" and value is not None:
            if not isinstance(value, Mapping) or not all(
                isinstance(e, Exporter) for e in value.values()
            ):
                raise PlaitError(
                    f"{kind} '{name}': exports must map a format name to an Exporter(write, "
                    "applies)"
                )
            declared[key] = dict(value)
        if key in ("adds_adapters", "changes_during_run", "mergeable", "inert") and not (
            isinstance(value, bool)
        ):
            raise PlaitError(f"{kind} '{name}': {key} must be true or false, not {value!r}")
        if key == "sparse_gradients" and value is not None:
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise PlaitError(f"{kind} '{name}': sparse_gradients must name options")
            declared[key] = tuple(value)
        if key == "files" and value is not None and not callable(value):
            raise PlaitError(f"{kind} '{name}': files must be a function of the source's config")
    return Contract(**declared)


# ready-made ``files`` declarations ------------------------------------------------------


def files_in_config(params: Mapping[str, Any]) -> list[str]:
    """``files`` of sources that read the paths their config names (globs, folders)."""
    out: list[str] = []
    _collect(params, out)
    return out


def one_per_file(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``shards`` of sources that read the files their ``paths`` name, in order: one config
    per file (a mapping of named splits stays whole)."""
    from framework.records import collect

    paths = params.get("paths")
    if isinstance(paths, Mapping) or not paths:
        return [dict(params)]
    files = collect([paths] if isinstance(paths, str) else list(paths))
    return [{**params, "paths": [str(f)]} for f in files]


def no_files(_params: Mapping[str, Any]) -> list[str]:
    """``files`` of a source whose data is fixed by its config and the installed packages
    (a package's own files, the Python standard library, a pinned hub revision)."""
    return []


def _collect(value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, out)
    elif isinstance(value, str) and value and glob.glob(os.path.expanduser(value)):
        out.append(value)
