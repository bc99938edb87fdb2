"""Tasks: each owns its batch format, default loss and metrics."""
