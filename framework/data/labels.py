"""Targets: string labels become class ids (the mapping is saved in the run dir); NaN and
missing labels stop the run with a count and examples."""

from __future__ import annotations

import math
from typing import Any

from framework.errors import PlaitError
from framework.records import LABEL, column


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def encode_labels(
    ds: Any, target: str = "class", separator: str | None = None
) -> tuple[Any, list[str] | None]:
    """Return the dataset with its targets encoded for ``target``, and the class names.

    ``class`` (and ``tokens``, where labels only feed stratified splits): string (and
    boolean) labels are sorted and numbered; integer labels keep their ids (names from the
    ``ClassLabel`` feature when the source set one); whole floats become classes. ``value``:
    numbers as float32, no names. ``multilabel``: lists of labels (or strings cut at
    ``separator``) become lists of class ids.
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
    if target == "value":
        return _numeric(ds, values), None
    if target == "multilabel":
        return _label_sets(ds, values, separator)
    if isinstance(feature, datasets.ClassLabel):
        return ds, list(feature.names)
    dtype = getattr(feature, "dtype", "")
    if dtype.startswith("float"):
        fractional = next((v for v in values if not float(v).is_integer()), None)
        if fractional is None:
            names = [str(int(v)) for v in sorted(set(values))]
            return _cast(ds, names, [str(int(v)) for v in values]), names
        if target == "class":
            raise PlaitError(
                f"data: the label column holds fractional numbers ({fractional!r}), not classes;"
                " for numeric targets use task=regression"
            )
        return ds, None
    if isinstance(values[0], list):
        raise PlaitError("data: the label column holds lists of labels; set task.multi_label=true")
    names = sorted({str(v) for v in values}, key=_natural)
    return _cast(ds, names, [str(v) for v in values]), names


def _numeric(ds: Any, values: list[Any]) -> Any:
    """Targets as float32; a value that is not a number stops with its row."""
    import datasets

    out = []
    for i, v in enumerate(values):
        try:
            if isinstance(v, (list, dict)):
                raise TypeError
            out.append(float(v))
        except (TypeError, ValueError):
            raise PlaitError(
                f"data: task regression needs numbers in the label column; row {i} holds "
                f"{v!r}; pick a numeric column with data.source.label_column=NAME"
            ) from None
    ds = ds.remove_columns(LABEL).add_column(LABEL, out)
    return ds.cast_column(LABEL, datasets.Value("float32"))


def _label_sets(ds: Any, values: list[Any], separator: str | None) -> tuple[Any, list[str]]:
    """Lists of labels (or strings cut at ``separator``) as lists of class ids."""
    import datasets

    sets: list[list[str]] = []
    for i, v in enumerate(values):
        if isinstance(v, str) and separator:
            items = [p.strip() for p in v.split(separator) if p.strip()]
        elif isinstance(v, (list, tuple)):
            items = [str(x) for x in v]
        else:
            hint = (
                f"no '{separator}' separates labels there"
                if separator
                else "set task.label_separator (for example ',') for labels in one string"
            )
            raise PlaitError(
                f"data: multi-label targets must be lists of labels; row {i} holds {v!r}; {hint}"
            )
        sets.append(sorted(set(items)))
    names = sorted({x for items in sets for x in items}, key=_natural)
    index = {n: i for i, n in enumerate(names)}
    ds = ds.remove_columns(LABEL).add_column(LABEL, [[index[x] for x in s] for s in sets])
    return ds.cast_column(LABEL, datasets.Sequence(datasets.ClassLabel(names=names))), names


def _natural(name: str) -> tuple[int, Any]:
    return (0, int(name)) if name.lstrip("-").isdigit() else (1, name)


def _cast(ds: Any, names: list[str], as_str: list[str]) -> Any:
    import datasets

    index = {n: i for i, n in enumerate(names)}
    ds = ds.remove_columns(LABEL).add_column(LABEL, [index[s] for s in as_str])
    return ds.cast_column(LABEL, datasets.ClassLabel(names=names))


def label_kind(ds: Any) -> str:
    """``class`` (one class id per record), ``multilabel`` (lists of ids) or ``value``."""
    import datasets

    feature = ds.features[LABEL]
    if isinstance(feature, (datasets.Sequence, list)):
        return "multilabel"
    return "class" if isinstance(feature, datasets.ClassLabel) else "value"


def require_classes(ds: Any, what: str, fix: str) -> None:
    """Stop unless every record holds exactly one class id (``what`` needs them)."""
    kind = label_kind(ds)
    if kind != "class":
        held = "lists of labels" if kind == "multilabel" else "numbers"
        raise PlaitError(f"{what} needs one class per record; these labels are {held}; {fix}")


def class_counts(ds: Any, num_classes: int) -> list[int]:
    """Examples per class id (a multi-label record counts once for each of its labels)."""
    counts = [0] * num_classes
    for y in column(ds, LABEL):
        for c in y if isinstance(y, list) else (y,):
            counts[c] += 1
    return counts
