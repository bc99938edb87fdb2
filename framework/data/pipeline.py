"""The data stage: source -> split -> tokenizer (trained on train) -> task datasets + DataInfo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.data.info import DataInfo
from framework.registry import Registry


@dataclass
class PreparedData:
    """What the data stage hands to the rest of the run."""

    datasets: dict[str, Any]
    """Torch datasets per split (``train``, ``val``, optional ``test``)."""
    info: DataInfo
    """Facts the builders need."""
    tokenizer: Any
    """The trained tokenizer."""


def build_data(
    data_cfg: Any, task: Any, registry: Registry, seed: int, run_dir: str | Path | None
) -> PreparedData:
    """Run the data stage described by ``data_cfg`` for ``task``."""
    records = registry.build("source", data_cfg.source)
    splits = registry.build("split", data_cfg.split)(records, seed)
    if data_cfg.balance is not None:
        splits["train"] = registry.build("balance", data_cfg.balance)(splits["train"], seed)
    tokenizer = registry.build("tokenizer", data_cfg.tokenizer)
    tokenizer.train(splits["train"]["text"])
    if run_dir is not None:
        tokenizer.save(Path(run_dir) / "tokenizer.json")
    datasets, info = task.prepare(splits, tokenizer, data_cfg.max_length)
    return PreparedData(datasets, info, tokenizer)


def estimate_info(data_cfg: Any, registry: Registry) -> DataInfo:
    """A DataInfo from the config alone, for ``plait show`` (vocabulary: the configured bound)."""
    tokenizer = registry.build("tokenizer", data_cfg.tokenizer)
    return DataInfo(vocab_size=tokenizer.static_vocab_size, max_length=data_cfg.max_length)
