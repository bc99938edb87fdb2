"""Plait's Hydra sweeper (``hydra/sweeper=plait``, the default of ``plait train``): a grid of
the command line's sweeps, or an Optuna search (``search=random``, ``tpe``, ``grid``), run
through Hydra's launcher. Hydra imports this module in every Hydra app of the environment, so
it imports nothing heavy; the work is in ``framework.search.sweep``."""

# no `from __future__ import annotations`: Hydra's plugin scan imports this module without
# registering it in sys.modules first, and dataclasses then cannot read string annotations
from dataclasses import dataclass
from typing import Any, Dict, Optional  # noqa: UP035

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper


@dataclass
class PlaitSweeperConf:
    """``hydra/sweeper=plait``: the search itself is the ``search`` node of the run config."""

    _target_: str = "hydra_plugins.plait_sweeper.plait_sweeper.PlaitSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045


ConfigStore.instance().store(
    group="hydra/sweeper", name="plait", node=PlaitSweeperConf, provider="plait"
)


class PlaitSweeper(Sweeper):
    """Runs the trials of ``plait train -m`` through the configured launcher."""

    def __init__(self, max_batch_size: Optional[int] = None, params: Any = None) -> None:  # noqa: UP045
        self.params = dict(params or {})
        self.config: Any = None
        self.launcher: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from framework.registry import default_registry
        from framework.search.sweep import run_sweep

        extra = [f"{k}={v}" for k, v in self.params.items()]
        return run_sweep(self.config, self.launcher, [*extra, *arguments], default_registry())
