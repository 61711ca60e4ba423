"""Readers of a question's shape: time, an amount threshold, a comparison, a chart, follow-ups."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from app.core.plan import (
    Assumption,
    Comparison,
    Filter,
    FilterOp,
    NeedsClarification,
    QueryPlan,
    TimeRange,
)
from app.semantic.model import SemanticModel
from app.understand.reading import Chart, EngineContext, Reading, amend, blank, blank_all
from app.understand.time import parse_time, previous_period, same_period_last_year
from app.understand.words import FUNCTION_WORDS, TIME_WORDS

_THRESHOLD = re.compile(
    r"\b(over|above|more\s+than|greater\s+than|exceeding|at\s+least|under|below|less\s+than)\s+"
    r"([$€£])?\s?(\d[\d,]*(?:\.\d+)?)(?![\d.])(?!\s*(?:days?|weeks?|months?|quarters?|years?|hours?|times"
    r"|(?:[a-z]+\s+)?(?:payments?|charges?|invoices?|refunds?|disputes?|subscriptions?|customers?"
    r"|transactions?|orders?|payouts?))\b)"
    r"\s*(?:(k|m)\b)?\s*(usd|eur|gbp|cad|aud|dollars|euros|pounds)?",
    re.IGNORECASE,
)
_NEXT_WORD = re.compile(r"\s*([A-Za-z][\w'’]*)")
_GREATER = frozenset({"over", "above", "more than", "greater than", "exceeding"})
_CURRENCY_WORDS = {
    "$": "usd",
    "€": "eur",
    "£": "gbp",
    "dollars": "usd",
    "euros": "eur",
    "pounds": "gbp",
}
_YOY = re.compile(
    r"\b(year[\s-]+over[\s-]+year|yoy|y/y|same\s+period\s+last\s+year|"
    r"vs\.?\s+last\s+year|compared\s+(to|with)\s+last\s+year)\b",
    re.I,
)
_VS = re.compile(
    r"\b(vs\.?|versus|compared?\s+(it\s+|this\s+)?(to|with)|against|than|growth|grow|grew|change|"
    r"changed|month[\s-]+over[\s-]+month|mom|qoq|quarter[\s-]+over[\s-]+quarter|"
    r"increase|decrease|drop|dropped)\b",
    re.I,
)
# What a comparison is against, once "vs"/"compared with" was read: "the previous period".
_PREVIOUS = re.compile(
    r"\b(the\s+)?(previous|prior|preceding|last|earlier)\s+(period|one|month|quarter|year|week)\b",
    re.I,
)
WHY = re.compile(
    r"\bwhy\b.*\b(drop|dropped|fall|fell|decrease|decreased|decline|declined|down|increase|"
    r"increased|rise|rose|grow|grew|jump|jumped|spike|spiked|change|changed|go\s+up|went\s+up)\b",
    re.I,
)
_CLAIMS: dict[str, tuple[Literal["up", "down"], str]] = {
    "drop": ("down", "drop"), "dropped": ("down", "drop"), "fall": ("down", "fall"),
    "fell": ("down", "fall"), "decrease": ("down", "decrease"), "decreased": ("down", "decrease"),
    "decline": ("down", "decline"), "declined": ("down", "decline"), "down": ("down", "go down"),
    "increase": ("up", "increase"), "increased": ("up", "increase"), "rise": ("up", "rise"),
    "rose": ("up", "rise"), "grow": ("up", "grow"), "grew": ("up", "grow"), "jump": ("up", "jump"),
    "jumped": ("up", "jump"), "spike": ("up", "spike"), "spiked": ("up", "spike"),
}  # fmt: skip
_FOLLOW_UP = re.compile(
    r"^\s*(and|what\s+about|how\s+about|only|just|now|same|also|instead|"
    r"show|make\s+it|as\s+a|but)\b",
    re.I,
)
_FOLLOW_UP_MAX_WORDS = 7
_CHART_WORDS = re.compile(r"\b(chart|graph|plot|table)\b", re.I)
_BAR_CHART = re.compile(r"\bbar\s+chart\b", re.I)
_LINE_CHART = re.compile(r"\bline\s+chart\b", re.I)


def why_claim(text: str) -> tuple[Literal["up", "down"] | None, str] | None:
    """What a 'why' question says the metric did, and its verb ("why did it drop?": down, drop).

    None when the question asks no 'why'; a direction of None when it claims none ("change").
    """
    m = WHY.search(text)
    if m is None:
        return None
    verb = " ".join(m.group(1).lower().split())
    if verb in ("go up", "went up"):
        return "up", "go up"
    return _CLAIMS.get(verb, (None, "change"))


def read_time(r: Reading, ctx: EngineContext) -> Reading:
    """Read the time phrases: range, grain, point in time; blank them out of the masked text."""
    tm = parse_time(
        r.text,
        ctx.as_of,
        fiscal_year_start_month=ctx.fiscal_year_start_month,
        previous=ctx.previous.time if ctx.previous is not None else None,
    )
    masked = r.masked
    for start, end in tm.spans:
        masked = blank(masked, start, end)
    notes = tuple(
        Assumption(key="time_reading", text=a)
        for a in tm.assumptions
        # the compiler states the exact to-date range it used
        if "not only to date" not in a and "not over yet" not in a
    )
    return amend(
        r,
        masked=masked,
        time=tm,
        range=tm.range,
        grain=tm.grain,
        point=tm.point_in_time,
        assumptions=(*r.assumptions, *notes),
    )


def read_threshold(r: Reading, ctx: EngineContext) -> Reading:
    """Read an amount threshold ("over $1,000"); blank it so "$" and numbers don't read as words."""
    m = _THRESHOLD.search(r.masked)
    if m is None or _counts_things(m, r.masked):
        return r
    return amend(r, threshold=_threshold(m), masked=blank(r.masked, m.start(), m.end()))


def _counts_things(m: re.Match[str], text: str) -> bool:
    """'at least 2 cards': a bare number before a noun counts things; it is no amount."""
    _, sym, _, mult, cur = m.groups()
    if sym or cur or mult:
        return False
    after = _NEXT_WORD.match(text, m.end())
    return after is not None and after.group(1).lower() not in FUNCTION_WORDS | TIME_WORDS


def _threshold(m: re.Match[str]) -> Filter | None:
    word, sym, num, mult, cur = m.groups()
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None
    value *= {"k": 1000, "m": 1_000_000}.get((mult or "").lower(), 1)
    currency = _CURRENCY_WORDS.get((sym or cur or "").lower(), (cur or "").lower() or None)
    op: FilterOp = (
        "gt" if word.lower() in _GREATER else "gte" if word.lower() == "at least" else "lt"
    )
    return Filter(dimension="amount", op=op, values=(value,), currency=currency)


def read_comparison(r: Reading, ctx: EngineContext) -> Reading:
    """Read a comparison: year over year, two periods, or "vs"/"growth" against the previous one."""
    ranges = r.time.all_ranges
    masked = blank_all(r.masked, _YOY)
    if masked != r.masked:
        comparison = Comparison(kind="same_period_last_year")
    elif r.grain is not None and (merged := joined_range(ranges, r.masked)) is not None:
        return amend(r, range=merged)  # "daily MRR over 2024 and 2025": one series, both years
    elif len(ranges) >= 2:
        # "Q3 vs Q4": the later period against the earlier. Two periods the plan cannot compare
        # ("Q1 vs Q3") are asked about by plan_reading unless a list reads them as one span.
        paired = paired_ranges(ranges[0], ranges[1])
        comparison, current = paired or (Comparison(kind="previous_period"), ranges[0])
        return amend(r, comparison=comparison, range=current, masked=blank_all(masked, _VS))
    elif _VS.search(r.masked) and (r.range is not None or ctx.previous is not None):
        comparison = Comparison(kind="previous_period")
        masked = blank_all(blank_all(masked, _VS), _PREVIOUS)
    else:
        return r
    trange = r.range
    if trange is None and ctx.previous is not None:
        trange = ctx.previous.time
    return amend(r, comparison=comparison, range=trange, masked=masked)


_RELATIVE = re.compile(r"(?:last|previous|prior|preceding)\s+(?:day|week|month|quarter|year)$")


def paired_ranges(a: TimeRange, b: TimeRange) -> tuple[Comparison, TimeRange] | None:
    """Two named periods as a comparison of the later one with the earlier, if the plan has one.

    "Q3 vs Q4 2025" compares Q4 with the quarter before it, whichever is said first.
    """
    early, late = (a, b) if a.start <= b.start else (b, a)
    if _bounds(early) == _bounds(late):  # "last quarter vs the previous quarter": read twice
        return Comparison(kind="previous_period"), late
    if (early.start, early.end) == _bounds(same_period_last_year(late)):
        return Comparison(kind="same_period_last_year"), late
    if (early.start, early.end) == _bounds(previous_period(late)):
        return Comparison(kind="previous_period"), late
    if _RELATIVE.match(b.label or ""):  # "March 2025 vs the previous month": the month before it
        return Comparison(kind="previous_period"), a
    return None


def _bounds(r: TimeRange) -> tuple[date, date]:
    return r.start, r.end


def unpaired_ranges(a: TimeRange, b: TimeRange) -> NeedsClarification:
    """Two periods the plan cannot compare: say what it can, never compare another period."""
    names = f"{a.label or a.start} and {b.label or b.start}"
    return NeedsClarification(
        question=f"I can compare a period with the one just before it or with the same period a "
        f"year earlier; {names} are neither. Ask for each period on its own, or for a series by "
        "month that covers both.",
        choices=(),
    )


def joined_range(ranges: tuple[TimeRange, ...], masked: str) -> TimeRange | None:
    """Back-to-back periods named together with no comparison word ("2024 and 2025"), as one."""
    if len(ranges) < 2 or _VS.search(masked) or _YOY.search(masked):
        return None
    if any(a.end != b.start for a, b in itertools.pairwise(ranges)):
        return None
    label = " and ".join(r.label for r in ranges if r.label)
    return TimeRange(start=ranges[0].start, end=ranges[-1].end, label=label)


def read_chart(r: Reading, ctx: EngineContext) -> Reading:
    """Read the chart asked for ("as a bar chart") and whether chart words appear at all."""
    if not _CHART_WORDS.search(r.text):
        return r  # "chart", "graph", "plot" or "table" not said
    chart: Chart = (
        "bar" if _BAR_CHART.search(r.text) else "line" if _LINE_CHART.search(r.text) else "auto"
    )
    masked = blank_all(blank_all(blank_all(r.masked, _BAR_CHART), _LINE_CHART), _CHART_WORDS)
    return amend(r, chart=chart, chart_words=bool(_CHART_WORDS.search(r.text)), masked=masked)


def read_follow_up(r: Reading, ctx: EngineContext) -> Reading:
    """Decide whether the question edits the previous plan ("and by country?", "last year?")."""
    why = bool(WHY.search(r.text))
    if ctx.previous is None:
        return amend(r, why=why) if why != r.why else r
    # Without a metric, only a short question edits the previous one; a long one names something
    # the model doesn't know and must not reuse the old plan. A short question edits the previous
    # one only if it changes something we can read.
    short = len(re.findall(r"[\w']+", r.text)) <= _FOLLOW_UP_MAX_WORDS
    readable = (r.dimensions, r.filters, r.range, r.point, r.grain, r.ranking_n, r.comparison)
    edits = any(readable) or bool(r.currency) or why or r.chart_words
    follow_up = (not r.metrics and not r.listing and short and edits) or bool(
        _FOLLOW_UP.search(r.text)
    )
    if (why, follow_up) == (r.why, r.follow_up):
        return r
    return amend(r, why=why, follow_up=follow_up)


def read_why(r: Reading, ctx: EngineContext) -> Reading:
    """'Why did it drop?': compare with the previous period and add the metrics' components."""
    if not (r.why and not r.listing and (r.metrics or r.follow_up)):
        return r
    trange = r.range
    if r.follow_up and trange is None and r.point is None and ctx.previous is not None:
        trange = ctx.previous.time
    metrics, by_component, note = _why_metrics(r.metrics, ctx.previous, ctx.model)
    return amend(
        r,
        masked=_blank_why(r.masked),
        comparison=r.comparison or Comparison(kind="previous_period"),
        range=trange,
        metrics=metrics,
        grain=None if by_component else r.grain,
        assumptions=(*r.assumptions, note),
    )


def _blank_why(masked: str) -> str:
    """Blank "why" and its verb, not the words between them."""
    m = WHY.search(masked)
    if m is None:
        return masked
    return blank(blank(masked, m.start(), m.start() + 3), *m.span(1))


def _why_metrics(
    metrics: tuple[str, ...], previous: QueryPlan | None, model: SemanticModel
) -> tuple[tuple[str, ...], bool, Assumption]:
    """'Why did it drop?': the metrics plus their components, and the assumption saying so."""
    base = metrics or (previous.metrics if previous else ())
    drivers = [d for m in base for d in model.metrics[m].drivers]
    note = Assumption(
        key="why_change",
        text="'Why' is answered from the data: the change against the previous period"
        + (" and its components" if drivers else "")
        + "; causes outside this data are not known.",
    )
    return (tuple(dict.fromkeys([*base, *drivers])) if drivers else metrics), bool(drivers), note
