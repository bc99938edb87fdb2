"""Adds the config folders of third-party Plait packages to Hydra's search path.

A package names a package folder of config groups in the entry-point group ``plait.conf``
(``my_pkg = "my_pkg.conf"``). Hydra imports this module in every Hydra app of the
environment, so it imports nothing heavy.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class PlaitSearchPathPlugin(SearchPathPlugin):
    """Append ``pkg://<value>`` for every ``plait.conf`` entry point, in name order."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for ep in sorted(entry_points(group="plait.conf"), key=lambda e: e.name):
            search_path.append(provider=f"plait.conf:{ep.name}", path=f"pkg://{ep.value}")
