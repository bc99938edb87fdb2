"""Whether training reads the training split as a stream of token shards
(``data.train_stream``), decided from the config alone (no torch: it runs at compose)."""

from __future__ import annotations

from typing import Any


def wanted(data_cfg: Any, packed: bool) -> bool:
    """Whether training reads the training split as a stream of token shards:
    ``data.train_stream``, or (null) with ``data/engine=ray``; packed tasks only."""
    asked = data_cfg.get("train_stream")
    if asked is None:
        engine = data_cfg.get("engine") or {}
        asked = engine.get("name", "local") == "ray"
    return bool(asked) and packed and not data_cfg.get("streaming", False)


def problems(data: dict[str, Any], packed: bool | None) -> list[str]:
    """What is wrong with an explicit ``data.train_stream=true`` for this task, as phrases."""
    if data.get("train_stream") is not True:
        return []
    if data.get("streaming"):
        return ["data.train_stream=true and data.streaming=true: streaming already reads the "
                "source as a stream; keep one of them"]  # fmt: skip
    if packed is False:
        return ["data.train_stream=true streams token blocks, for causal LM (packed) tasks; "
                "set it to false (or null) for this task"]  # fmt: skip
    return []
