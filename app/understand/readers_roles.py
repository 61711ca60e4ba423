"""Readers of the role a word plays beside a metric word: a verb's object, a status of the rows.

"How much *tax* did we charge": "did we charge" is the verb whose object is tax, not a request
for gross volume. "How many charges were *declined*": "declined" says which charges count, so
the answer is the failed-charges count alone, not successful and failed charges side by side.
"Payments that *failed*": a status filter that the metric's own definition contradicts (successful
charges have no failed ones) moves to the sibling metric that counts that status. All come from
the semantic model (synonyms, ``where`` clauses, dimension expressions): no list of words here.
"""

from __future__ import annotations

import re

from app.core.plan import Filter
from app.semantic.model import Metric, SemanticModel
from app.understand.lexicon import Hit
from app.understand.reading import EngineContext, Reading, amend, blank

# "how much tax did we charge": the object (group obj) before the verb phrase (group verb).
_OBJECT_OF = re.compile(
    r"\bhow\s+much\s+(?P<obj>(?:\w+\s+){1,3}?)(?P<verb>(?:did|do|does|have|has|had)\s+"
    r"(?:we|i|you|our\s+\w+)\b)",
    re.IGNORECASE,
)
# Between a row word and the status that qualifies it: "charges were declined", "that failed".
_LINK = re.compile(
    r"^\s*(?:(?:that|which)\s+)?(?:(?:were|was|got|are|is|have\s+been|has\s+been|had\s+been|"
    r"been|being|get)\s+)?$",
    re.IGNORECASE,
)
_EQUALS = re.compile(r"^\s*([\w.]+)\s*=\s*'([^']*)'\s*$")
# "on which of the two days": a reference back to the things the question named.
_OF_THE_N = re.compile(
    r"\b(?:which|what|each|either|both)\s+(?P<of>of\s+(?:the|these|those)\s+"
    r"(?P<n>two|three|four|five|\d{1,2}))\b(?P<unit>\s+(?:days|dates|months|weeks|quarters|years)\b)?",
    re.IGNORECASE,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5}


def read_verb_object(r: Reading, ctx: EngineContext) -> Reading:
    """'How much tax did we charge': the metric is the verb's object, the verb names no metric."""
    m = _OBJECT_OF.search(r.text)
    if m is None or not r.metrics:
        return r
    hits = ctx.lexicon.metrics(r.text)
    objects = [h for h in hits if m.start("obj") <= h.start and h.end <= m.end("obj")]
    verbs = [h for h in hits if m.start("verb") <= h.start < m.end("verb") and h.kind == "metric"]
    if not objects or not verbs or any(h.kind != "metric" for h in objects):
        return r
    elsewhere = {h.name for h in hits if h not in verbs and h not in objects}
    dropped = {h.name for h in verbs} - elsewhere - {h.name for h in objects}
    kept = [n for n in r.metrics if n not in dropped]
    metrics = tuple(dict.fromkeys([*(h.name for h in objects), *kept]))
    masked = r.masked
    for h in [*objects, *verbs]:
        masked = blank(masked, h.start, h.end)
    return amend(r, metrics=metrics, masked=masked, named_metric=True)


def read_status_words(r: Reading, ctx: EngineContext) -> Reading:
    """Read a status said of the rows a count names: it picks the metric counting that status.

    "How many charges were declined": the failed-charges count alone. A status filter that the
    metric's definition excludes moves to the sibling metric that counts that status, when there
    is one; one that names one of several metrics asked for is no filter on the others.
    """
    if r.listing or not r.metrics or r.aggregate is not None:
        return r  # a statistic's rows are its measure's: a status outside them is refused later
    model = ctx.model
    hits = ctx.lexicon.metrics(r.text)
    metrics: tuple[str, ...] = _without_refined(r.metrics, hits, r.text, model)
    filters: list[Filter] = []
    for f in r.filters:
        moved = _apply_status(f, metrics, model, hits)
        if moved is None:
            filters.append(f)
        else:
            metrics = tuple(moved)
    metrics = tuple(dict.fromkeys(metrics))
    if metrics == r.metrics and tuple(filters) == r.filters:
        return r
    return amend(r, metrics=metrics, filters=tuple(filters))


def _without_refined(
    metrics: tuple[str, ...], hits: list[Hit], text: str, model: SemanticModel
) -> tuple[str, ...]:
    """Drop a count whose row word is followed by a status naming its sibling ("were declined")."""
    named = [h for h in hits if h.kind == "metric" and h.name in metrics]
    refined: set[str] = set()
    plain: set[str] = set()
    for a, b in zip(named, [*named[1:], None], strict=False):
        linked = b is not None and b.name != a.name and _LINK.match(text[a.end : b.start])
        if b is not None and linked and _status_of(model.metrics[b.name], model.metrics[a.name]):
            refined.add(a.name)
        else:
            plain.add(a.name)
    return tuple(n for n in metrics if n not in refined - plain)


def _apply_status(
    f: Filter, metrics: tuple[str, ...], model: SemanticModel, hits: list[Hit]
) -> list[str] | None:
    """The metrics with a status filter applied to them, or None when the filter stays a filter.

    A metric named with a status word of its own ("failed charges that succeeded") is not moved.
    """
    if f.op != "eq" or len(f.values) != 1 or f.dimension not in model.dimensions:
        return None
    dim = model.dimensions[f.dimension]
    expr, value = dim.expr, str(f.values[0])
    owns = [_constraint(model.metrics[name], expr) for name in metrics]
    if None in owns:
        return None  # a metric the status does not define: the filter stays
    if all(own == value for own in owns):
        return None  # the metrics' own status, said again: harmless, and read back
    if value in owns:
        return list(metrics)  # the status names one of the metrics asked for: nothing to add
    said = (
        {w.lower() for ws in dim.values.values() for w in ws}
        if isinstance(dim.values, dict)
        else set()
    )
    if any(h.name in metrics and said & set(h.phrase.split()) for h in hits):
        return None
    out: list[str] = []
    for name in metrics:
        base = model.metrics[name]
        sibling = next(
            (s for s in model.metrics.values() if _status_of(s, base) == (expr, value)), None
        )
        if sibling is None:
            return None
        out.append(sibling.name)
    return out


def _constraint(metric: Metric, expr: str) -> str | None:
    """The value a metric's ``where`` requires of ``expr`` (``status = 'succeeded'``), if any."""
    for clause in metric.where:
        m = _EQUALS.match(clause)
        if m is not None and m.group(1) == expr:
            return m.group(2)
    return None


def _status_of(metric: Metric, base: Metric) -> tuple[str, str] | None:
    """The (column, value) by which ``metric`` differs from ``base``, when that is its only change.

    Failed charges against successful charges: ("charges.status", "failed").
    """
    if metric.name == base.name or metric.aggregation != "flow" or base.aggregation != "flow":
        return None
    if (metric.table, metric.measure, metric.time) != (base.table, base.measure, base.time):
        return None
    mine, theirs = set(metric.where) - set(base.where), set(base.where) - set(metric.where)
    if len(mine) != 1 or len(theirs) != 1:
        return None
    a, b = _EQUALS.match(next(iter(mine))), _EQUALS.match(next(iter(theirs)))
    if a is None or b is None or a.group(1) != b.group(1):
        return None
    return a.group(1), a.group(2)


def read_back_reference(r: Reading, ctx: EngineContext) -> Reading:
    """'On which of the two days': "of the two" counts the days (or values) the question named.

    It asks for nothing new when the number is that of the periods said or of one filter's values
    (the column for them is read elsewhere); any other number is left for the last reader.
    """
    m = _OF_THE_N.search(r.masked)
    if m is None:
        return r
    word = m.group("n").lower()
    n = int(word) if word.isdigit() else _NUMBERS[word]
    said = {len(r.time.all_ranges), *(len(f.values) for f in (*r.filters, *r.list_filters))}
    if n < 2 or n not in said:
        return r
    masked = blank(r.masked, *m.span("of"))
    if m.group("unit") and n == len(r.time.all_ranges):  # "which of the two days": those days
        masked = blank(masked, *m.span("unit"))
    return amend(r, masked=masked)
