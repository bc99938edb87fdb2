"""Plait's own components, registered through the same entry point a third party uses:
each package of the core adds its kinds in its own ``register(registry)``."""

from __future__ import annotations

from framework.registry import Registry


def register(registry: Registry) -> None:
    """Add every built-in component to ``registry``."""
    from framework import augment, data, finetune, models, tasks, training

    for package in (data, augment, tasks, models, training, finetune):
        package.register(registry)
