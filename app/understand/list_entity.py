"""The entity a list question names: the rows it lists (states and 'which X': list_states.py).

"Which refunds on our balance ...": the entity word (or the place) picks the list, a state word
before it a state; "customers with failed charges" lists those charges' customers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from app.semantic.model import ListSpec
from app.understand.lexicon import Hit
from app.understand.list_parent import split_parent
from app.understand.list_words import (
    Clause,
    column_words,
    group_markers,
    norm,
    state_name,
    state_words,
)
from app.understand.reading import EngineContext

CUSTOMERS = "customers"

_ASKS = re.compile(r"\b(?:which|what)\s+$", re.I)
_COUNTED = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|latest|last|most\s+recent|"
    r"newest|oldest|first|largest|biggest)\b",
    re.I,
)
_LINK_VERB = re.compile(
    r"\s+(?:(?:made|issued|created|taken|raised|opened|filed)\s+)?(?:against|on|for|from)\b"
    r"|\s+(?:go|went|gone|were\s+paid|was\s+paid)\s+out\s+in\b",
    re.I,
)


@dataclass(frozen=True)
class Entity:
    """The listed entity, the spans that named it, and whether customers are the subject."""

    name: str
    spans: tuple[tuple[int, int], ...]
    subject: bool  # "Which customers had failed charges?": the rows are about customers
    start: int
    plural: bool
    states: tuple[str, ...] = ()  # "refunds on our balance": balance transactions of type refund
    asked: tuple[str, ...] = ()  # "Which charges were our 5 latest refunds for?": column charge
    parent: bool = False  # one document is named by its id: the rows are its children
    by_parent: bool = False  # "the 5 most recent transactions": the limit counts the rows' parents


def find_entity(work: str, ctx: EngineContext, found: list[Clause]) -> Entity | None:
    """The listed entity: the first entity word outside column clauses and groups."""
    markers = set(group_markers(work))
    hits = [
        h
        for h in ctx.lexicon.lists(work)
        if h.start not in markers and not any(c.start <= h.start < c.end for c in found)
    ]
    placed = _placed(work, ctx, hits)
    if placed is not None:
        return placed
    children = _child_rows(work, ctx, hits)
    if children is not None:
        return children
    unclaused = [
        h for h in ctx.lexicon.lists(work) if not any(c.start <= h.start < c.end for c in found)
    ]
    owned = _owned(work, ctx, unclaused)
    if owned is not None:
        return owned
    having = _customers_having(work, ctx, hits, found)
    if having is not None:
        return having
    hits = [h for h in hits if not _in_state_of_another(h, hits, work, ctx)]
    hits, parent = split_parent(hits, work, ctx)
    entity = _first_entity(hits, work, ctx, found)
    if entity is None or parent is None:
        return entity
    return replace(entity, spans=(*entity.spans, (parent.start, parent.end)), parent=True)


_THEIR = re.compile(r"\b(?:their|its)\s+$", re.I)


def _customers_having(
    work: str, ctx: EngineContext, hits: list[Hit], found: list[Clause]
) -> Entity | None:
    """'Customers (id and email) with failed charges': the customers those charges belong to.

    Rows of another entity named in a 'with' clause after 'customers' (not 'with their X', which
    asks for columns) are the list's subject, one row per customer, like "which customers had
    failed charges".
    """
    if len(hits) != 1 or hits[0].name != CUSTOMERS:
        return None
    first = hits[0]
    for c in found:
        if c.exact or c.start < first.end:
            continue
        for h in ctx.lexicon.lists(work[c.start : c.end]):
            spec = ctx.model.lists[h.name]
            at = c.start + h.start
            if spec.name == CUSTOMERS or spec.column("customer") is None:
                continue
            if _THEIR.search(work, c.start, at):
                continue
            child = Hit(start=at, end=c.start + h.end, kind=h.kind, name=h.name, phrase=h.phrase)
            spans = ((first.start, first.end), (child.start, child.end))
            return Entity(child.name, spans, True, child.start, _plural(work, child))
    return None


_NAMED_BY_ID = re.compile(r"\s+[a-z]+(?:_[a-z]+)?_[A-Za-z0-9]+\b")
_BY = re.compile(r"\b(?:by|per)\s+(?:(?:each|every|their|its|the)\s+)?", re.I)


def _child_rows(work: str, ctx: EngineContext, hits: list[Hit]) -> Entity | None:
    """Rows that belong to parents the question counts or orders (a list's `parent`).

    "each fee component of our 5 most recent transactions": the fee components, the limit
    counting transactions; "break down the fees on our 5 latest balance transactions by fee
    type": a column only the child rows have, after "by", names them.
    """
    model = ctx.model
    for child in hits:
        spec = model.lists[child.name]
        if spec.parent is None:
            continue
        words = {norm(w) for w in spec.parent_words}
        for p in hits:
            if p is not child and norm(work[p.start : p.end]) in words:
                spans = ((child.start, child.end), (p.start, p.end))
                return Entity(child.name, spans, False, p.start, True, by_parent=True)
    for p in hits:
        said = norm(work[p.start : p.end])
        for spec in model.lists.values():
            if spec.parent is None or spec.name == p.name or said not in spec.parent_words:
                continue
            table, names = column_words(spec)
            own, _ = column_words(model.lists[p.name])
            for m in _BY.finditer(work, p.end):
                near = work[m.end() : m.end() + 40]
                span = next((x for x in table.spans(near) if x[0] == 0), None)
                if span is None or any(x == span for x in own.spans(near)):
                    continue  # a column the parent has itself: a breakdown of the parents
                spans = ((p.start, p.end), (m.start(), m.end() + span[1]))
                column = names[norm(near[: span[1]])]
                return Entity(
                    spec.name, spans, False, p.start, True, asked=(column,), by_parent=True
                )
    return None


_EVERY = re.compile(r"\b(?:for\s+)?(?:each|every|all)\s+(?:of\s+)?(?:(?:our|the|my)\s+)?$", re.I)
_HAS = re.compile(
    r"\s+(?:(?P<that>that|which|who)\s+)?(?:has|have|had|carry|carries)\s+"
    r"(?:(?:a|an|any|some|at\s+least\s+one|one\s+or\s+more)\s+)?",
    re.I,
)


def _owned(work: str, ctx: EngineContext, hits: list[Hit]) -> Entity | None:
    """'For every subscription that has a discount, ...': the discounts, showing their subscription.

    The rows are the objects the other one has (each links to it many-to-one); a state of theirs
    that only says the link is set ("on subscriptions") is applied. Customers keep their own
    reading (one row per customer).
    """
    for owner in hits:
        has = _HAS.match(work, owner.end)
        h = _named_at(work, has.end(), ctx) if has is not None else None
        if has is None or h is None or owner.name in (CUSTOMERS, h.name):
            continue
        if not has.group("that") and not _ASKS.search(work[: owner.start]):
            continue  # "which subscriptions have a discount", not "invoices has subscription"
        if _NAMED_BY_ID.match(work, h.end):
            continue  # "has subscription sub_1…": one object named, not the rows to list
        every = _EVERY.search(work[: owner.start])
        start = every.start() if every is not None else owner.start
        found = _linked(h, owner, ((start, has.end()), (h.start, h.end)), ctx)
        if found is not None:
            return found
    for rows in hits:  # "discounts applied to each of our subscriptions"
        for m in _APPLIED.finditer(work, rows.end):
            to = next((o for o in hits if o.start == m.end()), None)
            if to is not None and to.name not in (CUSTOMERS, rows.name):
                spans = ((rows.start, rows.end), (m.start(), to.end))
                found = _linked(rows, to, spans, ctx)
                if found is not None:
                    return found
    return None


def _named_at(work: str, at: int, ctx: EngineContext) -> Hit | None:
    """The list an entity word at `at` names, said in the plural or the singular ('a discount')."""
    word = re.match(r"[A-Za-z]+", work[at:])
    if word is None:
        return None
    for text, extra in ((work[at : at + 40], 0), (f"{word.group(0)}s{work[word.end() + at :]}", 1)):
        hit = next((h for h in ctx.lexicon.lists(text[:41]) if h.start == 0), None)
        if hit is not None and hit.end - extra >= word.end():
            return Hit(at, at + hit.end - extra, hit.kind, hit.name, hit.phrase)
    return None


_APPLIED = re.compile(
    r"\b(?:(?:are|is|were|was)\s+)?(?:applied|attached)\s+to\s+"
    r"(?:(?:each|every|all)(?:\s+(?:one\s+)?of)?\s+)?(?:(?:our|the|my)\s+)?",
    re.I,
)


def _linked(
    h: Hit, owner: Hit, spans: tuple[tuple[int, int], ...], ctx: EngineContext
) -> Entity | None:
    """The rows `h` names, each showing the `owner` object it links to and keeping those linked."""
    spec, other = ctx.model.lists[h.name], ctx.model.lists[owner.name]
    column = next((c for c in spec.columns if ctx.model.names_object(spec, c) is other), None)
    if column is None:
        return None
    linked = [f"{column.expr} IS NOT NULL"]
    states = tuple(name for name, where in spec.states.items() if list(where) == linked)
    return Entity(h.name, spans, False, h.start, True, states[:1], asked=(column.name,))


def _in_state_of_another(h: Hit, hits: list[Hit], work: str, ctx: EngineContext) -> bool:
    """Whether an entity word is part of another named entity's state.

    "Invoice-based tax transactions": "invoice" is no list of invoices.
    """
    for other in {x.name for x in hits if x.name != h.name}:
        spans = state_words(ctx.model.lists[other]).spans(work)
        if any(s <= h.start and h.end <= e for s, e in spans):
            return True
    return False


def _first_entity(
    hits: list[Hit], work: str, ctx: EngineContext, found: list[Clause]
) -> Entity | None:
    """The first entity word that is no modifier of the next one (customers: see below)."""
    keep: list[Hit] = []
    for i, h in enumerate(hits):
        after = hits[i + 1] if i + 1 < len(hits) else None
        if after is None or work[h.end : after.start].strip():
            keep.append(h)  # not "refund balance transactions": a modifier, maybe a state
    if not keep:
        return None
    first = keep[0]
    linked = _object_of(work, ctx, keep)
    if linked is not None:
        return linked
    if first.name == CUSTOMERS and len(keep) > 1:
        second = keep[1]
        spans = ((first.start, first.end), (second.start, second.end))
        return Entity(second.name, spans, True, second.start, _plural(work, second))
    if first.name == CUSTOMERS and not _has_state(work, ctx.model.lists[CUSTOMERS], found):
        for spec in ctx.model.lists.values():
            if spec.name != CUSTOMERS and _has_state(work, spec, found):
                return Entity(spec.name, ((first.start, first.end),), True, first.start, True)
    return Entity(first.name, ((first.start, first.end),), False, first.start, _plural(work, first))


def _object_of(work: str, ctx: EngineContext, keep: list[Hit]) -> Entity | None:
    """'Which charges were our latest 5 refunds made against?': refunds, showing their charge.

    The question asks which object a counted or ordered set of other rows links to.
    """
    if len(keep) < 2 or not _ASKS.search(work[: keep[0].start]):
        return None
    first, second = keep[0], keep[1]
    spec, other = ctx.model.lists[second.name], ctx.model.lists[first.name]
    between = work[first.end : second.start]
    if other is spec or not _COUNTED.search(between) or other.name == CUSTOMERS:
        return None
    column = next((c for c in spec.columns if ctx.model.names_object(spec, c) is other), None)
    if column is None:
        return None
    verb = _LINK_VERB.match(work, second.end)
    spans = [(first.start, first.end), (second.start, second.end)]
    spans += [verb.span()] if verb is not None else []
    return Entity(spec.name, tuple(spans), False, second.start, True, asked=(column.name,))


def _placed(work: str, ctx: EngineContext, hits: list[Hit]) -> Entity | None:
    """'refunds on our balance', 'transactions in our Stripe balance': the place's entity.

    The entity words right before the place name its rows; one that is a state of the place's
    entity ('refunds', 'refund') is read as that state.
    """
    for spec in ctx.model.lists.values():
        if not spec.places:
            continue
        for m in _place_pattern(spec.places).finditer(work):
            chain = [h for h in hits if h.end <= m.start()]
            run: list[Hit] = []
            for h in reversed(chain):
                if work[h.end : (run[0].start if run else m.start())].strip():
                    break
                run.insert(0, h)
            if not run or any(h.name == CUSTOMERS for h in run):
                continue
            states = tuple(
                state
                for h in run
                for state in [_state_of(work[h.start : h.end], spec)]
                if state is not None
            )
            spans = (*((h.start, h.end) for h in run), (m.start(), m.end()))
            return Entity(spec.name, spans, False, run[0].start, True, states)
    return None


@functools.cache
def _place_pattern(places: tuple[str, ...]) -> re.Pattern[str]:
    """' on our balance', ' in the Stripe balance': a place of an entity's rows, after its words."""
    words = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in places)
    return re.compile(rf"\s+(?:on|in|to|from|of)\s+(?:(?:our|the|my)\s+)?(?:{words})\b", re.I)


def _state_of(word: str, spec: ListSpec) -> str | None:
    """The entity's state a word names, in the singular or plural ('refunds' → refund)."""
    w = state_name(spec, word)
    return next((s for s in (w, w.removesuffix("s")) if s in spec.states), None)


def _plural(work: str, h: Hit) -> bool:
    return work[h.start : h.end].lower().endswith("s")


def _has_state(work: str, spec: ListSpec, found: list[Clause]) -> bool:
    return any(
        not any(c.start <= s < c.end for c in found) for s, _ in state_words(spec).spans(work)
    )
