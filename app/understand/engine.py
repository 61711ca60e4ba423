"""Deterministic planner: question (+ previous plan) → QueryPlan, CannotAnswer or a clarification.

The question is read by a tuple of small readers (``READERS``), each adding what it finds to a
typed ``Reading``; one function then turns the Reading into a plan. No model, no network, no
clock: every relative date is resolved against the explicit ``as_of``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from app.core.plan import (
    Assumption,
    CannotAnswer,
    Choice,
    NeedsClarification,
    PlanResult,
    QueryPlan,
    Ranking,
    TimeRange,
)
from app.semantic.describe import OP_WORDS, as_question, filter_values
from app.semantic.model import SemanticModel
from app.understand.aggregates import read_aggregate, read_aggregate_metric, read_time_parts
from app.understand.followup import edit_plan
from app.understand.leftovers import read_leftovers
from app.understand.list_plan import list_plan
from app.understand.lists import read_listing
from app.understand.readers import (
    paired_ranges,
    read_chart,
    read_comparison,
    read_follow_up,
    read_threshold,
    read_time,
    read_why,
    unpaired_ranges,
)
from app.understand.readers_refine import read_implied_dimensions, read_variants
from app.understand.readers_roles import (
    read_back_reference,
    read_status_words,
    read_verb_object,
)
from app.understand.readers_versus import read_versus
from app.understand.readers_words import (
    read_dimensions,
    read_filters,
    read_metrics,
    read_ranking,
)
from app.understand.reading import EngineContext, Leftover, Reader, Reading
from app.understand.reports import read_report
from app.understand.reports_ledger import read_statement, statement_plan
from app.understand.reports_mrr import read_mrr_event_list, read_mrr_movement_list
from app.understand.screen import SUGGESTIONS, screen_question
from app.understand.typos import corrected

# The order matters: each reader sees what the earlier ones found and blanked out.
READERS: tuple[Reader, ...] = (
    read_time,
    read_statement,
    read_threshold,
    read_versus,
    read_comparison,
    read_aggregate,
    read_ranking,
    read_metrics,
    read_verb_object,
    read_variants,
    read_mrr_event_list,
    read_mrr_movement_list,
    read_listing,
    read_aggregate_metric,
    read_filters,
    read_status_words,
    read_back_reference,
    read_dimensions,
    read_time_parts,
    read_implied_dimensions,
    read_report,
    read_chart,
    read_follow_up,
    read_why,
    read_leftovers,
)

_FORECAST = re.compile(
    r"\b(forecast|predict|prediction|projected|projection|will\s+(we|it|our|be)|"
    r"expect(ed)?\s+to|going\s+to\s+be|next\s+(month|quarter|year|week))\b",
    re.IGNORECASE,
)


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
    reading = read_question(text, ctx)
    return account_for_words(reading, plan_reading(reading, ctx), ctx)


def read_question(text: str, ctx: EngineContext) -> Reading:
    """Run every reader over the (normalised) question text, in order."""
    reading = Reading(text=text, masked=text)
    for read in READERS:
        reading = read(reading, ctx)
    return reading


def account_for_words(r: Reading, planned: PlanResult, ctx: EngineContext) -> PlanResult:
    """Never answer a different question: a typo asks, a meaning-changing word refuses.

    Words that do not change the number are named on the plan (``ignored``).
    """
    typos = [lo for lo in r.leftovers if lo.kind == "typo"]
    unread = [lo for lo in r.leftovers if lo.kind == "meaning"]
    if typos:
        fixed = corrected(r.text, r.leftovers)
        again = read_question(fixed, ctx)
        replanned = plan_reading(again, ctx)
        if isinstance(replanned, QueryPlan) and not any(
            lo.kind != "ignored" for lo in again.leftovers
        ):
            words = ", ".join(f"'{lo.suggestion}' for '{lo.word}'" for lo in typos)
            return NeedsClarification(
                question=f"Did you mean {words}?", choices=(Choice(label=fixed, question=fixed),)
            )
    if isinstance(planned, NeedsClarification):
        return planned
    if isinstance(planned, CannotAnswer):
        if planned.reason_class == "unknown_metric" and (unread or typos):
            return planned.model_copy(
                update={"reason": f"{planned.reason} {_unread_text([*typos, *unread])}"}
            )
        return planned
    if unread or typos:
        return CannotAnswer(
            reason="I can't answer that as asked without leaving out part of the question: "
            + _unread_text([*typos, *unread])
            + " Answering without it would be a different number.",
            reason_class="unread_words",
            suggestions=(*_answerable(planned, ctx), *SUGGESTIONS[:2]),
        )
    ignored = tuple(dict.fromkeys(lo.word for lo in r.leftovers))
    return planned.model_copy(update={"ignored": ignored}) if ignored else planned


def _answerable(plan: QueryPlan, ctx: EngineContext) -> tuple[str, ...]:
    """What the engine can answer instead, phrased as a question, if it reads back as that plan."""
    question = as_question(plan, ctx.model)
    again = read_question(question, ctx)
    replanned = plan_reading(again, ctx)
    same = (
        isinstance(replanned, QueryPlan)
        and not any(lo.kind != "ignored" for lo in again.leftovers)
        and (replanned.metrics, replanned.dimensions, replanned.time, replanned.grain)
        == (plan.metrics, plan.dimensions, plan.time, plan.grain)
        and set(replanned.filters) == set(plan.filters)
    )
    return (question,) if same else ()


def _unread_text(leftovers: list[Leftover]) -> str:
    parts = [f"'{lo.word}' ({lo.why})" for lo in leftovers]
    return "I could not use " + ", ".join(parts) + "."


def plan_reading(r: Reading, ctx: EngineContext) -> PlanResult:
    """Turn what the readers found into a plan, a clarification or a refusal."""
    model = ctx.model
    if r.clarify is not None:  # an ambiguous metric word asks, in a follow-up too
        return r.clarify
    if r.statement:
        return statement_plan(r, ctx)
    if r.follow_up and ctx.previous is not None:
        return edit_plan(r, ctx.previous)
    if r.listing:
        return list_plan(r, r.listing, model)
    ranges = r.time.all_ranges
    if r.comparison is not None and len(ranges) >= 2 and not paired_ranges(*ranges[:2]):
        return unpaired_ranges(*ranges[:2])
    if not r.metrics:
        return CannotAnswer(
            reason="I couldn't match that to a metric I know (for example gross volume, MRR, "
            "refunds, tax collected, recognized revenue).",
            reason_class="unknown_metric",
            suggestions=SUGGESTIONS[:3],
        )
    if r.threshold is not None:  # "charges over $30": a metric has no row amount to compare
        return CannotAnswer(
            reason=f"I can't apply '{OP_WORDS[r.threshold.op]} {filter_values(r.threshold)}' "
            "to a total: an amount condition applies to single rows. Ask for the list (for "
            "example 'show charges over $500 last month') and I'll count and total it.",
            reason_class="unread_words",
            suggestions=SUGGESTIONS[:2],
        )
    if _FORECAST.search(r.masked) or (r.range is not None and r.range.start > ctx.as_of):
        return CannotAnswer(
            reason="I report what happened up to the as-of date; I don't forecast.",
            reason_class="future_forecast",
            suggestions=SUGGESTIONS[:3],
        )
    metrics, dims, point, trange = r.metrics, r.dimensions, r.point, r.range
    assumptions = list(r.assumptions)
    stocks = all(
        model.metrics[n].aggregation in ("stock", "snapshot") and model.metrics[n].read_at == "end"
        for n in metrics
    )
    if point is not None:
        trange = TimeRange(start=point, end=point + timedelta(days=1), label=f"as of {point}")
    if trange is not None and stocks and r.grain is None and point is None and r.comparison is None:
        end_day = min(trange.end - timedelta(days=1), ctx.as_of)
        label = model.metrics[metrics[0]].label
        text = f"{label} is a balance: measured at the end of {end_day}."
        assumptions.append(Assumption(key="stock_at_period_end", text=text))
    ranking = None
    if r.ranking_n is not None and dims:
        ranking = Ranking(metric=metrics[0], direction=r.direction, n=r.ranking_n)
    if r.ranking_n is not None and not dims and not r.named_metric:
        return _rank_by_what(r)  # "top 10 customers": not the count of active customers
    if r.ranking_n is not None and not dims:
        text = "Nothing to rank: no breakdown was asked for."
        assumptions.append(Assumption(key="ranking_ignored", text=text))
    return QueryPlan(
        metrics=metrics,
        dimensions=dims,
        filters=r.filters,
        time=trange,
        grain=r.grain,
        comparison=r.comparison,
        ranking=ranking,
        aggregate=r.aggregate,
        by_currency="currency" in dims,
        currency=r.currency,
        chart=r.chart,
        assumptions=(*_definitions(model, metrics), *assumptions),
        confidence=0.7 if any(a.key.startswith("default_") for a in assumptions) else 1.0,
    )


_RANK_MEASURES = ("net revenue", "gross volume", "MRR")


def _rank_by_what(r: Reading) -> NeedsClarification:
    """A ranking of things with no measure named: ask what ranks them."""
    text = r.text.strip().rstrip("?.! ")
    return NeedsClarification(
        question="Ranked by what?",
        choices=tuple(Choice(label=m, question=f"{text} by {m}") for m in _RANK_MEASURES),
    )


def _definitions(model: SemanticModel, metrics: tuple[str, ...]) -> list[Assumption]:
    return [Assumption(key=f"{n}_definition", text=model.metrics[n].definition) for n in metrics]
