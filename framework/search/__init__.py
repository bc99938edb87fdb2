"""Hyperparameter search: the space, the sweep loop behind Plait's Hydra sweeper, one trial's
outcome and pruning, the study on disk, and the sweep report."""
