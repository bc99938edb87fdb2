"""Every registered option builds at a tiny size and passes its kind's protocol check."""

from __future__ import annotations

import pytest
import torch

from framework.data.info import DataInfo
from framework.registry import NAME_KEY, default_registry

INFO = DataInfo(vocab_size=40, max_length=8)

# configuration a component needs to build small (everything else at its defaults)
SMALL = {
    ("source", "python_stdlib"): {"max_chars": 10_000},
    ("source", "wikipedia_sample"): {"max_chars": 10_000},
    ("model", "gpt"): {"n_layer": 1, "n_head": 2, "d_model": 8},
}


def runtime_for(tmp_path) -> dict:
    params = [torch.nn.Parameter(torch.zeros(2, 2))]
    return {
        "info": INFO,
        "params": params,
        "optimizer": torch.optim.SGD(params, lr=0.1),
        "total_steps": 10,
        "run_dir": str(tmp_path),
    }


COMPONENTS = [(c.kind, c.name) for c in default_registry().components()]


@pytest.mark.parametrize(("kind", "name"), COMPONENTS, ids=[f"{k}-{n}" for k, n in COMPONENTS])
def test_component_builds(kind, name, registry, tmp_path):
    cfg = {NAME_KEY: name, **SMALL.get((kind, name), {})}
    if (kind, name) == ("source", "text_files"):
        (tmp_path / "a.txt").write_text("hello world\n")
        cfg["paths"] = [str(tmp_path / "*.txt")]
    obj = registry.build(kind, cfg, **runtime_for(tmp_path))
    if kind == "model":
        logits = obj(torch.randint(0, INFO.vocab_size, (2, INFO.max_length)))
        assert logits.shape == (2, INFO.max_length, INFO.vocab_size)
        logits.sum().backward()
