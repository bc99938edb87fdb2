"""Composition: every recipe composes and validates; bad input is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.components.collisions import find_collisions, option_sources
from framework.config.compose import compose
from framework.config.validate import validate
from framework.errors import PlaitError

RECIPES = sorted(p.stem for p in (Path(__file__).parents[2] / "recipes").glob("*.yaml"))


NEEDS_A_VALUE = {"tweets_gpt_pretrained": "model.init"}
"""Recipes that start from the user's own run: they name what to set."""


GGUF = pytest.mark.xdist_group("smollm2")
"""Recipes whose model is converted from GGUF when first composed (20 s): one worker composes
them in turn, and the second reads the conversion from the cache."""


@pytest.mark.parametrize(
    "recipe", [pytest.param(r, marks=GGUF) if "smollm2" in r else r for r in RECIPES]
)
def test_every_recipe_composes_and_validates(registry, recipe):
    cfg = compose(registry, [f"recipe={recipe}"])
    if recipe in NEEDS_A_VALUE:
        with pytest.raises(PlaitError, match=rf"set {NEEDS_A_VALUE[recipe]}="):
            validate(cfg, registry)
        return
    validate(cfg, registry)
    assert cfg.name == recipe
    assert registry.get("model", cfg.model._name_)


def test_overrides_reach_typed_component_nodes(registry):
    cfg = compose(registry, ["model=gpt_small", "model.n_layer=3", "optimizer.lr=0.01"])
    assert cfg.model.n_layer == 3 and cfg.model.d_model == 256  # preset kept the rest
    assert cfg.optimizer.lr == 0.01


def test_only_the_selected_options_build_their_schemas(registry):
    cfg = compose(registry, ["recipe=tweets_textcnn", "model.filters=7"])
    assert cfg.model.filters == 7  # the option's typed node took the override
    components = list(registry.components())
    built = {(c.kind, c.name) for c in components if "schema" in vars(c)}
    assert {("model", "textcnn"), ("optimizer", cfg.optimizer._name_)} <= built
    assert len(built) < len(components) // 4  # every other one is an option, never built


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["recipe=stdlib_gtp"], "unknown recipe 'stdlib_gtp'; did you mean 'stdlib_gpt'?"),
        (["model=gtp"], "unknown model 'gtp'; did you mean 'gpt"),
        (["data/source=text_file"], "unknown source 'text_file'; did you mean 'text_files'?"),
        (["model.n_layr=3"], "unknown key 'model.n_layr'; did you mean 'n_layer'?"),
        (["trainer.max_stepz=3"], "unknown key 'trainer.max_stepz'; did you mean 'max_steps'?"),
        (["model.n_layer=two"], "wrong type for 'model.n_layer'"),
        (["trainer.batch_size=1.5"], "wrong type for 'trainer.batch_size'"),
    ],
)
def test_bad_overrides_fail_with_one_line_and_a_suggestion(registry, overrides, message):
    with pytest.raises(PlaitError) as exc:
        compose(registry, overrides)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_no_option_is_defined_twice_on_the_search_path(registry):
    sources = option_sources(registry)
    assert ("model", "gpt_small") in sources["plait:conf"]
    assert ("model", "gpt") in sources["registry"]
    assert find_collisions(registry) == {}


def test_collision_finder_reports_a_yaml_that_shadows_a_registered_option(registry):
    registry.add("model", "gpt_small", lambda *, info: None)
    assert find_collisions(registry) == {("model", "gpt_small"): ["plait:conf", "registry"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "trainer:\n  max_steps: many\n",
            "wrong type for 'trainer.max_steps' in 'recipe/mine': 'many' is not an integer",
        ),
        (
            "model:\n  n_layers: 3\n",
            "unknown key 'model.n_layers' (in 'recipe/mine'); did you mean 'n_layer'",
        ),
        (
            "defaults:\n  - override /data/tokenizer: char\n"
            "data:\n  tokenizer:\n    vocab_size: 9\n",
            "the selected tokenizer has no 'vocab_size' (bpe, unigram, wordpiece have it",
        ),
    ],
)
def test_errors_in_a_users_own_recipe_folder_name_the_file(registry, tmp_path, text, message):
    (tmp_path / "recipe").mkdir()
    (tmp_path / "recipe/mine.yaml").write_text("# @package _global_\n" + text)
    with pytest.raises(PlaitError) as exc:
        compose(registry, ["recipe=mine", f"hydra.searchpath=[file://{tmp_path}]"])
    assert message in str(exc.value)


def test_a_users_own_recipe_folder_joins_the_search_path(registry, tmp_path):
    (tmp_path / "recipe").mkdir()
    (tmp_path / "recipe/mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /model: gpt_tiny\nname: mine\n"
    )
    cfg = compose(registry, ["recipe=mine", f"hydra.searchpath=[file://{tmp_path}]"])
    assert cfg.name == "mine" and cfg.model.d_model == 32


def test_a_stored_option_copies_lazily_and_pickles_as_its_node(registry):
    import copy
    import pickle

    import cloudpickle
    from hydra.core.config_store import ConfigNode, ConfigStore
    from omegaconf import OmegaConf

    compose(registry, ["recipe=tweets_textcnn"])
    entry = ConfigStore.instance().repo["optimizer"]["adamw.yaml"]
    assert copy.copy(entry)._node is None and copy.deepcopy(entry)._node is None
    sent = pickle.loads(cloudpickle.dumps(entry))  # what joblib's launcher sends its workers
    assert type(sent) is ConfigNode and sent.package == entry.package
    assert OmegaConf.to_container(sent.node) == OmegaConf.to_container(entry.node)
    assert list(sent.node.betas) == list(registry.get("optimizer", "adamw").schema().betas)
