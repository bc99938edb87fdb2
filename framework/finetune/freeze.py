"""Built-in freeze policies: which parameters train. A policy is called with the model, sets
``requires_grad`` and returns the Lightning callbacks that change it during training
(gradual unfreezing, merging LoRA adapters), usually none. Several compose
(``freeze=[embeddings,first_n]``); a parameter frozen by any of them stays frozen, except
under ``gradual``, which owns the schedule."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from framework.checks import COUNT, NON_NEGATIVE, Check
from framework.errors import PlaitError

log = logging.getLogger("plait")


def _norm_or_bias(model: Any) -> set[str]:
    """Names of biases and of the parameters of normalization layers: the layers whose own
    parameters are all vectors (a scale and a shift per feature), whatever their class."""
    names = {n for n, _ in model.named_parameters() if n.endswith("bias")}
    for mname, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if own and all(p.dim() == 1 for _, p in own):
            names.update(f"{mname}.{n}" if mname else n for n, _ in own)
    return names


def freeze_names(model: Any, names: list[str], keep_norms_and_biases: bool = False) -> None:
    """Set ``requires_grad=False`` on the named parameters (norms and biases spared when
    asked)."""
    spared = _norm_or_bias(model) if keep_norms_and_biases else set()
    params = dict(model.named_parameters())
    for name in names:
        if name not in spared:
            params[name].requires_grad_(False)


def freeze_policies(cfg: Any) -> list[Any]:
    """The freeze policy nodes of a config, in order (a checkpoint written before several
    could compose holds one node)."""
    from framework.kinds import NAME_KEY

    node = cfg.get("freeze") or {}
    return [node] if NAME_KEY in node else list(node.values())


class Policy:
    """A freeze policy built from the config; called with the model."""

    def __call__(self, model: Any) -> list[Any]:
        raise NotImplementedError


def none() -> Any:
    """Train every parameter."""
    return lambda model: []


class ByLayout(Policy):
    """Freeze the parameters ``pick`` selects from the model's layout."""

    def __init__(self, pick: Any, keep: bool) -> None:
        self.pick, self.keep = pick, keep

    def __call__(self, model: Any) -> list[Any]:
        from framework.finetune.structure import find_layout

        freeze_names(model, self.pick(find_layout(model)), self.keep)
        return []


def embeddings(keep_norms_and_biases: bool = False) -> Any:
    """Freeze the embeddings (everything below the first block).

    Args:
        keep_norms_and_biases: Keep norm layers and biases trainable while their block is
            frozen.
    """
    return ByLayout(lambda layout: layout.embeddings, keep_norms_and_biases)


class FirstN(Policy):
    def __init__(self, n: int, embeddings: bool, keep: bool) -> None:
        self.n, self.embeddings, self.keep = n, embeddings, keep

    def __call__(self, model: Any) -> list[Any]:
        from framework.finetune.structure import find_layout

        layout = find_layout(model)
        if self.n > len(layout.blocks):
            raise PlaitError(
                f"freeze.first_n.n={self.n}, but the model has {len(layout.blocks)} blocks "
                f"(at '{layout.blocks_at}'); set n to at most {len(layout.blocks)}"
            )
        names = [n for block in layout.blocks[: self.n] for n in block]
        freeze_names(model, names + (layout.embeddings if self.embeddings else []), self.keep)
        return []


def first_n(
    n: Annotated[int, COUNT] = 1,
    embeddings: bool = True,
    keep_norms_and_biases: bool = False,
) -> Any:
    """Freeze the first ``n`` blocks (nearest the input) and, by default, the embeddings.

    Args:
        n: Blocks frozen, counted from the input.
        embeddings: Freeze the embeddings too.
        keep_norms_and_biases: Keep norm layers and biases trainable while their block is
            frozen.
    """
    return FirstN(n, embeddings, keep_norms_and_biases)


def all_but_head(keep_norms_and_biases: bool = False) -> Any:
    """Train the head alone (everything above the last block): a linear probe of the body.

    Args:
        keep_norms_and_biases: Keep norm layers and biases trainable while their block is
            frozen.
    """
    return ByLayout(
        lambda layout: layout.embeddings + [n for block in layout.blocks for n in block],
        keep_norms_and_biases,
    )


class Pattern(Policy):
    def __init__(self, include: list[str], exclude: list[str], keep: bool) -> None:
        self.include, self.exclude, self.keep = include, exclude, keep

    def __call__(self, model: Any) -> list[Any]:
        names = [n for n, _ in model.named_parameters()]
        for key, patterns in (("include", self.include), ("exclude", self.exclude)):
            for pattern in patterns:
                if not any(re.search(pattern, n) for n in names):
                    raise PlaitError(
                        f"freeze.pattern.{key}: '{pattern}' matches no parameter name "
                        f"(they look like {', '.join(names[:3])}, ...); see `plait show`"
                    )
        chosen = [
            n for n in names
            if any(re.search(p, n) for p in self.include)
            and not any(re.search(p, n) for p in self.exclude)
        ]  # fmt: skip
        freeze_names(model, chosen, self.keep)
        return []


def _regex(value: str) -> bool:
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def pattern(
    include: list[str] = [".*"],  # noqa: B006 - copied into the schema
    exclude: list[str] = [],  # noqa: B006 - copied into the schema
    keep_norms_and_biases: bool = False,
) -> Any:
    """Freeze the parameters whose names match an ``include`` regex and no ``exclude`` one
    (names as ``plait show`` and ``model.named_parameters()`` print them). A pattern that
    matches nothing stops the run.

    Args:
        include: Regular expressions (searched) selecting parameters to freeze.
        exclude: Regular expressions exempting parameters from ``include``.
        keep_norms_and_biases: Keep norm layers and biases trainable while their block is
            frozen.
    """
    for p in [*include, *exclude]:
        if not _regex(p):
            raise PlaitError(f"freeze.pattern: '{p}' is not a regular expression")
    return Pattern(list(include), list(exclude), keep_norms_and_biases)


UNITS = ("steps", "epochs")


class Gradual(Policy):
    """ULMFiT's gradual unfreezing: the head trains from the start, then one group from the
    top every ``every`` steps or epochs (block N-1, ..., block 0, the embeddings)."""

    def __init__(self, every: int, unit: str, keep: bool) -> None:
        self.every, self.unit, self.keep = every, unit, keep

    def __call__(self, model: Any) -> list[Any]:
        from framework.finetune.structure import find_layout

        layout = find_layout(model)
        later = [*reversed(list(enumerate(layout.blocks))), (None, layout.embeddings)]
        stages = [(f"block {i}" if i is not None else "embeddings", names) for i, names in later]
        freeze_names(model, [n for _, names in stages for n in names], self.keep)
        schedule = [(self.every * (k + 1), label, names) for k, (label, names) in enumerate(stages)]
        log.info(
            "gradual unfreezing: the head trains from the start; then %s",
            ", ".join(f"{label} at {self.unit[:-1]} {at}" for at, label, _ in schedule),
        )
        return [_unfreeze_callback(model, schedule, self.unit, self.keep)]


def gradual(
    every: Annotated[int, COUNT] = 1,
    unit: Annotated[str, Check(choices=UNITS)] = "epochs",
    keep_norms_and_biases: bool = False,
) -> Any:
    """Gradual unfreezing (Howard and Ruder's ULMFiT): the head trains from the start, then
    one more group from the top every ``every`` steps or epochs: the last block, the one
    below, ..., the embeddings. The schedule is printed at start and logged as it happens.

    Args:
        every: Steps or epochs between two unfreezings.
        unit: ``steps`` or ``epochs``.
        keep_norms_and_biases: Keep norm layers and biases trainable while their block is
            frozen.
    """
    return Gradual(every, unit, keep_norms_and_biases)


def _unfreeze_callback(model: Any, schedule: list[Any], unit: str, keep: bool) -> Any:
    """A Lightning callback unfreezing each group of ``schedule`` at its step or epoch."""
    from lightning.pytorch.callbacks import Callback

    class GradualUnfreezing(Callback):
        def _advance(self, now: int) -> None:
            for at, label, names in schedule:
                if at == now:
                    params = dict(model.named_parameters())
                    for name in names:
                        params[name].requires_grad_(True)
                    log.info("gradual unfreezing: %s trains from %s %d", label, unit[:-1], now)

        def on_train_batch_start(self, trainer: Any, *args: Any) -> None:
            if unit == "steps":
                self._advance(trainer.global_step)

        def on_train_epoch_start(self, trainer: Any, *args: Any) -> None:
            if unit == "epochs":
                self._advance(trainer.current_epoch)

        def on_load_checkpoint(self, trainer: Any, *args: Any) -> None:
            now = trainer.global_step if unit == "steps" else trainer.current_epoch
            params = dict(model.named_parameters())
            for at, _label, names in schedule:
                if at <= now:  # a resumed run starts with what had thawed
                    for name in names:
                        params[name].requires_grad_(True)

    return GradualUnfreezing()


def lora(
    rank: Annotated[int, COUNT] = 8,
    alpha: Annotated[float, Check(gt=0)] = 16.0,
    dropout: Annotated[float, NON_NEGATIVE] = 0.05,
    targets: list[str] | None = None,
    train_head: bool = True,
    merge: bool = False,
    *,
    registry: Any = None,
) -> Any:
    """LoRA (Hu et al., 2021) through ``peft``: low-rank adapters beside the chosen linear
    layers; the base weights freeze, the adapters (and the task head) train.

    Args:
        rank: Rank of each adapter.
        alpha: Scaling numerator (the update is scaled by alpha / rank).
        dropout: Dropout on the adapters' input.
        targets: Regular expressions over module names selecting the linear layers adapted
            (fully matched against the name's last parts, as ``peft`` does); None: every
            linear layer inside the blocks (attention and feed-forward).
        train_head: Keep the head above the last block trainable (a new classification
            head must train).
        merge: When training ends, also write ``checkpoints/merged.ckpt``: the adapters
            folded into the base weights, a plain model that ``plait generate`` reads without
            ``peft`` (the other checkpoints keep the adapters, to resume).
    """
    from framework.finetune.lora import LoRA

    return LoRA(rank, alpha, dropout, targets, train_head, merge, registry)
