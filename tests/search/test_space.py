"""The search space: YAML entries and command-line sweeps parsed, bad ones refused with the
entry named, grids enumerated in Hydra's order, values written to round-trip."""

from __future__ import annotations

import pytest

from framework.errors import PlaitError
from framework.search import space as S


def test_yaml_entries_dotted_or_nested_become_parameters_of_each_kind():
    params = S.from_yaml({
        "optimizer.lr": {"log_interval": [1e-4, 1e-2]},
        "model": {"dropout": {"interval": [0.0, 0.5]}, "n_layer": {"int": [1, 3]}},
        "data/tokenizer": {"choice": ["bpe", "char"]},
    })  # fmt: skip
    got = {p.path: (p.kind, p.values) for p in params}
    assert got == {
        "optimizer.lr": ("log_interval", (1e-4, 1e-2)),
        "model.dropout": ("interval", (0.0, 0.5)),
        "model.n_layer": ("int", (1, 3)),
        "data/tokenizer": ("choice", ("bpe", "char")),
    }
    lr = next(p for p in params if p.path == "optimizer.lr").distribution()
    assert lr.log and (lr.low, lr.high) == (1e-4, 1e-2)
    assert next(p for p in params if p.path == "model.n_layer").grid() == [1, 2, 3]


@pytest.mark.parametrize(
    ("space", "fragment"),
    [
        ({"optimizer.lr": {"interval": [0.1, 0.01]}}, "has low above high; swap them"),
        ({"optimizer.lr": {"log_interval": [0, 0.1]}}, "needs low above 0"),
        ({"model.n_layer": {"int": [1, 2.5]}}, "takes whole numbers"),
        ({"model": {"choice": []}}, "choice lists no values"),
        ({"optimizer.lr": {"uniform": [0, 1]}}, "unknown kind 'uniform'"),
        ({"optimizer.lr": 0.1}, "search.space.optimizer.lr must be one kind and its values"),
        ({"optimizer.lr": {"interval": [0.1]}}, "takes [low, high] as two numbers"),
    ],
)  # fmt: skip
def test_a_malformed_entry_is_one_error_naming_it(space, fragment):
    with pytest.raises(PlaitError, match=None) as err:
        S.from_yaml(space)
    assert fragment in str(err.value)


def test_command_line_sweeps_become_parameters_and_the_rest_stays_fixed():
    params, fixed = S.from_overrides([
        "recipe=fortunes", "optimizer.lr=tag(log,interval(1e-4,1e-2))",
        "model.dropout=interval(0,0.3)", "model.n_layer=tag(int,interval(1,4))",
        "model=gpt_tiny,lstm_lm", "hydra.sweep.dir=x",
    ])  # fmt: skip
    assert fixed == ["recipe=fortunes", "hydra.sweep.dir=x"]
    assert [(p.path, p.kind) for p in params] == [
        ("optimizer.lr", "log_interval"), ("model.dropout", "interval"),
        ("model.n_layer", "int"), ("model", "choice"),
    ]  # fmt: skip
    assert params[3].values == ("gpt_tiny", "lstm_lm")
    with pytest.raises(PlaitError, match="searched both in search.space and on the command"):
        S.combine(S.from_yaml({"model": {"choice": ["a"]}}), params)


def test_a_grid_is_the_cross_product_in_hydras_order_and_refuses_intervals():
    params = S.from_yaml({"a": {"choice": ["x", "y"]}, "b": {"int": [1, 3]}})
    assert S.grid(params) == [
        {"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "x", "b": 3},
        {"a": "y", "b": 1}, {"a": "y", "b": 2}, {"a": "y", "b": 3},
    ]  # fmt: skip
    with pytest.raises(PlaitError, match="'c' is an interval"):
        S.grid([*params, *S.from_yaml({"c": {"interval": [0, 1]}})])


def test_checked_variants_cover_every_end_and_floats_round_trip():
    params = S.from_yaml({"a": {"interval": [0.1, 0.2]}, "b": {"choice": [1, 2, 3]}})
    full = S.variants(params, limit=128)
    assert len(full) == 6 and ["a=0.1", "b=3"] in full
    each = S.variants(params, limit=2)  # past the limit: each value once
    assert each == [["a=0.1", "b=1"], ["a=0.2", "b=1"], ["a=0.1", "b=2"], ["a=0.1", "b=3"]]
    value = 0.1 + 0.2  # 0.30000000000000004
    assert float(S.override("x", value).split("=")[1]) == value


def test_trials_at_once_follow_the_launchers_n_jobs_as_joblib_counts_them():
    import os

    from framework.search.trial import parallel_jobs

    cores = os.cpu_count() or 1
    assert [parallel_jobs(None), parallel_jobs(1), parallel_jobs(3)] == [1, 1, 3]
    assert parallel_jobs(-1) == cores and parallel_jobs(-2) == max(1, cores - 1)


def test_each_pruner_setting_builds_its_optuna_pruner():
    import optuna
    from omegaconf import OmegaConf

    from framework.search.study import pruner

    def make(name):
        return pruner(OmegaConf.create({"prune": name, "prune_after": 2, "prune_startup": 3}))

    median = make("median")
    assert isinstance(median, optuna.pruners.MedianPruner)
    assert (median._n_startup_trials, median._n_warmup_steps) == (3, 2)
    assert isinstance(make("halving"), optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(make("none"), optuna.pruners.NopPruner)


def test_an_integer_range_from_the_command_line_is_checked_with_whole_numbers(registry, tmp_path):
    """``tag(int, interval(64,256))`` (Hydra reads the ends as floats) is checked before the
    search with 64 and 256, which an integer field accepts."""
    from framework.search.space import from_overrides
    from tests.conftest import run_in_process

    (param,), _ = from_overrides(["model.embed_dim=tag(int,interval(64,256))"])
    assert param.ends() == [64, 256] and all(type(v) is int for v in param.ends())
    proc = run_in_process(["train", "recipe=tweets_textcnn", "search=random",
                           "model.embed_dim=tag(int,interval(64,256))", "--cfg", "job"],
                          tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
