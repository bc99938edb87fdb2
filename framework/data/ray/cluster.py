"""Joining (or starting) the Ray instance the data stage runs on, and the checks made when a
config is composed: Ray installed, an address that answers."""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from framework.errors import PlaitError

log = logging.getLogger("plait")

INSTALL = "pip install 'plait[ray]'"
"""What installs the Ray engine's dependencies."""


def ray_installed() -> bool:
    """Whether ``ray`` and Ray Data import here (looked up, not imported)."""
    return importlib.util.find_spec("ray") is not None and _has_ray_data()


def _has_ray_data() -> bool:
    try:
        return importlib.util.find_spec("ray.data") is not None and (
            importlib.util.find_spec("pyarrow") is not None
        )
    except (ImportError, ValueError):
        return False


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``ray://host:port`` or ``host:port``; None when it is neither."""
    rest = address[len("ray://") :] if address.startswith("ray://") else address
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def address_problem(address: str | None, timeout: float = 3.0) -> str | None:
    """Why ``data.engine.address`` cannot be used, or None (a TCP connect, no Ray import)."""
    if address is None:
        return None
    if address == "auto":
        if os.environ.get("RAY_ADDRESS"):
            return address_problem(os.environ["RAY_ADDRESS"], timeout)
        current = "/tmp/ray/ray_current_cluster"
        if not os.path.isfile(current):
            return (
                "data.engine.address=auto finds no Ray cluster on this machine; start one with "
                "`ray start --head`, name one (ray://host:10001), or use address=null to start "
                "a Ray instance for the run"
            )
        return address_problem(open(current, encoding="utf-8").read().strip() or None, timeout)
    hp = _host_port(address)
    if hp is None:
        return (
            f"data.engine.address={address!r} is not an address; use null, auto, host:6379 or "
            "ray://host:10001"
        )
    try:
        with socket.create_connection(hp, timeout=timeout):
            return None
    except OSError as e:
        return (
            f"data.engine.address={address!r}: nothing answers at {hp[0]}:{hp[1]} "
            f"({e.strerror or e}); start the cluster with `ray start --head` there, or fix the "
            "address"
        )


def engine_problems(data: dict[str, Any]) -> list[str]:
    """What stops ``data/engine=ray`` from running this data config, as phrases (empty: none,
    or the local engine)."""
    engine = data.get("engine") or {}
    if engine.get("name", "local") != "ray":
        return []
    if not ray_installed():
        return [f"data/engine=ray needs Ray Data, which is not installed: {INSTALL}"]
    problems = []
    if data.get("streaming"):
        problems.append(
            "data.streaming=true reads the source lazily in this process; with data/engine=ray "
            "set data.streaming=false (Ray streams the blocks itself)"
        )
    said = address_problem(engine.get("address"))
    if said:
        problems.append(said)
    return problems


def ray_module() -> Any:
    """``ray``, with Ray Data, imported on use (one line naming the extra when missing)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise PlaitError(
            f"data/engine=ray needs Ray Data, which is not installed: {INSTALL}"
        ) from None
    return ray


@contextmanager
def connected(engine: Any) -> Iterator[Any]:
    """Ray, initialized for the data stage: the instance already running in this process,
    the cluster at ``engine.address``, or a local instance started (and stopped) here."""
    ray = ray_module()
    for name in ("ray", "ray.data", "ray.data._internal", "ray._private"):
        logging.getLogger(name).setLevel(logging.ERROR)
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {
            "log_to_driver": False,
            "include_dashboard": False,
            "logging_level": logging.ERROR,
        }
        if engine.address is None:  # a new instance, even where a cluster runs already
            kwargs["address"] = "local"
            if engine.num_cpus is not None:
                kwargs["num_cpus"] = engine.num_cpus
            if engine.object_store_mb is not None:
                kwargs["object_store_memory"] = engine.object_store_mb * 1024 * 1024
        else:
            kwargs["address"] = engine.address
            kwargs.pop("include_dashboard")
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise PlaitError(
                f"data/engine=ray cannot start or join Ray at {engine.address or 'this machine'}:"
                f" {first}; check data.engine.address (`ray status` there tells)"
            ) from None
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.verbose_stats_logs = False
    try:
        yield ray
    except PlaitError as e:  # raised in a task: Ray's wrapper carries the whole traceback
        raise _plain(e) from None
    except Exception as e:
        found = _plain(e)
        if found is e:
            raise
        raise found from None
    finally:
        if started:
            ray.shutdown()


def _plain(error: BaseException) -> BaseException:
    """The PlaitError a Ray task (or a Ray Data operator) raised, out of Ray's wrappers
    (their ``cause`` or ``__cause__``); ``error`` itself when there is none."""
    from ray.exceptions import RayError

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PlaitError) and not isinstance(current, RayError):
            return current
        current = getattr(current, "cause", None) or current.__cause__
    return error


def step_problems(data: dict[str, Any], registry: Any) -> list[str]:
    """The enabled curate and clean steps that cannot run on ``data/engine=ray``: neither
    per-record (``streams``) nor with a distributed form (``distributed``)."""
    from framework.kinds import ENABLED_KEY, NAME_KEY

    if (data.get("engine") or {}).get("name", "local") != "ray":
        return []
    out = []
    for kind in ("curate", "clean"):
        for key, node in (data.get(kind) or {}).items():
            if not isinstance(node, dict) or not node.get(ENABLED_KEY, True):
                continue
            contract = registry.contract(kind, node)
            if contract.streams or contract.distributed is not None:
                continue
            able = sorted(
                set(registry.declaring(kind, "streams"))
                | set(registry.declaring(kind, "distributed"))
            )
            out.append(
                f"data step '{node.get(NAME_KEY, key)}' ({kind}) needs the whole data set on "
                f"one machine and has no Ray form ({kind} steps Ray runs: {', '.join(able)}); "
                f"take it out, set data.{kind}.{key}.{ENABLED_KEY}=false, or use "
                "data/engine=local"
            )
    return out
