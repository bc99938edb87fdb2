"""Where a model's blocks are, found from its structure: the embeddings below them, the
repeated blocks bottom to top, the head above. Works for Plait's models and Hugging Face
ones (BERT-like encoders, Llama-like decoders) without a name list per architecture."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from framework.errors import PlaitError


@dataclass
class Layout:
    """A model's parameters by position, each a list of parameter names."""

    blocks_at: str
    """Module path of the block list (``blocks``, ``encoder.encoder.layer``)."""
    embeddings: list[str] = field(default_factory=list)
    """Parameters before the first block (token and position embeddings)."""
    blocks: list[list[str]] = field(default_factory=list)
    """Parameters of each block, bottom (nearest the input) to top."""
    head: list[str] = field(default_factory=list)
    """Parameters after the last block (final norm, output or task head)."""

    def groups(self) -> list[tuple[str, list[str]]]:
        """(name, parameters) bottom to top: embeddings, block 0..N-1, head."""
        named = [("embeddings", self.embeddings)]
        named += [(f"block {i}", names) for i, names in enumerate(self.blocks)]
        return [*named, ("head", self.head)]


def _block_lists(module: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every ``nn.ModuleList`` of two or more children of one type holding parameters."""
    from torch import nn

    found = []
    for name, child in module.named_children():
        path = f"{prefix}{name}"
        if (
            isinstance(child, nn.ModuleList)
            and len(child) >= 2
            and len({type(c) for c in child}) == 1
            and any(True for _ in child.parameters())
        ):
            found.append((path, child))
        else:
            found.extend(_block_lists(child, f"{path}."))
    return found


_DECLARED: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def declare_blocks(model: Any, path: str) -> None:
    """Record where ``model``'s blocks are (its registered ``blocks`` capability); a path
    that is not a list of modules in it is refused naming the modules that are."""
    from torch import nn

    try:
        found = model.get_submodule(path)
    except AttributeError:
        found = None
    if not isinstance(found, nn.ModuleList):
        lists = ", ".join(p for p, _ in _block_lists(model)) or "none"
        raise PlaitError(
            f"model declares blocks={path!r}, but that is not a list of modules in "
            f"{type(model).__name__} (lists of repeated modules: {lists}); fix the "
            "registration's blocks="
        )
    _DECLARED[model] = path


PATTERN_WAY_OUT = "freeze with freeze=pattern (include/exclude regexes over parameter names)"


def find_layout(model: Any, name: str = "model", way_out: str = PATTERN_WAY_OUT) -> Layout:
    """The layout of ``model``: its blocks are the list of repeated modules holding the most
    parameters. A model without one (an LSTM, a bag of embeddings) stops with ``way_out``."""
    declared = _DECLARED.get(model)
    lists = [(declared, model.get_submodule(declared))] if declared else _block_lists(model)
    if not lists:
        raise PlaitError(
            f"{name}: cannot find repeated blocks in {type(model).__name__} (no list of "
            f"layers of one type); {way_out} instead"
        )
    path, blocks = max(lists, key=lambda item: sum(p.numel() for p in item[1].parameters()))
    owner = {id(p): i for i, block in enumerate(blocks) for p in block.parameters()}
    layout = Layout(blocks_at=path, blocks=[[] for _ in blocks])
    seen_block = False
    for pname, p in model.named_parameters():
        if id(p) in owner:
            layout.blocks[owner[id(p)]].append(pname)
            seen_block = True
        elif seen_block:
            layout.head.append(pname)
        else:
            layout.embeddings.append(pname)
    return layout


def parameter_counts(model: Any) -> list[tuple[str, int, int]]:
    """(group, trainable, frozen) parameters per layout group (one ``all`` row for a model
    without blocks); tied weights counted once."""
    params = dict(model.named_parameters())
    try:
        groups = find_layout(model).groups()
    except PlaitError:
        groups = [("all", list(params))]
    rows = []
    for group, names in groups:
        trainable = sum(params[n].numel() for n in names if params[n].requires_grad)
        frozen = sum(params[n].numel() for n in names if not params[n].requires_grad)
        rows.append((group, trainable, frozen))
    return rows


def trainable_table(model: Any) -> Any:
    """A rich table of trainable and frozen parameters per group (embeddings, each block,
    head), with the totals."""
    return counts_table(parameter_counts(model))


def counts_table(rows: list[tuple[str, int, int]]) -> Any:
    """A rich table of (group, trainable, frozen) rows and their totals."""
    from rich.table import Table

    table = Table(title="trainable and frozen parameters", title_justify="left")
    for col in ("group", "trainable", "frozen"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for group, trainable, frozen in rows:
        table.add_row(group, f"{trainable:,}", f"{frozen:,}")
    table.add_row("[bold]total[/]", f"[bold]{sum(r[1] for r in rows):,}[/]",
                  f"[bold]{sum(r[2] for r in rows):,}[/]")  # fmt: skip
    return table
