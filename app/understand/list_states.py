"""What a list question says about its rows besides the entity: states, either-or, 'which X'.

"expired or invalid" is one either-or state; "..., for which customers" asks for the column that
links each row to its customer; "for charges made in an earlier month" bounds a linked day.
"""

from __future__ import annotations

import re

from app.semantic.model import ListSpec
from app.understand.list_entity import CUSTOMERS
from app.understand.list_words import state_name, state_words
from app.understand.reading import EngineContext

_WHICH_OBJECT = re.compile(
    r"(?:,|\band)\s+(?:(?:for|from|against|to|on|of)\s+)?(?:which|what)\s+", re.I
)
_STOP = re.compile(r"\s*(?:[,?.!;]|\band\b)", re.I)


def read_states(text: str, spec: ListSpec) -> list[tuple[int, int, str]]:
    """The entity's state words outside column clauses: (start, end, state)."""
    return [(s, e, state_name(spec, text[s:e])) for s, e in state_words(spec).spans(text)]


_OR = re.compile(r"\s*(?:,\s*)?(?:or(?:\s+otherwise)?|and/or)\s*", re.I)


def either(
    work: str, states: list[tuple[int, int, str]]
) -> tuple[list[tuple[str, ...]], list[tuple[int, int]]]:
    """States said one after another; 'expired or otherwise invalid' is one either-or filter."""
    groups: list[list[str]] = []
    joins: list[tuple[int, int]] = []
    end = -1
    for s, e, state in states:
        gap = _OR.fullmatch(work[end:s]) if groups else None
        if gap is not None:
            groups[-1].append(state)
            joins.append((end, s))
        else:
            groups.append([state])
        end = e
    return [tuple(dict.fromkeys(g)) for g in groups], joins


def which_objects(
    work: str, spec: ListSpec, ctx: EngineContext, start: int
) -> list[tuple[int, int, str]]:
    """'..., for which customers', '..., which charges did they refund': a column naming them.

    A later 'which <object>' asks for the object each row links to; the words up to the next
    comma or 'and' say how they link. Returns (start, end, column) for each.
    """
    out = []
    for m in _WHICH_OBJECT.finditer(work, start):
        near = ctx.lexicon.lists(work[m.end() : m.end() + 40])
        hit = next((h for h in near if h.start == 0), None)
        other = ctx.model.lists[hit.name] if hit is not None else None
        if other is None or other is spec:
            continue
        column = spec.column("customer") if other.name == CUSTOMERS else None
        column = column or next(
            (c for c in spec.columns if ctx.model.names_object(spec, c) is other), None
        )
        if column is not None:
            stop = _STOP.search(work, m.end())
            out.append((m.start(), stop.start() if stop else len(work), column.name))
    return out


_EARLIER = re.compile(
    r"\b(?:for|on|against|of|from)\s+(?:the\s+|their\s+|its\s+)?(?P<object>[a-z]+(?:\s+[a-z]+)?)"
    r"\s+(?:that\s+(?:were|was)\s+)?(?:made|created|charged|issued|placed|opened)\s+"
    r"(?:in\s+(?:an?\s+|the\s+)?(?:earlier|previous|prior)\s+(?:month|quarter|year|week|period)"
    r"|before\s+(?:then|that|this\s+(?:month|quarter|year|week|period)))\b",
    re.I,
)


def made_earlier(work: str, spec: ListSpec, ctx: EngineContext) -> tuple[int, int, str] | None:
    """'refunds ... for charges made in an earlier month': the linked object's day column.

    Returns (start, end, 'other.column'): that column must fall before the period asked about.
    """
    m = _EARLIER.search(work)
    if m is None:
        return None
    hit = next((h for h in ctx.lexicon.lists(m.group("object")) if h.start == 0), None)
    other = ctx.model.lists[hit.name] if hit is not None else None
    if other is None or other is spec or not ctx.model.reaches(spec, other):
        return None
    return m.start(), m.end(), f"{other.name}.{other.recent}"
