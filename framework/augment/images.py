"""Image augmentation through albumentations: any transform by name with its parameters, and
the presets ``basic`` and ``none``. Applied on the fly to the training split only, in the
DataLoader workers, before the task's normalization; validation and test images are never
augmented. Names and parameters are checked when the config is composed."""

from __future__ import annotations

import inspect
from typing import Any

from framework.errors import PlaitError, did_you_mean, install_hint


def _albumentations() -> Any:
    try:
        import albumentations as A
    except ImportError:
        raise install_hint(
            "image augmentation (albumentations)", "pip install albumentations"
        ) from None
    return A


def transform_names() -> list[str]:
    """Every albumentations transform class name."""
    A = _albumentations()
    return sorted(
        n for n in dir(A)
        if isinstance(getattr(A, n), type) and issubclass(getattr(A, n), A.BasicTransform)
        and n not in ("BasicTransform", "DualTransform", "ImageOnlyTransform")
    )  # fmt: skip


def make_transform(spec: dict[str, Any]) -> Any:
    """One albumentations transform from ``{name: Rotate, limit: 10, ...}``; unknown names,
    unknown parameters and bad values stop with one line."""
    A = _albumentations()
    params = dict(spec)
    name = params.pop("name", None)
    if not name:
        raise PlaitError(
            f"data.image_augment: a transform needs a name, as in {{name: Rotate}}; got {spec}"
        )
    cls = getattr(A, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, A.BasicTransform)):
        raise PlaitError(
            f"data.image_augment: unknown albumentations transform '{name}'; "
            f"{did_you_mean(str(name), transform_names())}"
        )
    accepted = inspect.signature(cls.__init__).parameters
    unknown = [k for k in params if k not in accepted]
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        known = [k for k in accepted if k not in ("self", "args", "kwargs")]
        raise PlaitError(
            f"data.image_augment: {name} has no parameter '{unknown[0]}'; "
            f"{did_you_mean(unknown[0], known)}"
        )
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(**params)
    except Exception as exc:  # albumentations validates with pydantic: first field and message
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = (
            f"{lines[1]}: {lines[2]}"
            if len(lines) >= 3
            else (lines[0] if lines else type(exc).__name__)
        )
        raise PlaitError(f"data.image_augment: {name}({params}): {detail}") from None


class ImageAugment:
    """A list of transform specs; :meth:`transforms` builds them for an image shape."""

    def __init__(self, specs: list[dict[str, Any]] | None = None, preset: Any = None) -> None:
        self.specs = [dict(s) for s in specs or []]
        self.preset = preset
        """``(channels, height, width) -> specs`` for presets that depend on the images."""

    def transforms(self, channels: int = 3, height: int = 32, width: int = 32) -> list[Any]:
        """The albumentations transforms for images of this shape."""
        specs = self.preset(channels, height, width) if self.preset else self.specs
        return [make_transform(s) for s in specs]


def albumentations(transforms: list[dict[str, Any]] = []) -> ImageAugment:  # noqa: B006
    """Any albumentations transforms, in order: ``[{name: HorizontalFlip, p: 0.5},
    {name: Affine, rotate: [-10, 10]}]``.

    Args:
        transforms: One mapping per transform: ``name`` (the albumentations class) and its
            parameters.
    """
    return ImageAugment(list(transforms))


def basic(
    padding: int = 4, rotate: float = 10.0, flip: bool = True, jitter: float = 0.2
) -> ImageAugment:
    """A standard recipe: random crop after zero padding, a small rotation, horizontal flip,
    brightness/contrast jitter (and saturation/hue on colour images).

    Args:
        padding: Pixels of padding before the random crop back to the original size.
        rotate: Largest rotation in degrees.
        flip: Flip horizontally half of the time.
        jitter: Strength of the brightness/contrast (and colour) jitter.
    """

    def specs(channels: int, height: int, width: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"name": "PadIfNeeded", "min_height": height + 2 * padding,
             "min_width": width + 2 * padding, "border_mode": 0, "fill": 0},
            {"name": "RandomCrop", "height": height, "width": width},
            {"name": "Affine", "rotate": [-rotate, rotate], "p": 0.5},
        ]  # fmt: skip
        if flip:
            out.append({"name": "HorizontalFlip", "p": 0.5})
        if channels == 3:
            out.append({"name": "ColorJitter", "brightness": jitter, "contrast": jitter,
                        "saturation": jitter, "hue": jitter / 4, "p": 0.5})  # fmt: skip
        else:
            out.append({"name": "RandomBrightnessContrast", "brightness_limit": jitter,
                        "contrast_limit": jitter, "p": 0.5})  # fmt: skip
        return out

    return ImageAugment(preset=specs)


def none() -> ImageAugment:
    """No augmentation."""
    return ImageAugment([])


class AugmentImages:
    """The composed transforms applied to one uint8 (C, H, W) tensor at a time.

    Seeded from ``torch.initial_seed()``: in DataLoader workers that seed differs per worker
    and per epoch (drawn from the loader's seeded generator), in the main process it is the
    run's seed and the stream advances, so variants change every epoch and repeat under the
    same seed.
    """

    def __init__(self, transforms: list[Any]) -> None:
        A = _albumentations()
        self.compose = A.Compose(transforms)
        self._seeded_for: int | None = None

    def __call__(self, image: Any) -> Any:
        import numpy as np
        import torch

        seed = torch.initial_seed() % (2**32)
        if seed != self._seeded_for:
            self.compose.set_random_seed(seed)
            self._seeded_for = seed
        hwc = np.ascontiguousarray(image.numpy().transpose(1, 2, 0))
        out = self.compose(image=hwc)["image"]
        if out.ndim == 2:
            out = out[:, :, None]
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))
