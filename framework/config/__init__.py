"""Config: the root schema, composition with Hydra, and validation against the registry."""
