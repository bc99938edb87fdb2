"""Image classifiers for small images (8x8 digits, 28x28 MNIST-like, 32x32): a plain CNN
and a small ResNet. The channel count and the number of classes come from ``DataInfo``."""

from __future__ import annotations

from typing import Annotated, Any

from framework.checks import COUNT, SHARE, Check
from framework.datainfo import DataInfo
from framework.errors import PlaitError


def _image_info(info: DataInfo, name: str) -> tuple[int, int]:
    if not info.image_shape:
        raise PlaitError(f"model '{name}' reads images; the data has none (a text source?)")
    if not info.num_outputs:
        raise PlaitError(f"model '{name}' is a classifier; the data has no class labels")
    return info.image_shape[0], info.num_outputs


def cnn(
    channels: Annotated[list[int], Check(each=COUNT)] = [32, 64],  # noqa: B006
    hidden: Annotated[int, COUNT] = 128,
    dropout: Annotated[float, SHARE] = 0.3,
    *,
    info: DataInfo,
) -> Any:
    """A plain CNN: per stage two 3x3 conv + batch norm + ReLU, then 2x2 max pooling; global
    average pooling, a hidden layer and the classifier.

    Args:
        channels: Output channels of each stage (each stage halves the resolution).
        hidden: Width of the hidden fully connected layer.
        dropout: Dropout before the classifier.
    """
    in_ch, classes = _image_info(info, "cnn")
    from torch import nn

    layers: list[nn.Module] = []
    c = in_ch
    for out in channels:
        for _ in range(2):
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            c = out
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(c, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, classes),
    ]
    return nn.Sequential(*layers)


def resnet(
    widths: Annotated[list[int], Check(each=COUNT)] = [16, 32, 64],  # noqa: B006
    blocks: Annotated[int, COUNT] = 2,
    *,
    info: DataInfo,
) -> Any:
    """A small ResNet (He et al., 2016) for 28x28 / 32x32 images: a 3x3 stem, stages of basic
    residual blocks (the first of each later stage strides by 2), global average pooling.

    Args:
        widths: Channels of each stage.
        blocks: Basic blocks per stage.
    """
    in_ch, classes = _image_info(info, "resnet")
    import torch
    from torch import nn

    class Basic(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
            )  # fmt: skip
            self.skip = (
                nn.Identity()
                if stride == 1 and c_in == c_out
                else nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                )
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.body(x) + self.skip(x))

    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(),
    ]  # fmt: skip
    c = widths[0]
    for i, w in enumerate(widths):
        for b in range(blocks):
            layers.append(Basic(c, w, 2 if i > 0 and b == 0 else 1))
            c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*layers)
