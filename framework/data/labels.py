"""Targets: string labels become class ids (the mapping is saved in the run dir); NaN and
missing labels stop the run with a count and examples."""

from __future__ import annotations

import math
from typing import Any

from framework.data.records import LABEL, column
from framework.errors import PlaitError


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def encode_labels(ds: Any) -> tuple[Any, list[str] | None]:
    """Return the dataset with integer class ids and the class names, or float targets as is.

    String (and boolean) labels are sorted and numbered; integer labels keep their ids (names
    from the ``ClassLabel`` feature when the source set one); float labels are regression
    targets and get no names.
    """
    import datasets

    feature = ds.features[LABEL]
    values = column(ds, LABEL)
    missing = [i for i, v in enumerate(values) if _is_missing(v)]
    if missing:
        raise PlaitError(
            f"data: {len(missing)} of {len(values)} records have no label (NaN, null or empty) "
            f"at rows {missing[:5]}; drop them with data/curate=[missing] "
            "(data.curate.missing.columns=[label]) or fix the data"
        )
    if isinstance(feature, datasets.ClassLabel):
        return ds, list(feature.names)
    dtype = getattr(feature, "dtype", "")
    if dtype.startswith("float"):
        if len(set(values)) <= 1000 and all(float(v).is_integer() for v in values):
            names = [str(int(v)) for v in sorted(set(values))]
            return _cast(ds, names, [str(int(v)) for v in values]), names
        return ds, None
    names = sorted({str(v) for v in values}, key=_natural)
    return _cast(ds, names, [str(v) for v in values]), names


def _natural(name: str) -> tuple[int, Any]:
    return (0, int(name)) if name.lstrip("-").isdigit() else (1, name)


def _cast(ds: Any, names: list[str], as_str: list[str]) -> Any:
    import datasets

    index = {n: i for i, n in enumerate(names)}
    ds = ds.remove_columns(LABEL).add_column(LABEL, [index[s] for s in as_str])
    return ds.cast_column(LABEL, datasets.ClassLabel(names=names))


def class_counts(ds: Any, num_classes: int) -> list[int]:
    """Examples per class id."""
    counts = [0] * num_classes
    for y in column(ds, LABEL):
        counts[y] += 1
    return counts
