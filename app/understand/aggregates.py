"""Readers of statistics over single rows and of a flow's time parts.

"The median charge amount", "how many distinct customers paid us" become a QueryPlan.aggregate;
"which weekday had the most charges", "by hour of day" become time-part breakdowns.
"""

from __future__ import annotations

import re

from app.core.plan import Aggregate, AggregateFunc, Assumption
from app.semantic.model import Measure, Metric
from app.understand.reading import EngineContext, Reading, amend, blank

_FUNC = re.compile(
    r"\b(?:(?P<median>median|typical)|(?P<avg>average|avg|mean)"
    r"|p(?P<p1>[1-9]\d?)|(?P<p2>[1-9]\d?)(?:st|nd|rd|th)[\s-]+percentile|percentile\s+(?P<p3>[1-9]\d?)"
    r"|(?P<min>minimum|min|(?:smallest|lowest)\s+single)"
    r"|(?P<max>maximum|max|(?:largest|biggest|highest)\s+single)"
    r"|(?P<distinct>(?:(?:how\s+many|number\s+of|count\s+of)\s+)?(?:distinct|unique|different))"
    r"|(?P<count>how\s+many|number\s+of))\b",
    re.IGNORECASE,
)
_FILLERS = frozenset({"the", "a", "an", "our", "my", "all", "of", "one", "single", "each", "every"})
_LEAD = re.compile(r"\s*(?:(?:the|a|an|our|one|single|each)\s+)*", re.I)
_AMOUNT_OF = re.compile(
    r"(amount|size|value|total)s?\s+(?:of|per|for|on)\s+(?:(?:the|a|an|our|all|each|every)\s+)?",
    re.I,
)
_DAY_OF_WEEK = re.compile(r"\b(?:by\s+|per\s+|each\s+)?day\s+of\s+(?:the\s+)?weeks?\b", re.I)
_FEWEST = re.compile(r"\bfewest\b", re.I)
# "with the count and the average …": the count of the statistic's own rows, no noun needed.
_PLAIN_COUNT = re.compile(
    r"\b(?:with|and|plus|give|show)\s+(?:me\s+)?(?:the\s+|a\s+|their\s+)?"
    r"(count|counts|number|numbers)\b(?!\s+of\b)",
    re.I,
)
_COUNT_VERB = re.compile(r"\bcount\s+(?:the\s+|our\s+|all\s+)?(\w+)", re.I)
TIME_PARTS = {"weekday": ("weekdays", 7), "hour_of_day": ("hours of the day", 24)}


def read_aggregate(r: Reading, ctx: EngineContext) -> Reading:
    """Read a statistic over single rows: its function word and its measure; blank both."""
    for m in _FUNC.finditer(r.masked):
        func, p = _func(m)
        if func is None:
            continue
        found = _measure_after(r.masked, m.end(), func, m.group("count") is not None, ctx)
        previous = ctx.previous.aggregate if ctx.previous is not None else None
        if found is None and previous is not None and m.group("count") is None:
            found = (previous.measure, [])  # "and the median?" after "average charge amount"
        if found is None:
            continue
        name, spans = found
        end = max((e for _, e in spans), default=m.end())
        hits = ctx.lexicon.metrics(r.masked)
        if any(h.start <= m.start() and end <= h.end for h in hits):
            continue  # a metric's own name: "average revenue per user" is ARPU
        masked = r.masked
        for start, end in [(m.start(), m.end()), *spans]:
            masked = blank(masked, start, end)
        notes = (
            (Assumption(key="typical_median", text="'Typical' was read as the median."),)
            if m.group("median") and m.group("median").lower() == "typical"
            else ()
        )
        aggregate = Aggregate(func=func, measure=name, p=p)
        return amend(r, masked=masked, aggregate=aggregate, assumptions=(*r.assumptions, *notes))
    return r


def _func(m: re.Match[str]) -> tuple[AggregateFunc | None, float | None]:
    """The function a matched word names (and the percentile as a fraction)."""
    named: tuple[AggregateFunc, ...] = ("median", "avg", "min", "max")
    for func in named:
        if m.group(func):
            return func, None
    digits = m.group("p1") or m.group("p2") or m.group("p3")
    if digits:
        return "percentile", int(digits) / 100
    if m.group("distinct") or m.group("count"):
        return "count_distinct", None
    return None, None


def _measure_after(
    masked: str, start: int, func: AggregateFunc, plain_count: bool, ctx: EngineContext
) -> tuple[str, list[tuple[int, int]]] | None:
    """The measure named right after the function word, and the spans that name it.

    Only filter values ("USD", "successful") and articles may stand between the two: "mean time
    to pay invoices" names no invoice total.
    """
    key = func == "count_distinct"
    measures = [ms for ms in ctx.model.measures.values() if (ms.unit == "key") == key]
    values = [(h.start, h.end) for h, _ in ctx.lexicon.values(masked)]
    best: tuple[int, int, str] | None = None
    for ms in measures:
        for word in ms.words:
            if plain_count and " " not in word:
                continue  # "how many customers" is the customers metric; "who paid" is a measure
            w = re.compile(rf"\b{re.escape(word)}\b", re.I).search(masked, start)
            if w is None or not _only_fillers(masked, start, w.start(), values):
                continue
            if best is None or (w.start(), -w.end()) < (best[0], -best[1]):
                best = (w.start(), w.end(), ms.name)
    if best is not None:
        return best[2], [(best[0], best[1])]
    if key:
        return None
    return _amount_of_rows(masked, start, measures, values)


def _amount_of_rows(
    masked: str, at: int, measures: list[Measure], values: list[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]] | None:
    """'the amount of successful charges', 'median refund': a money measure by its rows' noun."""
    spans: list[tuple[int, int]] = []
    lead = _LEAD.match(masked, at)
    amount = _AMOUNT_OF.match(masked, lead.end() if lead else at)
    if amount is not None:
        spans.append((amount.start(), amount.end()))
        at = amount.end()
    best: tuple[int, int, str] | None = None
    for ms in measures:
        for word in ms.entity_words:
            w = re.compile(rf"\b{re.escape(word)}\b(?!\s+(?:rate|ratio|count|fees?)\b)", re.I)
            hit = w.search(masked, at)
            if hit is None or not _only_fillers(masked, at, hit.start(), values):
                continue
            if best is None or hit.start() < best[0]:
                best = (hit.start(), hit.end(), ms.name)
    if best is None:
        return None
    return best[2], [*spans, (best[0], best[1])]


def _only_fillers(masked: str, start: int, end: int, values: list[tuple[int, int]]) -> bool:
    """Whether masked[start:end] holds only filter values, articles and blanked words."""
    gap = masked[start:end]
    for s, e in values:
        if start <= s and e <= end:
            gap = blank(gap, s - start, e - start)
    return all(w.lower() in _FILLERS for w in re.findall(r"[\w$€£']+", gap))


def read_aggregate_metric(r: Reading, ctx: EngineContext) -> Reading:
    """With a statistic read: its measure's metric is the plan's, and the question lists nothing.

    Runs after the metric and list readers; another metric named beside the statistic is not
    computed, and the answer says so.
    """
    if r.aggregate is None:
        return r
    measure = ctx.model.measures[r.aggregate.measure]
    named = r.metrics if r.named_metric else ()
    masked = r.masked
    if (said := _count_rows(r.text, measure)) is not None:  # "count payments": its rows counted
        inside = {h.name for h in ctx.lexicon.metrics(r.text) if said[0] <= h.start < said[1]}
        named = (*(n for n in named if n not in inside), measure.metric)
        masked = blank(masked, *said)
    counts = [n for n in named if _counts_rows_of(ctx.model.metrics[n], measure)]
    others = [n for n in named if n != measure.metric and n not in counts]
    notes = [
        Assumption(
            key="aggregate_only",
            text=f"Only the {measure.label.lower()} statistic was computed; ask separately for "
            + ", ".join(ctx.model.metrics[n].label for n in others)
            + ".",
        )
    ]
    aggregate = r.aggregate
    if (plain := _PLAIN_COUNT.search(masked)) is not None and not others:
        counts = counts or [measure.metric]  # "with the count and the median score"
        masked = blank(masked, *plain.span(1))
    if counts and not others:  # "the number of payments and their average risk score"
        aggregate = aggregate.model_copy(update={"with_metrics": True})
        rows = ctx.model.metrics[measure.metric]
        if counts != [measure.metric] or said is not None:
            text = (
                f"The count is of the rows the {measure.label.lower()} is taken over: "
                f"{rows.label.lower()} ({rows.definition.rstrip('.').lower()})."
            )
            notes = [Assumption(key="aggregate_rows_counted", text=text)]
        else:
            notes = []
    return amend(
        r,
        masked=masked,
        metrics=(measure.metric,),
        aggregate=aggregate,
        named_metric=True,
        clarify=None,
        listing=None,
        list_filters=(),
        assumptions=(*r.assumptions, *(notes if others or aggregate.with_metrics else [])),
    )


def _count_rows(text: str, measure: Measure) -> tuple[int, int] | None:
    """The span of "count (the) <rows>" naming the measure's rows ("count payments"), if said."""
    for m in _COUNT_VERB.finditer(text):
        if m.group(1).lower() in measure.entity_words:
            return m.span()
    return None


def _counts_rows_of(metric: Metric, measure: Measure) -> bool:
    """Whether a metric counts rows of the measure's table (the number of payments, of charges)."""
    return metric.unit == "count" and metric.aggregation == "flow" and metric.table == measure.table


def read_time_parts(r: Reading, ctx: EngineContext) -> Reading:
    """Read "by day of the week" as the weekday; rank all weekdays (or hours) for "which ... most".

    "By day" is not a daily series here, and "which weekday had the most" shows the whole week,
    most first, rather than one row.
    """
    dims, grain, masked = list(r.dimensions), r.grain, r.masked
    if (d := _DAY_OF_WEEK.search(r.text)) is not None:
        if grain == "day" and any(s < d.end() and d.start() < e for s, e in r.time.spans):
            grain = None
        if "weekday" not in dims:
            dims.append("weekday")
        masked = blank(masked, d.start(), d.end())
    ranking_n, direction = r.ranking_n, r.direction
    notes: list[Assumption] = []
    if len(dims) == 1 and dims[0] in TIME_PARTS:
        words, size = TIME_PARTS[dims[0]]
        if ranking_n is None and (f := _FEWEST.search(masked)) is not None:
            ranking_n, direction = 1, "bottom"
            masked = blank(masked, f.start(), f.end())
        if ranking_n == 1:
            ranking_n = size
            order = "most first" if direction == "top" else "fewest first"
            notes.append(Assumption(key="time_part_ranked", text=f"All {words} shown, {order}."))
    if masked == r.masked and not notes and tuple(dims) == r.dimensions and grain == r.grain:
        return r  # no weekday or hour asked for
    return amend(
        r,
        dimensions=tuple(dims),
        grain=grain,
        masked=masked,
        ranking_n=ranking_n,
        direction=direction,
        assumptions=(*r.assumptions, *notes),
    )
