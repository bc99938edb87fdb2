"""The registry: registration, schemas, duplicates, look-ups and protocols."""

from __future__ import annotations

import dataclasses

import pytest

from framework.errors import PlaitError
from framework.registry import KINDS, NAME_KEY, Registry


def builder(width: int = 8, names: list[str] = ["a"], scale: float | None = None, *, info):  # noqa: B006
    """A builder for tests.

    Args:
        width: How wide.
        names: Some names.
    """
    return {"width": width, "names": names, "scale": scale, "info": info}


def test_schema_is_generated_from_signature_without_runtime_parameters():
    r = Registry()
    r.add("model", "toy", builder)
    comp = r.get("model", "toy")
    fields = {f.name: f for f in dataclasses.fields(comp.schema)}
    # info is runtime; target_params (size budget) and init (starting weights): every model
    assert set(fields) == {NAME_KEY, "width", "names", "scale", "target_params", "init"}
    assert fields["width"].type is int and fields["width"].default == 8
    assert fields["names"].default_factory() == ["a"]
    params = {p.name: p for p in comp.params()}
    assert params["width"].doc == "How wide."
    assert "within 10%" in params["target_params"].doc
    assert comp.doc == "A builder for tests."


def test_duplicate_name_is_refused_naming_both_providers():
    r = Registry()
    r.load_provider("first_pkg", lambda reg: reg.add("model", "toy", builder))
    with pytest.raises(PlaitError) as exc:
        r.load_provider("second_pkg", lambda reg: reg.add("model", "toy", builder))
    msg = str(exc.value)
    assert "duplicate model 'toy'" in msg and "'first_pkg'" in msg and "'second_pkg'" in msg


def test_unknown_name_suggests_the_nearest(registry):
    with pytest.raises(PlaitError, match="unknown model 'gtp'; did you mean 'gpt'"):
        registry.get("model", "gtp")
    with pytest.raises(PlaitError, match="unknown component kind 'modle'"):
        registry.get("modle", "gpt")


def test_failing_plugin_is_reported_with_its_name():
    def broken(reg):
        raise RuntimeError("boom")

    with pytest.raises(
        PlaitError, match="plugin 'broken_pkg' failed to register: RuntimeError: boom"
    ):
        Registry().load_provider("broken_pkg", broken)


def test_build_injects_only_runtime_values_the_builder_takes_and_checks_protocol():
    r = Registry()
    r.add("hardware", "toy", builder)
    out = r.build("hardware", {NAME_KEY: "toy", "width": 3}, info="I", unused=1)
    assert out["width"] == 3 and out["info"] == "I"
    r.add("model", "not_a_module", builder)
    with pytest.raises(PlaitError, match="model 'not_a_module' built dict, but a model must be"):
        r.build("model", {NAME_KEY: "not_a_module"}, info=None)


def test_every_kind_of_design_is_present_and_builtins_come_through_the_entry_point(registry):
    assert list(KINDS) == [
        "source",
        "curate",
        "clean",
        "tokenizer",
        "split",
        "balance",
        "text_augment",
        "synonyms",
        "image_augment",
        "task",
        "model",
        "loss",
        "metric",
        "regularizer",
        "freeze",
        "optimizer",
        "scheduler",
        "callback",
        "logger",
        "hardware",
    ]
    assert registry.get("model", "gpt").provider == "plait"
    assert {"text_files", "python_stdlib", "wikipedia_sample"} <= set(registry.names("source"))


def test_raw_target_is_refused_unless_allowed_then_builds_without_registration():
    r = Registry()
    node = {"_target_": "tests.test_registry.builder", "width": 5}
    with pytest.raises(PlaitError, match="names a Python callable.*allow_targets=true"):
        r.build("hardware", node, info=1)
    r.allow_targets = True  # what a validated config with allow_targets: true sets
    assert r.build("hardware", node, info=1)["width"] == 5


@dataclasses.dataclass
class ToySchema:
    """Declared schema of a plugin component."""

    width: int = 4
    """How wide."""
    act: str = "relu"
    """Activation."""


def toy_model(width: int, act: str, *, info):
    """A model whose schema is declared as a dataclass."""
    import torch

    return torch.nn.Linear(width, width)


def test_plugin_component_is_selectable_and_type_checked_with_no_yaml(registry):
    from framework.config.compose import compose

    registry.load_provider("toy_pkg", lambda r: r.add("model", "toy", toy_model, schema=ToySchema))
    cfg = compose(registry, ["model=toy", "model.width=7"])
    assert cfg.model == {NAME_KEY: "toy", "width": 7, "act": "relu", "target_params": None,
                         "init": None}  # fmt: skip
    assert registry.build("model", cfg.model, info=None).in_features == 7
    with pytest.raises(PlaitError, match="wrong type for 'model.width'"):
        compose(registry, ["model=toy", "model.width=wide"])
    with pytest.raises(PlaitError, match="unknown key 'model.widht'; did you mean 'width'"):
        compose(registry, ["model=toy", "model.widht=3"])


def test_every_built_in_schema_is_one_omegaconf_holds(registry):
    from framework.registry import check_schema

    for comp in registry.components():
        check_schema(comp.kind, comp.name, comp.schema)  # raises naming the component


def test_a_schema_default_of_the_wrong_type_is_refused_naming_the_field():
    @dataclasses.dataclass
    class Wrong:
        width: int = "eight"  # type: ignore[assignment]

    with pytest.raises(PlaitError, match=r"model 'toy' has a bad schema \(field 'width'"):
        Registry().add("model", "toy", builder, schema=Wrong)
