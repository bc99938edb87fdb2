"""Image classification: uint8 images scaled to [0, 1] and standardized per channel with
the training split's mean and standard deviation; one class per image."""

from __future__ import annotations

from typing import Any

from framework.datainfo import DataInfo
from framework.errors import PlaitError
from framework.records import IMAGE, LABEL, column, image_array
from framework.tasks.base import Task, check_head


class ImageTensors:
    """(image, label) pairs of one split, held as one uint8 tensor (N, C, H, W)."""

    def __init__(self, images: Any, labels: Any, mean: Any, std: Any) -> None:
        self.images, self.labels, self.mean, self.std = images, labels, mean, std
        self.augment: Any = None
        """Called on each uint8 (C, H, W) image before normalization (training split only)."""

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        image = self.images[i] if self.augment is None else self.augment(self.images[i])
        x = image.float().div_(255.0)
        return (x - self.mean) / self.std, self.labels[i]


def _as_array(ds: Any, size: int | None) -> Any:
    """Images of a split as a uint8 array (N, C, H, W)."""
    import numpy as np

    arr = image_array(ds)
    if arr is not None:  # Array2D / Array3D: read through Arrow in one go
        return arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2)
    images = list(ds[IMAGE])  # PIL images (image_folder): resized to one size when asked
    if size is None:
        sizes = {img.size for img in images}
        if len(sizes) > 1:
            shown = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:4])
            raise PlaitError(
                f"task image_classification: the images come in {len(sizes)} sizes ({shown}"
                f"{', ...' if len(sizes) > 4 else ''}); set task.image_size=N to resize them"
            )
    out = []
    for img in images:
        rgb = img.convert("RGB")
        a = np.asarray(rgb if size is None else rgb.resize((size, size)), dtype=np.uint8)
        out.append(a.transpose(2, 0, 1))
    return np.stack(out)


class ImageClassification(Task):
    """One class per image; the model returns (batch, classes) logits."""

    default_loss = "cross_entropy"
    default_metrics = ("accuracy", "f1_macro")
    unit = "samples"
    target = "class"
    inputs = "images"

    def __init__(self, image_size: int | None, num_classes: int | None) -> None:
        self.image_size = image_size
        self.num_classes = num_classes
        self.restored: DataInfo | None = None

    def prepare(
        self, splits: dict[str, Any], tokenizer: Any, info: DataInfo
    ) -> tuple[dict[str, Any], DataInfo]:
        """Tensors per split; the normalization comes from the training split only."""
        import torch

        if IMAGE not in splits["train"].column_names:
            raise PlaitError("task image_classification needs images; this source has text")
        if not info.num_classes:
            raise PlaitError("task image_classification needs class labels")
        info.target = self.target
        info.num_outputs = check_head(info, self.num_classes)
        arrays = {n: torch.from_numpy(_as_array(ds, self.image_size)) for n, ds in splits.items()}
        if self.restored is not None and self.restored.image_mean:
            mean = torch.tensor(self.restored.image_mean).view(-1, 1, 1)
            std = torch.tensor(self.restored.image_std).view(-1, 1, 1)
        else:
            train = arrays["train"].float().div(255.0)
            mean = train.mean(dim=(0, 2, 3)).view(-1, 1, 1)
            std = train.std(dim=(0, 2, 3)).clamp(min=1e-3).view(-1, 1, 1)
        out = {
            n: ImageTensors(a, torch.tensor(column(splits[n], LABEL)), mean, std)
            for n, a in arrays.items()
        }
        info.image_shape = list(arrays["train"].shape[1:])
        info.image_mean, info.image_std = mean.flatten().tolist(), std.flatten().tolist()
        return out, info

    def restore(self, info: DataInfo) -> None:
        """The training split's per-channel mean and spread, from the trained run."""
        self.restored = info

    def forward(self, model: Any, batch: Any) -> tuple[Any, Any]:
        """Class logits and the labels."""
        x, y = batch
        return model(x), y

    def count(self, batch: Any) -> int:
        """Images in the batch."""
        return batch[0].shape[0]


def image_classification(
    image_size: int | None = None, num_classes: int | None = None
) -> ImageClassification:
    """Image classification (cross-entropy; accuracy and macro-F1 by default).

    Args:
        image_size: Resize images to this square size (needed when they differ in size).
        num_classes: Classes the head is built for; null: as many as the data holds. Data
            with more classes stops the run.
    """
    return ImageClassification(image_size, num_classes)
