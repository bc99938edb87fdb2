"""Hydra's ConfigStore entries whose OmegaConf node is made when Hydra first loads them.

``ConfigStore.store`` turns every dataclass into an OmegaConf node at once; Plait publishes
every registered component (well over a hundred) before each compose, and a recipe loads a
dozen of them. An entry stored here holds a function that makes the dataclass, and turns it
into the node only when Hydra reads ``node`` (``ConfigStore.load`` copies the entry, then
reads and deep-copies its node); copies stay lazy, and a pickled entry (a launcher sending
Hydra's state to its worker processes) travels as Hydra's own eager entry."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hydra.core.config_store import ConfigNode, ConfigStore


class LazyConfigNode(ConfigNode):
    """A :class:`ConfigNode` whose ``node`` is ``OmegaConf.structured(make())``, made on the
    first read (each copy Hydra takes makes its own)."""

    def __init__(self, make: Callable[[], type], **fields: Any) -> None:
        self._make = make
        self._node: Any = None
        super().__init__(node=None, **fields)

    @property  # type: ignore[override]
    def node(self) -> Any:
        """The OmegaConf node of the schema ``make`` returns."""
        if self._node is None:
            from omegaconf import OmegaConf

            self._node = OmegaConf.structured(self._make())
        return self._node

    @node.setter
    def node(self, value: Any) -> None:
        self._node = value

    def __copy__(self) -> LazyConfigNode:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyConfigNode:
        clone = self.__copy__()
        clone._node = copy.deepcopy(self._node, memo)
        return clone

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickled (a launcher sending Hydra's state to its workers): an eager entry, its
        # node made here; a dataclass made at run time does not survive pickling by value
        return ConfigNode, (self.name, self.node, self.group, self.package, self.provider)


def store_lazily(
    store: ConfigStore,
    group: str,
    name: str,
    make: Callable[[], type],
    package: str | None,
    provider: str | None,
) -> None:
    """What ``store.store(group=group, name=name, node=make(), ...)`` stores, with the
    node made on Hydra's first read of it."""
    folder = store.repo
    for part in group.split("/"):
        folder = folder.setdefault(part, {})
    file = f"{name}.yaml"
    folder[file] = LazyConfigNode(make, name=file, group=group, package=package,
                                  provider=provider)  # fmt: skip
