"""A list of one document's children: "the line items of tax transaction tax_1…".

An entity word followed by an id of that entity ("tax transaction tax_1grq86sj28", "tax line item
tax_li_…") names one document, not the rows to list, when another entity word is in the question:
the rows are that other entity's, filtered by the id. A short name of the child ("line items") is
read as the child of the named document: the list whose name ends with those words and whose
table reaches the document's table ("tax line items" for a tax transaction, not invoice lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.semantic.model import SemanticModel
from app.understand.lexicon import Hit
from app.understand.list_words import ids, norm
from app.understand.reading import EngineContext

_GAP = re.compile(r"\s*$")


@dataclass(frozen=True)
class Parent:
    """The document an id names: its entity word's span and its list."""

    start: int
    end: int
    name: str


def split_parent(hits: list[Hit], work: str, ctx: EngineContext) -> tuple[list[Hit], Parent | None]:
    """The entity hits without the named document's, and that document (None if there is none)."""
    if len(hits) < 2:
        return hits, None
    for h in hits:
        spec = ctx.model.lists[h.name]
        owned = [s for s, _, column, _ in ids(work, spec) if column == spec.key]
        if any(_GAP.match(work[h.end : s]) for s in owned if s >= h.end):
            rest = [x for x in hits if x is not h]
            parent = Parent(h.start, h.end, h.name)
            return [_child(x, work, parent, ctx.model) for x in rest], parent
    return hits, None


def _child(h: Hit, work: str, parent: Parent, model: SemanticModel) -> Hit:
    """The hit read as the parent's child list when its own list is no child of the parent."""
    table = model.lists[parent.name].table
    if model.join_path(model.lists[h.name].table, table) is not None:
        return h
    said = norm(work[h.start : h.end])
    for spec in model.lists.values():
        named = any(norm(w).endswith(" " + said) for w in spec.synonyms)
        if named and spec.name != parent.name and model.join_path(spec.table, table) is not None:
            return Hit(h.start, h.end, h.kind, spec.name, h.phrase)
    return h
