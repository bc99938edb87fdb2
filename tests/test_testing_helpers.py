"""``framework.testing``: the helpers plugin authors test with (``plait new-plugin`` writes
tests that use them) give what the real data stage and ``plait train`` give."""

from __future__ import annotations

import pytest
import torch

from framework.errors import PlaitError
from framework.testing import checked_recipe, run_plait, tiny_info


@pytest.mark.parametrize(
    ("name", "target", "inputs", "shape"),
    [("gpt", "tokens", "tokens", (2, 16, 50)), ("textcnn", "class", "tokens", (2, 3)),
     ("textcnn", "value", "tokens", (2, 1)), ("cnn", "multilabel", "images", (2, 3))],
)  # fmt: skip
def test_tiny_info_builds_each_kind_of_model_with_the_right_head(registry, name, target, inputs,
                                                                 shape):  # fmt: skip
    info = tiny_info(target=target, inputs=inputs)
    model = registry.build("model", {"_name_": name}, info=info)
    x = torch.zeros(2, 3, 16, 16) if inputs == "images" else torch.zeros(2, 16, dtype=torch.long)
    assert tuple(model(x).shape) == shape


def test_checked_recipe_is_what_plait_train_checks(registry):
    cfg = checked_recipe(registry, ["recipe=fortunes", "trainer.max_steps=7"])
    assert cfg.name == "fortunes" and cfg.trainer.max_steps == 7
    with pytest.raises(PlaitError, match="did you mean 'textcnn'"):
        checked_recipe(registry, ["recipe=fortunes", "model=textcn"])


def test_run_plait_runs_the_command_in_a_folder(tmp_path):
    proc = run_plait(["list", "freeze"], tmp_path)
    assert proc.returncode == 0 and "lora" in proc.stdout
