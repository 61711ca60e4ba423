"""Deterministic planner: question (+ previous plan) → QueryPlan, CannotAnswer or a clarification.

No model, no network, no clock: every relative date is resolved against the explicit `as_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from app.core.plan import (
    Assumption,
    CannotAnswer,
    Choice,
    Comparison,
    Filter,
    NeedsClarification,
    PlanResult,
    QueryPlan,
    Ranking,
    TimeRange,
)
from app.semantic.model import SemanticModel
from app.understand.followup import WHY, edit_plan, why_metrics
from app.understand.lexicon import WEAK_METRIC_WORDS, Hit, Lexicon
from app.understand.screen import SUGGESTIONS, screen_question
from app.understand.time import parse_time, same_period_last_year

_FORECAST = re.compile(
    r"\b(forecast|predict|prediction|projected|projection|will\s+(we|it|our|be)|"
    r"expect(ed)?\s+to|going\s+to\s+be|next\s+(month|quarter|year|week))\b",
    re.IGNORECASE,
)
_TOP = re.compile(
    r"\b(?:(top|best|largest|biggest|highest|most)|(bottom|worst|smallest|lowest|least))"
    r"(?:\s+(\d{1,4}|one|two|three|five|ten|twenty))?\b",
    re.IGNORECASE,
)
_WHICH_N = re.compile(r"\bwhich\s+(\d{1,4})\b", re.IGNORECASE)
_SHOW_TOP = re.compile(r"\b(?:show|give|only)\s+(?:me\s+)?(?:the\s+)?top\s+(\d{1,4})\b", re.I)
_BY = re.compile(
    r"\b(?:by|per|for\s+each|for\s+every|in\s+each|across|split\s+by|broken\s+down\s+by|"
    r"breakdown\s+by|grouped\s+by|group\s+by|which)\s+",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(
    r"\b(over|above|more\s+than|greater\s+than|exceeding|at\s+least|under|below|less\s+than)\s+"
    r"([$€£])?\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m)?\s*(usd|eur|gbp|cad|aud|dollars|euros|pounds)?",
    re.IGNORECASE,
)
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
_FOLLOW_UP = re.compile(
    r"^\s*(and|what\s+about|how\s+about|only|just|now|same|also|instead|"
    r"show|make\s+it|as\s+a|but)\b",
    re.I,
)
_FOLLOW_UP_MAX_WORDS = 7
_CHART_WORDS = re.compile(r"\b(chart|graph|plot|table)\b", re.I)
_COUNT_WORDS = re.compile(r"\b(how\s+many|number\s+of|count|total|sum|amount|how\s+much)\b", re.I)
_LIST_WORDS = re.compile(r"\b(list|show|which|what|display|give|find)\b", re.I)
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "twenty": 20}
_CONVERT = re.compile(
    r"\b(reported|converted|convert|expressed|shown|translated)\s+"
    r"(in|to|into)\s+(us\s+)?$",
    re.I,
)
_EXCLUDE = re.compile(r"\b(excluding|except|exclude|without|other\s+than|not)\s+$", re.I)


@dataclass
class EngineContext:
    """What the engine knows besides the question."""

    model: SemanticModel
    lexicon: Lexicon
    as_of: date
    account: str
    fiscal_year_start_month: int = 1
    previous: QueryPlan | None = None
    known_accounts: frozenset[str] = field(default_factory=frozenset)


def plan_question(question: str, ctx: EngineContext) -> PlanResult:
    """Plan a finance question deterministically."""
    text = " ".join(question.strip().split())
    if not text:
        return CannotAnswer(
            reason="The question is empty.",
            reason_class="empty_question",
            suggestions=SUGGESTIONS[:3],
        )
    refusal = screen_question(text, ctx.account)
    if refusal is not None:
        return refusal
    tm = parse_time(text, ctx.as_of, fiscal_year_start_month=ctx.fiscal_year_start_month)
    masked = _mask(text, tm.spans)
    result = _understand(text, masked, tm, ctx)
    return result


def _mask(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            chars[i] = " "
    return "".join(chars)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _understand(text: str, masked: str, tm: object, ctx: EngineContext) -> PlanResult:
    model, lex = ctx.model, ctx.lexicon
    assumptions: list[Assumption] = []
    trange: TimeRange | None = tm.range  # type: ignore[attr-defined]
    grain = tm.grain  # type: ignore[attr-defined]
    point = tm.point_in_time  # type: ignore[attr-defined]
    for a in tm.assumptions:  # type: ignore[attr-defined]
        if "not only to date" in a or "not over yet" in a:
            continue  # the compiler states the exact to-date range it used
        assumptions.append(Assumption(key="time_reading", text=a))
    all_ranges: tuple[TimeRange, ...] = getattr(tm, "all_ranges", ()) or (
        (trange,) if trange else ()
    )

    # thresholds ("over $1,000") are consumed before metric words so "$" and numbers don't leak
    threshold = None
    m = _THRESHOLD.search(masked)
    if m:
        threshold = _threshold(m)
        masked = _blank(masked, m.start(), m.end())

    # comparisons
    comparison = None
    if _YOY.search(masked):
        comparison = Comparison(kind="same_period_last_year")
    elif len(all_ranges) >= 2:
        first, second = all_ranges[0], all_ranges[1]
        if second == same_period_last_year(first):
            comparison = Comparison(kind="same_period_last_year")
        else:
            comparison = Comparison(kind="previous_period")
    elif _VS.search(masked) and (trange is not None or ctx.previous is not None):
        comparison = Comparison(kind="previous_period")
    if comparison and trange is None and ctx.previous is not None:
        trange = ctx.previous.time

    # ranking
    ranking_n, direction = None, "top"
    if (t := _TOP.search(masked)) is not None:
        direction = "bottom" if t.group(2) else "top"
        word = t.group(3)
        ranking_n = int(_WORD_NUM.get((word or "").lower(), word or 0)) or None
        if ranking_n is None and (t.group(1) or "").lower() in ("top",):
            ranking_n = 10
        if ranking_n is None:
            ranking_n = 1 if t.group(1) or t.group(2) else None
    if (w := _WHICH_N.search(masked)) is not None:
        ranking_n = int(w.group(1))
    if (s := _SHOW_TOP.search(masked)) is not None:
        ranking_n = int(s.group(1))

    # metrics
    metric_hits = lex.metrics(masked)
    metrics: list[str] = []
    clarify: NeedsClarification | None = None
    strong = [h for h in metric_hits if h.kind == "metric" and h.phrase not in WEAK_METRIC_WORDS]
    weak = [h for h in metric_hits if h.kind == "metric" and h.phrase in WEAK_METRIC_WORDS]
    ambiguous = [h for h in metric_hits if h.kind == "ambiguous"]
    chosen = strong or []
    if not chosen and ambiguous:
        amb = model.ambiguous[int(ambiguous[0].name)]
        if amb.clarify:
            clarify = NeedsClarification(
                question=amb.question or f"Which {ambiguous[0].phrase} do you mean?",
                choices=tuple(
                    Choice(
                        label=model.metrics[a].label,
                        question=_swap(text, ambiguous[0], model.metrics[a].label),
                    )
                    for a in amb.alternatives
                ),
            )
        else:
            assert amb.default
            metrics.append(amb.default)
            alts = ", ".join(model.metrics[a].label for a in amb.alternatives)
            assumptions.append(
                Assumption(
                    key=f"default_{ambiguous[0].phrase.replace(' ', '_')}",
                    text=f"{amb.note}. Alternatives: {alts}.",
                )
            )
    if not chosen and not metrics and weak and clarify is None:
        chosen = weak[:1]
    for h in chosen:
        if h.name not in metrics:
            metrics.append(h.name)
    used_spans = [(h.start, h.end) for h in [*chosen, *ambiguous]]
    for s0, e0 in used_spans:
        masked = _blank(masked, s0, e0)

    # list requests: an entity word with a state word, no aggregation words
    strong_names = [h.name for h in strong] + ([] if not ambiguous else metrics)
    listing, list_filters = _listing(text, masked, lex, model, strong_names)

    # filters
    filters, currency, implied = _filters(text, masked, lex, model, metrics, ctx)
    for _word, dim, values in implied:
        filters.append(Filter(dimension=dim, values=tuple(values)))
    # dimensions
    dims = _dimensions(masked, lex, model, metrics, filters)

    # Without a metric, only a short question edits the previous one ("by country?", "last
    # year?"); a long one names something the model doesn't know and must not reuse the old plan.
    short = len(re.findall(r"[\w']+", text)) <= _FOLLOW_UP_MAX_WORDS
    why = bool(WHY.search(text))
    # A short question edits the previous one only if it changes something we can read.
    readable = (dims, filters, trange, point, grain, ranking_n, comparison, currency, why)
    edits = any(readable) or bool(_CHART_WORDS.search(text))
    is_follow_up = ctx.previous is not None and (
        (not metrics and not listing and short and edits) or bool(_FOLLOW_UP.search(text))
    )
    if why and not listing and (metrics or is_follow_up):
        comparison = comparison or Comparison(kind="previous_period")
        if is_follow_up and trange is None and point is None and ctx.previous is not None:
            trange = ctx.previous.time
        metrics, by_component, note = why_metrics(metrics, ctx.previous, model)
        grain = None if by_component else grain
        assumptions.append(note)
    if clarify is not None and not is_follow_up:
        return clarify
    if is_follow_up and ctx.previous is not None:
        return edit_plan(
            text,
            ctx.previous,
            metrics,
            dims,
            filters,
            trange,
            point,
            grain,
            ranking_n,
            direction,
            comparison,
            currency,
            assumptions,
        )
    if listing:
        return _list_plan(
            listing, list_filters + filters, trange, threshold, ranking_n, assumptions, model
        )
    if not metrics:
        return CannotAnswer(
            reason="I couldn't match that to a metric I know (for example gross volume, MRR, "
            "refunds, tax collected, recognized revenue).",
            reason_class="unknown_metric",
            suggestions=SUGGESTIONS[:3],
        )

    if _FORECAST.search(masked) or (trange is not None and trange.start > ctx.as_of):
        return CannotAnswer(
            reason="I report what happened up to the as-of date; I don't forecast.",
            reason_class="future_forecast",
            suggestions=SUGGESTIONS[:3],
        )

    stocks = all(model.metrics[n].aggregation in ("stock", "snapshot") for n in metrics)
    if point is not None:
        trange = TimeRange(start=point, end=point + timedelta(days=1), label=f"as of {point}")
    if trange is not None and stocks and grain is None and point is None and comparison is None:
        end_day = min(trange.end - timedelta(days=1), ctx.as_of)
        assumptions.append(
            Assumption(
                key="stock_at_period_end",
                text=f"{model.metrics[metrics[0]].label} is a balance: measured at the end of "
                f"{end_day}.",
            )
        )
    ranking = None
    if ranking_n is not None and dims:
        ranking = Ranking(metric=metrics[0], direction=direction, n=ranking_n)
    elif ranking_n is not None and not dims and grain is None:
        ranking = None
    chart = (
        "bar"
        if re.search(r"\bbar\s+chart\b", text, re.I)
        else ("line" if re.search(r"\bline\s+chart\b", text, re.I) else "auto")
    )
    if ranking_n is not None and not dims:
        assumptions.append(
            Assumption(key="ranking_ignored", text="Nothing to rank: no breakdown was asked for.")
        )
    return QueryPlan(
        metrics=tuple(metrics),
        dimensions=tuple(dims),
        filters=tuple(filters),
        time=trange,
        grain=grain,
        comparison=comparison,
        ranking=ranking,
        by_currency="currency" in dims,
        currency=currency,
        chart=chart,
        assumptions=tuple(_definitions(model, metrics) + assumptions),
        confidence=0.7 if any(a.key.startswith("default_") for a in assumptions) else 1.0,
    )


def _definitions(model: SemanticModel, metrics: list[str]) -> list[Assumption]:
    return [Assumption(key=f"{n}_definition", text=model.metrics[n].definition) for n in metrics]


def _swap(text: str, hit: Hit, label: str) -> str:
    return text[: hit.start] + label.lower() + text[hit.end :]


def _threshold(m: re.Match[str]) -> Filter | None:
    word, sym, num, mult, cur = m.groups()
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None
    value *= {"k": 1000, "m": 1_000_000}.get((mult or "").lower(), 1)
    currency = {
        "$": "usd",
        "€": "eur",
        "£": "gbp",
        "dollars": "usd",
        "euros": "eur",
        "pounds": "gbp",
    }.get((sym or cur or "").lower(), (cur or "").lower() or None)
    op = (
        "gt"
        if word.lower() in ("over", "above", "more than", "greater than", "exceeding")
        else ("gte" if word.lower() == "at least" else "lt")
    )
    return Filter(dimension="amount", op=op, values=(value,), currency=currency)


def _listing(
    text: str, masked: str, lex: Lexicon, model: SemanticModel, metrics: list[str]
) -> tuple[str | None, list[Filter]]:
    """A row-by-row list: an entity word with a state word or a list verb, no aggregation."""
    hits = lex.lists(text)
    if not hits or _COUNT_WORDS.search(text) or _BY.search(masked.replace("which", "")):
        return None, []
    explicit = bool(_LIST_WORDS.search(text))
    for h in hits:
        spec = model.lists[h.name]
        states = [s for s in spec.states if re.search(rf"\b{re.escape(s)}\b", text, re.I)]
        if metrics and (not explicit or not states):
            return None, []
        if states or explicit:
            return h.name, [Filter(dimension="state", values=(states[0],))] if states else []
    return None, []


def _list_plan(
    listing: str,
    filters: list[Filter],
    trange: TimeRange | None,
    threshold: Filter | None,
    n: int | None,
    assumptions: list[Assumption],
    model: SemanticModel,
) -> QueryPlan:
    spec = model.lists[listing]
    state_words = set(spec.states)
    keep = []
    for f in filters:
        if f.dimension in ("state", "amount"):
            keep.append(f)
            continue
        dim = model.dimensions[f.dimension]
        if dim.table == "*" or model.join_path(spec.table, dim.table) is None:
            continue
        if (
            dim.values
            and isinstance(dim.values, dict)
            and any(w in state_words for vals in dim.values.values() for w in vals)
        ):
            continue
        keep.append(f)
    if threshold is not None:
        keep.append(threshold)
    return QueryPlan(
        metrics=("gross_volume",),
        listing=listing,
        filters=tuple(keep),
        time=trange,
        limit=n or 100,
        assumptions=tuple(assumptions),
        chart="none",
    )


def _filters(
    text: str,
    masked: str,
    lex: Lexicon,
    model: SemanticModel,
    metrics: list[str],
    ctx: EngineContext,
) -> tuple[list[Filter], str | None, list[tuple[str, str, list[str]]]]:
    filters: list[Filter] = []
    currency = None
    tables = {model.metrics[m].table for m in metrics if model.metrics[m].table}
    for hit, cands in lex.values(masked):
        dim, value = _pick_value(cands, tables, model)
        if dim is None:
            continue
        before = masked[max(0, hit.start - 25) : hit.start]
        op = "neq" if _EXCLUDE.search(before) else "eq"
        if dim == "currency":
            currency = value if op == "eq" else currency
            if _CONVERT.search(masked[max(0, hit.start - 30) : hit.start]):
                continue  # "reported in EUR": a reporting currency, not a filter
        existing = next((f for f in filters if f.dimension == dim and f.op == op), None)
        if existing:
            filters.remove(existing)
            filters.append(
                Filter(
                    dimension=dim,
                    op="in" if op == "eq" else "not_in",
                    values=(*existing.values, value),
                )
            )
        else:
            filters.append(Filter(dimension=dim, op=op, values=(value,)))
    implied_values: dict[str, list[str]] = {}
    for name in metrics:
        for f in model.metrics[name].implied_filters:
            if any(x.dimension == f.dimension for x in filters):
                continue
            if any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in f.words):
                implied_values.setdefault(f.dimension, []).extend(f.values)
    implied = [("", dim, values) for dim, values in implied_values.items()]
    return filters, currency, implied


def _pick_value(
    cands: tuple[tuple[str, str], ...], tables: set[str | None], model: SemanticModel
) -> tuple[str | None, str]:
    """Prefer the dimension on the metric's own table (tax country for tax metrics)."""
    reachable = []
    for dim, value in cands:
        d = model.dimensions[dim]
        if d.table == "*":
            reachable.append((0, dim, value))
            continue
        for t in tables:
            if t == d.table:
                reachable.append((0, dim, value))
            elif t and model.join_path(t, d.table) is not None:
                reachable.append((1, dim, value))
    if not reachable and cands:
        return cands[0]
    if not reachable:
        return None, ""
    reachable.sort()
    return reachable[0][1], reachable[0][2]


def _dimensions(
    masked: str, lex: Lexicon, model: SemanticModel, metrics: list[str], filters: list[Filter]
) -> list[str]:
    dims: list[str] = []
    tables = {model.metrics[m].table for m in metrics if model.metrics[m].table}
    markers = [m.end() for m in _BY.finditer(masked)]
    top = [m.end() for m in _TOP.finditer(masked)] + [m.end() for m in _WHICH_N.finditer(masked)]
    for hit, cands in lex.dimensions(masked):
        near = any(0 <= hit.start - p <= 12 for p in markers + top)
        after_and = bool(re.search(r"\band\s+$", masked[max(0, hit.start - 6) : hit.start]))
        if not (near or (after_and and dims)):
            continue
        dim, _ = _pick_value(tuple((c, "") for c in cands), tables, model)
        if dim and dim not in dims:
            dims.append(dim)
    return dims
