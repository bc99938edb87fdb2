"""Image augmentation: albumentations transforms by name, checked at compose; the training
split is augmented on the fly, validation and test never; the same seed repeats variants."""

from __future__ import annotations

import pytest
import torch

from framework.augment.images import AugmentImages, basic, make_transform
from framework.errors import PlaitError
from tests.cli.test_errors import assert_one_line_error

SMALL = ["recipe=fashion_mnist_cnn", "data.source.max_train=300"]


def test_an_unknown_transform_fails_at_compose_with_suggestions(cli):
    transforms = "data.image_augment.albumentations.transforms=[{name: Rotat, limit: 10}]"
    proc = cli("show", *SMALL, "data/image_augment=[albumentations]", transforms)
    assert_one_line_error(proc, "unknown albumentations transform 'Rotat'", "'Rotate'")
    assert "data stage" not in proc.stdout


def test_bad_parameters_get_one_line_each():
    with pytest.raises(PlaitError, match="Rotate has no parameter 'limitt'; did you mean 'limit'"):
        make_transform({"name": "Rotate", "limitt": 10})
    with pytest.raises(PlaitError, match=r"Rotate\(\{'limit': 'x'\}\): limit"):
        make_transform({"name": "Rotate", "limit": "x"})
    with pytest.raises(PlaitError, match="needs a name"):
        make_transform({"limit": 3})


def test_basic_keeps_shape_and_dtype_and_repeats_under_a_seed():
    images = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)

    def variants(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        fresh = AugmentImages(basic().transforms(1, 28, 28))
        return [fresh(img) for img in images]

    first, again, other = variants(1), variants(1), variants(2)
    assert all(v.shape == (1, 28, 28) and v.dtype == torch.uint8 for v in first)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert any(not torch.equal(a, b) for a, b in zip(first, other))
    assert any(not torch.equal(v, img) for v, img in zip(first, images))


def test_only_the_training_split_is_augmented(registry):
    from framework.config.compose import compose
    from framework.config.validate import validate
    from framework.data.stage import prepare_data

    cfg = compose(registry, [*SMALL, "data/image_augment=[basic]"])
    validate(cfg, registry)
    data = prepare_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed)
    train, val, test = (data.datasets[n] for n in ("train", "val", "test"))
    assert train.augment is not None and val.augment is None and test.augment is None
    torch.manual_seed(0)
    changed = sum(not torch.equal(train[i][0], _plain(train, i)) for i in range(20))
    assert changed >= 10  # crops, rotations and flips move most images
    assert all(torch.equal(val[i][0], _plain(val, i)) for i in range(20))


def _plain(ds, i):
    """Image i of ``ds`` normalized without augmentation."""
    return (ds.images[i].float() / 255.0 - ds.mean) / ds.std


def test_preview_draws_originals_and_variants_of_real_images(registry, tmp_path):
    import numpy as np
    from PIL import Image

    from framework.cli.main import main

    args = [*SMALL, "data/image_augment=[basic]", "n=4", f"out={tmp_path}"]
    assert main(["augment-preview", *args]) == 0
    first = np.asarray(Image.open(tmp_path / "augment_preview.png").convert("L"), dtype=float)
    assert main(["augment-preview", *args]) == 0  # the same seed draws the same grid
    again = np.asarray(Image.open(tmp_path / "augment_preview.png").convert("L"), dtype=float)
    assert first.shape == (480, 440)  # 4 columns x (1 original + 3 variant rows)
    assert np.array_equal(first, again)
    rows = np.array_split(first[40:], 4)  # below the title: one band per row of images
    assert all(band.std() > 20 for band in rows)  # garments on black, not blank panels
    assert not np.array_equal(rows[0][: len(rows[1])], rows[1][: len(rows[0])])
