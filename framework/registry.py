"""The plugin registry: every component is a short name in a config group.

A provider (Plait itself or a third-party package) exposes ``register(registry)`` through the
entry-point group ``plait.plugins`` and adds its components there. The registry refuses
duplicate names, publishes every component to Hydra's ConfigStore as an option of its kind's
group, and builds components from their composed config.

Builder convention: parameters with a default (or a positional-or-keyword parameter) are
configuration and become the option's schema; keyword-only parameters without a default are
runtime values the engine injects (``info``, ``params``, ``total_steps`` ...). Builders keep
heavy imports inside their body so that ``plait list`` and composing a config stay fast.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from framework.checks import Check, field_checks, signature_checks
from framework.components.schema import arg_docs, check_schema, schema_for, type_name
from framework.contract import Contract, make_contract
from framework.errors import PLUGIN_MODULES, PlaitError, did_you_mean
from framework.kinds import (  # noqa: F401 (re-exported: the registry's vocabulary)
    ENABLED_KEY,
    KINDS,
    NAME_KEY,
    SIZED,
    SWITCH,
    CommonField,
    KindSpec,
)

TARGET_KEY = "_target_"
"""Config key naming a Python callable by its dotted path (refused unless allowed)."""
PLUGIN_GROUP = "plait.plugins"
CONF_GROUP = "plait.conf"


class DuplicateName(PlaitError):
    """Two providers registered one name (never tolerated: it would change what a recipe
    means)."""


@dataclass(frozen=True)
class Component:
    """One registered component."""

    kind: str
    name: str
    builder: Callable[..., Any]
    given_schema: type | None
    """The dataclass its provider gave, or None: the schema comes from the builder."""
    provider: str
    doc: str
    contract: Contract = dataclasses.field(default_factory=Contract)
    """Capabilities declared at registration (targets, size knobs, files, streaming ...)."""
    checks: dict[str, Check] = dataclasses.field(default_factory=dict)
    """Ranges, choices and lengths of its parameters, checked when a config is composed."""

    @functools.cached_property
    def schema(self) -> type:
        """The option's dataclass (``_name_``, the kind's common fields, the parameters),
        made when first asked for: a command composes a handful of the components."""
        return schema_for(self.kind, self.name, self.builder, self.given_schema)

    def params(self) -> list[ParamInfo]:
        """The configurable parameters: name, type, default and the docstring's description."""
        docs = {f.name: f.doc for f in KINDS[self.kind].common}
        docs.update(arg_docs(self.builder.__doc__ or ""))
        out = []
        for f in dataclasses.fields(self.schema):
            if f.name == NAME_KEY:
                continue
            if f.default is not dataclasses.MISSING:
                default: Any = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = "???"
            out.append(ParamInfo(f.name, type_name(f.type), default, docs.get(f.name, "")))
        return out


@dataclass(frozen=True)
class ParamInfo:
    """A documented configuration parameter of a component."""

    name: str
    type: str
    default: Any
    doc: str


class Registry:
    """All components known to this process, by kind and short name."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self._provider = "local"
        self.providers: list[str] = []
        """Names of the providers loaded so far, in load order."""
        self.distributions: dict[str, tuple[str, str]] = {}
        """Provider name -> (distribution, version) that installed it."""
        self.broken: dict[str, str] = {}
        """Providers that failed to import or register, with the one-line reason; their
        components are not registered (see :meth:`load_entry_points`)."""
        self.allow_targets = False
        """Whether a config node may build a raw ``_target_`` callable: only when a validated
        config says ``allow_targets: true``."""
        self.disabled: dict[str, str] = {}
        """Components a plugin could not add (a name already taken, a bad schema), each with
        its one-line reason; the rest of that plugin works."""
        self.shadowed: list[str] = []
        """One line per YAML option (preset, recipe) that two packages ship, naming both and
        the one Hydra uses (see :func:`framework.components.collisions.shadowing_lines`)."""
        self._isolated = False

    # registration -----------------------------------------------------------------------

    def add(
        self,
        kind: str,
        name: str,
        builder: Callable[..., Any],
        schema: type | None = None,
        doc: str | None = None,
        **capabilities: Any,
    ) -> None:
        """Register ``builder`` as component ``name`` of ``kind``.

        ``schema`` is an optional dataclass of the configurable fields; without it one is
        generated from the builder's signature. ``capabilities`` are the component's contract
        (:class:`framework.contract.Contract` fields its kind accepts: ``fits``, ``reads``,
        ``size``, ``files``, ``streams``, ``needs_synonyms``, ``reports_removed``). A name
        registered twice is refused, and the error names both providers.
        """
        try:
            component = self._component(kind, name, builder, schema, doc, capabilities)
        except PlaitError as exc:
            if not self._isolated:
                raise
            label = self.provider_label(self._provider)
            self.disabled[f"{kind} '{name}' of {self._provider}"] = (
                f"plugin {label}: {exc}; {kind} '{name}' of {self._provider} is disabled"
            )
            return
        self._entries[kind][name] = component

    def _component(
        self,
        kind: str,
        name: str,
        builder: Callable[..., Any],
        schema: type | None,
        doc: str | None,
        capabilities: dict[str, Any],
    ) -> Component:
        """The checked :class:`Component`, or the PlaitError that refuses it."""
        if kind not in KINDS:
            raise PlaitError(f"unknown component kind '{kind}'; {did_you_mean(kind, KINDS)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise PlaitError(f"invalid {kind} name '{name}': use lower_snake_case")
        existing = self._entries[kind].get(name)
        if existing is not None:
            raise DuplicateName(
                f"duplicate {kind} '{name}': registered by "
                f"'{self.provider_label(existing.provider)}' ({_where(existing.builder)}) and "
                f"again by '{self.provider_label(self._provider)}' ({_where(builder)}); the "
                "first keeps the name: rename the second"
            )
        contract = make_contract(kind, name, KINDS[kind].capabilities, **capabilities)
        checks = field_checks(schema) if schema is not None else signature_checks(builder)
        summary = doc or (inspect.getdoc(builder) or "").split("\n", 1)[0]
        component = Component(kind, name, builder, schema, self._provider, summary, contract,
                              checks)  # fmt: skip
        if self._provider != "plait":  # Plait's own: tests/test_registry.py
            check_schema(kind, name, component.schema)
        return component

    def load_provider(
        self, provider: str, register: Callable[[Registry], None], isolate: bool = False
    ) -> None:
        """Call one provider's ``register(registry)``, recording it as the provider. A
        ``register`` that raises leaves nothing of its provider registered. ``isolate`` (a
        third party's plugin, not strict): a component it cannot add (a name already taken,
        a bad schema or capability) is left out and recorded in :attr:`disabled`, and the
        rest of the provider registers."""
        previous, self._provider = self._provider, provider
        was_isolated, self._isolated = self._isolated, isolate
        try:
            register(self)
            self.providers.append(provider)
        except Exception as exc:
            for entries in self._entries.values():
                for name in [n for n, c in entries.items() if c.provider == provider]:
                    del entries[name]
            if isinstance(exc, DuplicateName):
                raise
            raise PlaitError(
                f"plugin '{provider}' failed to register: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self._provider = previous
            self._isolated = was_isolated

    def load_entry_points(self, group: str = PLUGIN_GROUP, strict: bool = False) -> None:
        """Load every installed provider of the ``plait.plugins`` entry-point group.

        A provider that fails to import or to register is disabled and recorded in
        :attr:`broken` (one line: its name, distribution and error), and the rest of Plait
        works; ``strict`` makes that an error. Two providers registering one name stop
        here, naming both (a silent winner would change what a recipe means).
        """
        for ep in sorted(entry_points(group=group), key=lambda e: (e.name != "plait", e.name)):
            dist = getattr(ep, "dist", None)
            if dist is not None:
                self.distributions[ep.name] = (dist.name, dist.version)
            ours = ep.name == "plait"
            try:
                try:
                    register = ep.load()
                except Exception as exc:
                    raise PlaitError(
                        f"plugin '{ep.name}' ({ep.value}) failed to import: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                self.load_provider(ep.name, register, isolate=not (strict or ours))
                if not ours:  # strict or not: a failure at run time names the plugin
                    _remember_plugin(self, ep.name)
            except PlaitError as exc:
                if strict or ours:
                    raise PlaitError(f"{exc}; fix, reinstall or uninstall it") from exc
                self.broken[ep.name] = str(exc)

    def provider_label(self, provider: str) -> str:
        """``provider (distribution version)`` as ``plait list`` shows it."""
        dist = self.distributions.get(provider)
        if dist is None:
            return provider
        name, version = dist
        return f"{provider} {version}" if name == provider else f"{provider} ({name} {version})"

    # look-up ----------------------------------------------------------------------------

    def kinds(self) -> list[str]:
        """Every kind, in the order of the data-flow picture."""
        return list(KINDS)

    def names(self, kind: str) -> list[str]:
        """Sorted names registered under ``kind``."""
        return sorted(self._entries[kind])

    def components(self, kind: str | None = None) -> Iterator[Component]:
        """Every component, or those of one kind."""
        for k in [kind] if kind else KINDS:
            yield from (self._entries[k][n] for n in sorted(self._entries[k]))

    def get(self, kind: str, name: str) -> Component:
        """The component ``name`` of ``kind``; unknown names fail with the nearest ones."""
        if kind not in KINDS:
            raise PlaitError(f"unknown component kind '{kind}'; {did_you_mean(kind, KINDS)}")
        try:
            return self._entries[kind][name]
        except KeyError:
            from framework.components.memory import former_provider

            raise PlaitError(
                f"unknown {kind} '{name}'; "
                + (
                    former_provider(KINDS[kind].group, name)
                    or did_you_mean(name, self._entries[kind])
                )
            ) from None

    def contract(self, kind: str, node: Mapping[str, Any] | Any) -> Contract:
        """The contract of the component a config node selects; a raw ``_target_`` node
        declares nothing (the defaults)."""
        name = node.get(NAME_KEY) if hasattr(node, "get") else None
        return self.get(kind, name).contract if name is not None else Contract()

    def declaring(self, kind: str, capability: str) -> list[str]:
        """Names of ``kind`` whose contract declares ``capability`` (for messages)."""
        return [c.name for c in self.components(kind) if capability in c.contract.declared()]

    # Hydra ------------------------------------------------------------------------------

    def publish(self, store: Any = None) -> None:
        """Store every component in Hydra's ConfigStore as an option of its kind's group."""
        from framework.components.lazy_node import store_lazily

        if store is None:
            from hydra.core.config_store import ConfigStore

            store = ConfigStore.instance()
        for comp in self.components():
            spec = KINDS[comp.kind]
            package = spec.group.replace("/", ".") + (f".{comp.name}" if spec.multi else "")
            store_lazily(store, spec.group, comp.name, lambda c=comp: c.schema, package,
                         comp.provider)  # fmt: skip

    # building ---------------------------------------------------------------------------

    def build(self, kind: str, cfg: Mapping[str, Any] | Any, **runtime: Any) -> Any:
        """Build the component that config node ``cfg`` names, injecting runtime values.

        ``cfg`` holds ``_name_`` (a registered name) or, for a local experiment, a raw
        ``_target_`` (a dotted path to a callable). Runtime values the builder does not take
        are not passed.
        """
        from omegaconf import DictConfig, OmegaConf

        params = (
            OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        )
        if TARGET_KEY in params:
            if not self.allow_targets:
                raise PlaitError(
                    f"{kind} config names a Python callable ({TARGET_KEY}: "
                    f"{params[TARGET_KEY]}); Plait builds registered components only: use a "
                    f"name (`plait list {kind}`), or set allow_targets=true to trust this recipe"
                )
            from hydra.utils import get_method

            builder = get_method(params.pop(TARGET_KEY))
            label = builder.__name__
        else:
            name = params.pop(NAME_KEY, None)
            if name is None:
                raise PlaitError(f"{kind} config has no '{NAME_KEY}' or '_target_' key")
            builder = self.get(kind, name).builder
            label = name
        for common in KINDS[kind].common:
            if params.pop(common.name, common.default) != common.default:
                raise PlaitError(
                    f"{kind} '{label}': '{common.name}' is handled before building, not by "
                    "the builder (models: framework.models.sizing.build_model)"
                )
        accepted = inspect.signature(builder).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        extra = {k: v for k, v in runtime.items() if takes_any or k in accepted}
        obj = builder(**params, **extra)
        protocol = KINDS[kind].protocol
        if not protocol.check(obj):
            raise PlaitError(
                f"{kind} '{label}' built {type(obj).__name__}, but a {kind} must be "
                f"{protocol.what}; fix the plugin's builder"
            )
        return obj


STRICT_ENV = "PLAIT_STRICT_PLUGINS"
"""Environment variable: ``1`` makes a plugin that fails to import or register an error."""


def default_registry(strict: bool | None = None) -> Registry:
    """A registry holding Plait's built-ins and every installed plugin (all through the
    ``plait.plugins`` entry points). A broken plugin is reported in one line on stderr and
    left out, unless ``strict`` (default: ``$PLAIT_STRICT_PLUGINS``)."""
    import os
    import sys

    if strict is None:
        strict = os.environ.get(STRICT_ENV, "").lower() in ("1", "true", "yes")
    registry = Registry()
    registry.load_entry_points(strict=strict)
    if "plait" not in registry.providers:
        raise PlaitError(
            "Plait's built-in components are not registered: the 'plait' distribution is not "
            "installed in this environment; install it with: pip install -e ."
        )
    from framework.components.collisions import shadowing_lines

    registry.shadowed = shadowing_lines(registry)
    if strict and registry.shadowed:
        raise PlaitError(f"{registry.shadowed[0]}; uninstall one of them or rename the option")
    stop = f"set {STRICT_ENV}=1 or strict_plugins=true to stop instead"
    for provider, reason in registry.broken.items():
        print(f"plait: warning: {reason}; plugin '{provider}' is disabled ({stop})",
              file=sys.stderr)  # fmt: skip
    for line in [*registry.disabled.values(), *registry.shadowed]:
        print(f"plait: warning: {line} ({stop})", file=sys.stderr)
    from framework.components.memory import remember

    remember(registry)
    return registry


# plugins ----------------------------------------------------------------------------------


def _remember_plugin(registry: Registry, provider: str) -> None:
    """Record where a third party's components live, for :func:`framework.errors.plugin_error`."""
    label = registry.provider_label(provider)
    for comp in registry.components():
        if comp.provider != provider:
            continue
        module = getattr(comp.builder, "__module__", None) or ""
        top = module.split(".", 1)[0]
        if top and top != "framework":
            entry = PLUGIN_MODULES.setdefault(top, (label, []))
            record = (comp.kind, comp.name, module, _qualname(comp.builder))
            if record not in entry[1]:  # each default_registry() registers the plugin again
                entry[1].append(record)


def _qualname(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", "") or getattr(type(fn), "__qualname__", ""))


def _where(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
