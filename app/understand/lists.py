"""Read a row-by-row list question (lists.yaml) into the Reading, and turn it into a list plan.

"Which were the 5 most recent failed charges, with card brand and failure message?" names an
entity (charges), a state (failed), an order with a count (most recent, 5) and columns (after
"with", in parentheses, or after "their"); "the largest charge of each customer" keeps one row
per group. Every word used is blanked from ``Reading.masked``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from app.core.plan import (
    Assumption,
    Filter,
    NeedsClarification,
)
from app.semantic.model import ListSpec
from app.understand.lexicon import WEAK_METRIC_WORDS
from app.understand.list_columns import read_columns
from app.understand.list_entity import Entity, find_entity
from app.understand.list_plan import list_shape, row_limit
from app.understand.list_states import either, made_earlier, read_states, which_objects
from app.understand.list_words import (
    Clause,
    OrderWords,
    age,
    at_least,
    clauses,
    column_words,
    group_markers,
    group_start,
    ids,
    norm,
    order_words,
    which_n,
)
from app.understand.readers import joined_range
from app.understand.readers_words import RANKING_PATTERNS
from app.understand.reading import EngineContext, Reading, amend, blank
from app.understand.reports import names_report

_AGG = re.compile(
    r"(?<!'s )(?<!’s )(?<!its )(?<!their )"  # "each invoice's total" is a column, not a total
    r"\b(how\s+many|number\s+of|count|total|sum|how\s+much|average|avg|mean|median|"
    r"amount\s+of)\b",
    re.I,
)
_BREAKDOWN = re.compile(
    r"(?<!sorted )(?<!ordered )\b(by|across|per|(?:for|of|in)\s+(?:each|every))\b", re.I
)
_BREAK_DOWN = re.compile(
    r"\b(?:break(?:s|ing)?\s+(?:it\s+|them\s+)?down|broken\s+(?:down|out)|split(?:\s+up)?"
    r"|grouped|bucketed)\s+(?:by|per|across)\b",
    re.I,
)
_HOW_MUCH = re.compile(
    r"(?:,|\band)\s+(?:for\s+)?how\s+much\b(?=\s*(?:[?.!]|$|(?:was|is|were|each|it|they)\b))"
    r"(?:\s+(?:was|is|were)\s+(?:it|they|each)|\s+(?:each|it|they))?",
    re.I,
)
# "Which jurisdictions collected the most tax": a ranking of a metric's sums, not rows.
_MOST = re.compile(r"\b(?:most|least|fewest)\s+", re.I)
_SHOW = re.compile(r"\b(list|show|display|give|find)\b", re.I)
_WHICH = re.compile(r"\b(which|what)\s+$", re.I)
_WRITE = re.compile(
    r"\b(insert|delete|update|drop|remove|create|add|set|mark|change|alter|truncate|merge)\b", re.I
)
_ROWS_ASKED = re.compile(r"\b(?:which|list)\b", re.I)  # rows, where "show" may ask for the count
_EACH = re.compile(r"\b(?:each|every)\s+$", re.I)


def read_listing(r: Reading, ctx: EngineContext) -> Reading:
    """Read a list: entity, states, columns, order, groups and ids; blank what it used."""
    if _WRITE.match(r.text.strip()):
        return r  # "insert a refund of $100": a write request, never read as a list
    if r.aggregate is not None:
        return r  # "the median amount of USD charges": a statistic over the rows, not a list
    if not ctx.lexicon.lists(r.text):
        return r  # no entity word: nothing to list
    if r.dimensions:
        return r  # an earlier reader read a breakdown's rows ("subscriptions that churned, MRR")
    work = _with_metric_words(r, ctx)
    found = clauses(work)
    entity = find_entity(work, ctx, found)
    if entity is None:
        return r
    spec = ctx.model.lists[entity.name]
    spans: list[tuple[int, int]] = [*entity.spans]
    much = _HOW_MUCH.search(work, entity.start) if spec.amount else None
    asked = which_objects(work, spec, ctx, entity.start)
    extra = [(much.start(), much.end())] if much is not None else []
    extra += [(s, e) for s, e, _ in asked]
    found = sorted([*found, *(Clause(s, e, e, False) for s, e in extra)], key=lambda c: c.start)
    if _asks_numbers(r, ctx, work, found, entity):
        return r  # a total or a breakdown of the entity: no need to read its columns

    def outside(text: str) -> str:
        for s, e in [*spans, *((c.start, c.end) for c in found)]:
            text = blank(text, s, e)
        return text

    id_filters = []  # first: "payout po_123" names the id, not a payout state
    for s, e, column, value in ids(work, spec):
        id_filters.append(Filter(dimension=column, values=(value,)))
        spans.append((_noun_before(work, s, spec), e))
    picked = len(id_filters)  # the filters by a Stripe id (an age or an earlier day come next)
    states = read_states(outside(work), spec)
    spans += [(s, e) for s, e, _ in states]
    alternatives, joins = either(work, states)
    spans += joins
    order = _order(outside(work), spec, entity)
    if order is not None:
        spans.append((order.start, order.end))
    group, group_span = _group(outside(work), spec, entity, ctx, order)
    if group_span:
        spans.append(group_span)
    old = age(outside(work), ctx.as_of)
    if old is not None:  # "older than 30 days": dated before the cut-off day
        op = "lte" if old.inclusive else "lt"
        id_filters.append(Filter(dimension=spec.recent, op=op, values=(old.before.isoformat(),)))
        spans.append((old.start, old.end))
    earlier = made_earlier(outside(work), spec, ctx) if r.range is not None else None
    if earlier is not None and r.range is not None:  # "for charges made in an earlier month"
        start = r.range.start.isoformat()
        id_filters.append(Filter(dimension=earlier[2], op="lt", values=(start,)))
        spans.append(earlier[:2])
    count = which_n(outside(work))
    if count is not None:
        spans.append(count[:2])
    least = at_least(r.text) if entity.subject else None  # "than" may be read as a comparison
    if least is not None:  # "customers with two or more failed charges", "paid more than once"
        spans.append(least[:2])
    named = work  # the entity's own words name its rows, not a column ("with failed charges")
    for s, e in [*entity.spans, *([least[:2]] if least else [])]:  # nor "more than 3"
        named = blank(named, s, e)
    cols = read_columns(named, spec, found, entity.subject, ctx, outside(work))
    more = [*entity.asked, *(name for _, _, name in asked)]
    if much is not None:  # "..., for which customers and how much?": each row's amount
        more.append(next(c.name for c in spec.columns if c.expr == spec.amount))
    if more:
        cols = replace(cols, names=(*cols.names, *more), in_clauses=cols.in_clauses + len(more))
    spans += cols.spans
    each = _EACH.search(work[: entity.start])  # "on each invoice": every row, one by one
    if each is not None:
        spans.append((each.start(), each.end()))
    strong = bool(cols.in_clauses or order or group_span or id_filters or count or each or least)
    remainder = outside(work)
    covered = _metric_covers_entity(r, ctx, entity, states)
    if _blocked(r, ctx, work, remainder, entity, states, found, [*spans, *cols.spans]):
        return r
    show = _SHOW.search(remainder) is not None
    row_words = order or group_span or id_filters or count or each or show or states
    if names_report(r.text, ctx) and not row_words:
        return r  # "balance activity in 2025 (gross, net)": a report's sums, not its rows
    which = bool(_WHICH.search(work[: entity.start]))
    if not (strong or show or (not covered and (states or which))):
        return r
    masked = r.masked
    for s, e in spans:
        masked = blank(masked, s, e)
    state_filters = [Filter(dimension="state", values=(w,)) for w in entity.states]
    state_filters += [Filter(dimension="state", values=group) for group in alternatives]
    state_filters += [Filter(dimension="state", values=(w,)) for w in cols.states]
    limit = row_limit(order, count, group, entity)
    columns, plan_order, per_group = list_shape(
        spec,
        cols,
        order,
        group,
        entity,
        least[2] if least and least[2] > 1 else None,
        by_id=any(f.dimension != spec.key for f in id_filters[:picked]),
    )
    notes = [Assumption(key="list_column_missing", text=t) for t in cols.missing]
    merged = joined_range(r.time.all_ranges, r.text) if r.comparison is not None else None
    if merged is not None:  # "charges made on Dec 30 and Dec 31": one list over both days
        r = amend(r, range=merged, comparison=None)
    return amend(
        r,
        masked=masked,
        clarify=_clarify_left(r, ctx, spans),
        listing=entity.name,
        list_filters=(*dict.fromkeys(state_filters), *id_filters),
        list_columns=columns,
        list_order=plan_order,
        list_group=per_group,
        list_limit=limit,
        list_limit_by=spec.parent if entity.by_parent and limit else None,
        assumptions=(*r.assumptions, *notes),
    )


def _clarify_left(
    r: Reading, ctx: EngineContext, spans: list[tuple[int, int]]
) -> NeedsClarification | None:
    """The clarification still due: none once the list read every ambiguous word ('made')."""
    ambiguous = [h for h in ctx.lexicon.metrics(r.text) if h.kind == "ambiguous"]
    if all(any(s <= h.start and h.end <= e for s, e in spans) for h in ambiguous):
        return None
    return r.clarify


def _with_metric_words(r: Reading, ctx: EngineContext) -> str:
    """The masked question with metric and ranking words put back: a list reads them itself.

    Metric words name the listed entity; "largest"/"top 5" order and limit its rows; "made" after
    the entity says when its rows were made.
    """
    work = r.masked
    untimed = r.text  # "disputes from last quarter did we lose": a metric phrase around a period
    for start, end in r.time.spans:
        untimed = blank(untimed, start, end)
    spans = [(h.start, h.end) for h in ctx.lexicon.metrics(r.text)]
    spans += [(h.start, h.end) for h in ctx.lexicon.metrics(untimed)]
    spans += ctx.lexicon.senses_elsewhere(r.text)  # "charges made in an earlier month"
    spans += [m.span() for p in RANKING_PATTERNS for m in p.finditer(r.text)]
    for start, end in spans:
        work = work[:start] + untimed[start:end] + work[end:]
    return work


def _order(text: str, spec: ListSpec, entity: Entity) -> OrderWords | None:
    """An order phrase; one by size must sit right before the entity word."""
    order = order_words(text, by_size=spec.order is not None)
    if order is not None and not order.recent and not 0 <= entity.start - order.end <= 30:
        return None
    return order


def _group(
    text: str, spec: ListSpec, entity: Entity, ctx: EngineContext, order: OrderWords | None
) -> tuple[str | None, tuple[int, int] | None]:
    """'of each customer', 'per product': the catalogue column the rows are grouped by."""
    table, words = column_words(spec)
    for at in group_markers(text):
        span = next(iter(table.spans(text[at : at + 40])), None)
        own = [h for h in ctx.lexicon.lists(text[at : at + 40]) if h.start == 0]
        if own and own[0].name == entity.name:
            return None, (group_start(text, at), at + own[0].end)  # "on each invoice": all rows
        if span is not None and span[0] == 0 and order is not None:
            column = words[norm(text[at : at + span[1]])]
            return column, (group_start(text, at), at + span[1])
    return None, None


def _noun_before(work: str, start: int, spec: ListSpec) -> int:
    """Where the noun before an id starts ("subscription sub_123"), else the id's start."""
    m = re.search(r"(\w+)\s+$", work[:start])
    table, _ = column_words(spec)
    if m and any(s == 0 for s, _ in table.spans(m.group(1))):
        return m.start(1)
    return start


def _metric_covers_entity(
    r: Reading, ctx: EngineContext, entity: Entity, states: list[tuple[int, int, str]]
) -> bool:
    """A metric phrase that is the entity and a state ("failed charges", "active subscriptions")."""
    for h in ctx.lexicon.metrics(r.text):
        if any(h.start <= s and e <= h.end for s, e in entity.spans) and any(
            h.start <= s and e <= h.end for s, e, _ in states
        ):
            return True
    return False


def _asks_numbers(
    r: Reading, ctx: EngineContext, work: str, found: list[Clause], entity: Entity
) -> bool:
    """A total, "the most" or "break down by": numbers, not rows (known before reading the list)."""
    said = work  # "total" outside a column clause asks for a total, even if a column has it
    for c in found:
        said = blank(said, c.start, c.end)
    starts = {h.start for h in ctx.lexicon.metrics(r.text)}
    if any(m.end() in starts for m in _MOST.finditer(said)):
        return True
    if _AGG.search(said):
        return True
    return any(  # "how do its amounts break down by type"; not "by fee type" naming child rows
        not any(s <= m.end() - 1 < e for s, e in entity.spans) for m in _BREAK_DOWN.finditer(work)
    )


def _blocked(
    r: Reading,
    ctx: EngineContext,
    work: str,
    remainder: str,
    entity: Entity,
    states: list[tuple[int, int, str]],
    found: list[Clause],
    read: list[tuple[int, int]],
) -> bool:
    """A breakdown or another metric: the question asks for numbers, not rows.

    `read` are the spans the list reader used (entity, states, ids, columns...). The words that
    ask for numbers whatever the list reads (`_asks_numbers`) were checked before reading it.
    """
    if any(
        not (entity.parent and not remainder[m.end() : entity.start].strip())
        for m in _BREAKDOWN.finditer(remainder)
    ):  # "by jurisdiction" after one line item's id names its rows, not a breakdown
        return True
    used = [*read, *((s, e) for s, e, _ in states)]
    used += [(c.start, c.end) for c in found]
    for h in ctx.lexicon.metrics(r.text):
        if h.phrase in WEAK_METRIC_WORDS or any(s <= h.start and h.end <= e for s, e in used):
            continue
        inside = [(s, e) for s, e in entity.spans if h.start <= s and e <= h.end]
        if inside and any(h.start <= s and e <= h.end for s, e, _ in states):
            continue  # "failed charges": the entity in a state, not another metric
        if inside and _ROWS_ASKED.search(r.text) and _counts_its_rows(ctx, h.name, entity):
            continue  # "which customers signed up in May": the rows new customers counts
        return True
    return False


def _counts_its_rows(ctx: EngineContext, metric: str, entity: Entity) -> bool:
    """Whether a metric counts the listed rows made in the period, unfiltered ('new customers')."""
    m, spec = ctx.model.metrics[metric], ctx.model.lists[entity.name]
    made = next((c.expr for c in spec.columns if c.name == spec.recent), None)
    return (
        m.table == spec.table
        and m.measure == "count(*)"
        and not m.where
        and m.time is not None
        and made is not None
        and m.time.split(".")[-1] == made.split(".")[-1]
    )
