"""Plait: train language models from declarative Hydra recipes."""

__version__ = "0.1.0"
