"""Model builders (light modules) and their implementations (``_*.py``, import torch)."""
