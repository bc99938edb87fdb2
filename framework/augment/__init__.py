"""On-the-fly augmentation of the training split."""
