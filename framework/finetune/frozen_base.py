"""Checkpoints that leave out a frozen pretrained base: a LoRA run started from pretrained
weights (a Hugging Face folder or ``model.init``) saves only what trains (adapters, head).
Loading rebuilds the base from where the run started and checks it against a fingerprint
taken when training began, so a changed base is an error, never a silent mix."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from framework.errors import PlaitError

KEY = "frozen_base"
"""Key of the :class:`FrozenBase` record in a checkpoint's ``plait`` payload."""


def fingerprint(model: Any, names: list[str]) -> str:
    """A digest of the named parameters' bytes (their order as given)."""
    import torch

    params = dict(model.named_parameters(remove_duplicate=False))
    digest = hashlib.blake2b(digest_size=16)
    for name in names:
        tensor = params[name].detach().contiguous().cpu()
        digest.update(name.encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()


@dataclass
class FrozenBase:
    """The frozen parameters a checkpoint leaves out, and their fingerprint."""

    names: list[str]
    """Parameter names inside the model (no ``model.`` prefix)."""
    digest: str
    """:func:`fingerprint` of those parameters when training began."""

    @classmethod
    def of(cls, model: Any) -> FrozenBase:
        """The parameters of ``model`` that do not train, fingerprinted now."""
        names = [
            n for n, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad
        ]
        return cls(names, fingerprint(model, names))

    def strip(self, state_dict: dict[str, Any], prefix: str = "") -> None:
        """Remove the frozen parameters from ``state_dict`` (in place)."""
        for name in self.names:
            state_dict.pop(prefix + name, None)

    def restore(
        self, state_dict: dict[str, Any], model: Any, source: str, prefix: str = ""
    ) -> None:
        """Put the frozen parameters of ``model`` (rebuilt from the run's starting point)
        back into ``state_dict``, after checking they are the ones the run trained on."""
        if fingerprint(model, self.names) != self.digest:
            raise PlaitError(
                f"{source} holds only the weights that trained; the frozen base rebuilt from "
                "the run's config (pretrained folder or model.init) differs from the one it "
                "trained on: restore that starting point, or train with freeze.lora.merge=true "
                "and use checkpoints/merged.ckpt"
            )
        params = dict(model.named_parameters(remove_duplicate=False))
        for name in self.names:
            state_dict[prefix + name] = params[name].detach().clone()

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for the checkpoint payload."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrozenBase:
        """Inverse of :meth:`to_dict`."""
        return cls(list(d["names"]), str(d["digest"]))


def leaves_base_out(cfg: Any, params: dict[str, Any], policies: list[Any], registry: Any) -> bool:
    """Whether checkpoints may leave the frozen base out: a policy that adds adapters adapts
    weights that come back as they were (a pretrained folder or ``model.init``), and no
    policy changes what trains during the run."""
    from omegaconf import OmegaConf

    contracts = [registry.contract("freeze", p) for p in policies]
    started = bool(OmegaConf.select(cfg, "model.init", default=None)) or bool(
        params.get("pretrained", False)
    )
    return (
        any(c.adds_adapters for c in contracts)
        and not any(c.changes_during_run for c in contracts)
        and started
    )


def stored_base(ckpt: dict[str, Any]) -> FrozenBase | None:
    """The frozen base a checkpoint leaves out, or None when it holds every weight."""
    stored = (ckpt.get("plait") or {}).get(KEY)
    return FrozenBase.from_dict(stored) if stored else None
