"""Data stage: sources, tokenizers, splits and the DataInfo handed to builders."""
