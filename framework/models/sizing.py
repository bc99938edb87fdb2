"""``model.target_params``: pick a model's depth and width to land near a parameter budget.

A model declares its size knobs when it is registered (``size=scales(depth, *widths)``): one
depth parameter (optional) and the width parameters, scaled together from the preset's values.
The search keeps the preset's width-to-depth ratio, then fine-tunes the width at the nearest
depths; parameters are counted on the meta device, so nothing is allocated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from framework.contract import SizeKnobs
from framework.errors import PlaitError
from framework.kinds import NAME_KEY, SIZED

TOLERANCE = 0.10
"""How far from the budget a chosen size may land (a share of the budget)."""
TARGET_KEY = SIZED[0].name
INIT_KEY = "init"
"""Model config key naming the run whose weights start the model (``model.init``)."""
"""Config key every model has: a parameter budget such as ``10M`` (null: the sizes written)."""

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9}


def parse_count(value: Any) -> int:
    """``10M`` -> 10_000_000; plain integers pass through."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMbBgG]?)\s*", str(value))
    if not m or float(m.group(1)) <= 0:
        raise PlaitError(
            f"model.{TARGET_KEY}: '{value}' is not a parameter count; write 10M, 350k or 1.2B"
        )
    return int(float(m.group(1)) * _SUFFIX[m.group(2).lower()])


def count_params(model: Any) -> int:
    """Parameters of ``model``, tied weights counted once."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _scaled(params: dict[str, Any], knobs: SizeKnobs, depth: int | None, factor: float) -> dict:
    step = 8
    if knobs.multiple_of:
        step = math.lcm(8, int(params[knobs.multiple_of]))

    def width(w: int) -> int:
        return max(step, round(w * factor / step) * step)

    out = dict(params)
    for key in knobs.widths:
        value = params[key]
        out[key] = [width(v) for v in value] if isinstance(value, list) else width(value)
    if knobs.depth and depth is not None:
        out[knobs.depth] = depth
    return out


def fit_size(
    builder: Callable[..., Any],
    knobs: SizeKnobs,
    name: str,
    params: dict[str, Any],
    target: int,
    info: Any,
) -> tuple[dict[str, Any], int]:
    """Sizes of ``params`` changed so that ``builder`` lands within 10% of ``target``
    parameters; returns them and the count."""
    import torch

    cache: dict[str, int] = {}

    def count(p: dict[str, Any]) -> int:
        key = repr(sorted(p.items()))
        if key not in cache:
            with torch.device("meta"):
                cache[key] = count_params(builder(**p, info=info))
        return cache[key]

    d0 = int(params[knobs.depth]) if knobs.depth else None

    def best_width(depth: int | None) -> tuple[dict[str, Any], int]:
        lo, hi = math.log(1 / 512), math.log(512)
        for _ in range(14):
            mid = (lo + hi) / 2
            if count(_scaled(params, knobs, depth, math.exp(mid))) < target:
                lo = mid
            else:
                hi = mid
        options = [_scaled(params, knobs, depth, math.exp(x)) for x in (lo, hi)]
        return min(((p, count(p)) for p in options), key=lambda pc: abs(pc[1] - target))

    if d0 is None:
        found, n = best_width(None)
    else:  # the depth that keeps the preset's shape, then its neighbours
        lo, hi = math.log(1 / 64), math.log(64)
        for _ in range(12):
            mid = (lo + hi) / 2
            s = math.exp(mid)
            depth = max(1, round(d0 * s))
            if count(_scaled(params, knobs, depth, s)) < target:
                lo = mid
            else:
                hi = mid
        centre = max(1, round(d0 * math.exp(hi)))
        tries = [best_width(d) for d in sorted({max(1, centre + k) for k in (0, -1, 1, -2, 2)})]
        within = [t for t in tries if abs(t[1] - target) <= TOLERANCE * target]
        found, n = within[0] if within else min(tries, key=lambda pc: abs(pc[1] - target))
        if within:  # prefer the shape closest to the preset's
            ratio0 = _width0(params, knobs) / d0
            found, n = min(
                within,
                key=lambda pc: abs(math.log(_width0(pc[0], knobs) / pc[0][knobs.depth] / ratio0)),
            )
    if abs(n - target) > TOLERANCE * target:
        raise PlaitError(
            f"model.{TARGET_KEY}={target:,}: model '{name}' comes no closer than {n:,} "
            "parameters with this vocabulary and these settings; choose another budget"
        )
    return found, n


def _width0(params: dict[str, Any], knobs: SizeKnobs) -> float:
    value = params[knobs.widths[0]]
    return float(max(value) if isinstance(value, list) else value)


def sized_params(registry: Any, cfg: Any, info: Any) -> tuple[dict[str, Any], str | None]:
    """The model config's values with ``target_params`` applied (the depth and widths chosen
    for the budget) and a line saying what was chosen; without a budget, the values as
    written and None."""
    from omegaconf import DictConfig, OmegaConf

    params = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    budget = params.pop(TARGET_KEY, None)
    params.pop(INIT_KEY, None)  # where the weights start, not a size
    if budget is None:
        return params, None
    target = parse_count(budget)
    name = params.pop(NAME_KEY)
    comp = registry.get("model", name)
    knobs, builder = comp.contract.size, comp.builder
    if knobs is None:
        sized = ", ".join(registry.declaring("model", "size")) or "none"
        raise PlaitError(
            f"model '{name}' has a fixed size; model.{TARGET_KEY} applies to models with size "
            f"knobs ({sized})"
        )
    import inspect

    defaults = {
        k: p.default
        for k, p in inspect.signature(builder).parameters.items()
        if p.default is not p.empty and p.kind is not p.KEYWORD_ONLY
    }
    sized, n = fit_size(builder, knobs, name, {**defaults, **params}, target, info)
    keys = ([knobs.depth] if knobs.depth else []) + list(knobs.widths)
    chosen = ", ".join(f"{k}={sized[k]}" for k in keys)
    line = f"{TARGET_KEY} {budget}: {chosen} -> {n:,} parameters ({(n - target) / target:+.1%})"
    return {NAME_KEY: name, **sized}, line


def build_model(registry: Any, cfg: Any, info: Any) -> tuple[Any, str | None]:
    """Build the model ``cfg`` selects; with ``target_params`` set, at the fitted size.

    Returns the model and a line saying the size chosen (None without a budget).
    """
    params, line = sized_params(registry, cfg, info)
    return built_model(registry, params, info), line


def built_model(registry: Any, params: Any, info: Any) -> Any:
    """``registry.build("model", ...)``, with the block list the model declares (its
    ``blocks`` capability) recorded for :func:`framework.finetune.structure.find_layout`."""
    from framework.finetune.structure import declare_blocks

    model = registry.build("model", params, info=info)
    blocks = registry.contract("model", params).blocks
    if blocks:
        declare_blocks(model, blocks)
    return model
