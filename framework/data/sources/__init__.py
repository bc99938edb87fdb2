"""Built-in sources: each returns a ``datasets.Dataset`` with a ``text`` (or ``image``)
column, an optional ``label`` column, and ``_split`` when the data comes already split."""
