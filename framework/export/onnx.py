"""A classifier (or regressor) as an ONNX graph through ``torch.onnx`` (the dynamo exporter),
with dynamic batch size (and text length up to the run's ``data.max_length``)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from framework.errors import PlaitError, install_hint


def save_onnx(model: Any, trained: Any, out: Path) -> str:
    """Write ``model.onnx`` and ``onnx.json`` (inputs, labels) into ``out``; returns the
    card's lines on running it."""
    import logging
    import warnings

    import torch

    try:
        import onnxscript  # noqa: F401
    except ImportError:
        raise install_hint(
            "export format=onnx", "pip install onnx onnxscript onnxruntime"
        ) from None
    info = trained.info
    first = next(iter(inspect.signature(model.forward).parameters))
    batch = torch.export.Dim("batch", min=1)
    if trained.tokenizer is not None:  # token ids and their real lengths
        length = torch.export.Dim("time", min=2, max=int(trained.cfg.data.max_length))
        ids = torch.randint(0, info.vocab_size, (2, min(8, int(trained.cfg.data.max_length))))
        example = (ids, torch.tensor([ids.shape[1], max(1, ids.shape[1] // 2)]))
        names, shapes = (
            ["input_ids", "lengths"],
            {first: {0: batch, 1: length}, "lengths": {0: batch}},
        )
        inputs = {"input_ids": "int64 (batch, time), padded", "lengths": "int64 (batch,)"}
    else:  # images, normalized as the run's data stage does
        example = (torch.randn(2, *info.image_shape),)
        names, shapes = ["pixels"], {first: {0: batch}}
        inputs = {"pixels": f"float32 (batch, {', '.join(map(str, info.image_shape))})"}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model.eval(), example, str(out / "model.onnx"), input_names=names,
                              output_names=["logits"], dynamic_shapes=shapes, dynamo=True,
                              verbose=False)  # fmt: skip
    except Exception as exc:
        raise PlaitError(
            f"export format=onnx: torch.onnx could not export model "
            f"'{trained.cfg.model.get('_name_')}': {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}; use format=safetensors"
        ) from exc
    meta = {"inputs": inputs, "labels": list(info.labels or []), "target": info.target}
    (out / "onnx.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    if trained.tokenizer is not None:
        trained.tokenizer.save(out / "tokenizer.json")
    return (
        "`model.onnx` (inputs and labels in `onnx.json`; `tokenizer.json` for text):\n\n"
        "```python\nimport onnxruntime, numpy as np\n"
        "session = onnxruntime.InferenceSession(FOLDER + '/model.onnx')\n"
        f"logits = session.run(None, {{{', '.join(repr(n) + ': ...' for n in names)}}})[0]\n```"
    )
