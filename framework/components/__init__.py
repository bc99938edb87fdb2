"""What the registry knows about components besides their builders: the schema generated
from a builder's signature, the YAML presets of each group, presets that shadow one another,
and which plugin once provided a name."""
