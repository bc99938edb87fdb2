"""Trained models out of Plait: Hugging Face folders, safetensors weights, a model card."""
