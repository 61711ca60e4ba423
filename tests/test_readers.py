"""The engine's readers: what each adds to the Reading (app.understand.readers*, reading)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.core.plan import Comparison, Filter, NeedsClarification, QueryPlan
from app.understand import (
    READERS,
    Reading,
    plan_question,
    read_question,
)
from tests.engine_support import ctx


def test_ranking_metric_and_breakdown() -> None:
    r = read_question("top 5 customers by net revenue last month", ctx())
    assert (r.ranking_n, r.direction) == (5, "top")
    assert r.metrics == ("net_revenue",) and r.named_metric
    assert r.dimensions == ("customer",)
    assert r.range is not None and (r.range.start, r.range.end) == (
        date(2025, 6, 1),
        date(2025, 7, 1),
    )


def test_time_phrases_metric_and_comparison_words_are_blanked_for_later_readers() -> None:
    r = read_question("gross volume in May 2025 vs April 2025", ctx())
    assert len(r.masked) == len(r.text)
    assert r.masked.split() == []
    assert r.leftovers == ()
    assert r.comparison == Comparison(kind="previous_period")


def test_list_with_state_and_threshold() -> None:
    r = read_question("list open invoices over $1,000 in June", ctx())
    assert r.listing == "invoices" and not r.named_metric
    assert r.list_filters == (Filter(dimension="state", values=("open",)),)
    assert r.threshold == Filter(
        dimension="amount", op="gt", values=(Decimal("1000"),), currency="usd"
    )
    assert "$" not in r.masked


def test_a_comparison_without_a_period_reuses_the_previous_one() -> None:
    previous = plan_question("gross volume last month", ctx())
    assert isinstance(previous, QueryPlan)
    r = read_question("how did it change?", ctx(previous))
    assert r.follow_up and r.range == previous.time
    assert r.comparison == Comparison(kind="previous_period")
    assert not read_question("how did it change?", ctx()).follow_up


def test_why_compares_with_the_previous_period() -> None:
    r = read_question("why did gross volume drop in June?", ctx())
    assert r.why and r.comparison == Comparison(kind="previous_period")
    assert "why_change" in {a.key for a in r.assumptions}


@pytest.mark.parametrize("question", ["MRR by plan last quarter", "top 3 plans", "and by country?"])
def test_each_reader_returns_a_new_reading_and_keeps_the_text(question: str) -> None:
    reading = Reading(text=question, masked=question)
    for read in READERS:
        after = read(reading, ctx())
        assert isinstance(after, Reading) and after.text == question
        assert len(after.masked) == len(question)
        reading = after
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.metrics = ()  # type: ignore[misc]


def test_a_series_over_two_back_to_back_periods_spans_both() -> None:
    r = read_question("Daily MRR over 2024 and 2025", ctx())
    assert (r.range.start, r.range.end) == (date(2024, 1, 1), date(2026, 1, 1))  # type: ignore[union-attr]
    assert r.grain == "day" and r.comparison is None
    vs = read_question("Gross volume by month in Q1 2025 vs Q2 2025", ctx())
    assert vs.comparison is not None


def test_amend_is_dataclasses_replace_for_every_field() -> None:
    from dataclasses import fields, replace

    from app.understand.reading import Reading, ReadingChanges, amend

    assert set(ReadingChanges.__annotations__) == {f.name for f in fields(Reading)}
    r = Reading(text="MRR by plan", masked="MRR by plan")
    changed = amend(r, masked="    by plan", metrics=("mrr",))
    assert changed == replace(r, masked="    by plan", metrics=("mrr",))
    assert r.masked == "MRR by plan"  # the original is untouched
    unchecked: Any = amend  # what the type checker would refuse, at run time
    with pytest.raises(TypeError):
        unchecked(r, no_such_field=1)


@pytest.mark.parametrize(
    ("question", "kind", "start", "end"),
    [
        ("Gross volume Q1 vs Q2 2025", "previous_period", date(2025, 4, 1), date(2025, 7, 1)),
        ("Gross volume Q2 2025 vs Q1 2025", "previous_period", date(2025, 4, 1), date(2025, 7, 1)),
        (
            "Gross volume in 2023 vs 2024",
            "same_period_last_year",
            date(2024, 1, 1),
            date(2025, 1, 1),
        ),
        (
            "Net volume last quarter vs the previous quarter",
            "previous_period",
            date(2025, 4, 1),
            date(2025, 7, 1),
        ),
    ],
)
def test_two_named_periods_compare_the_later_with_the_earlier(
    question: str, kind: str, start: date, end: date
) -> None:
    planned = plan_question(question, ctx())
    assert isinstance(planned, QueryPlan), planned
    assert planned.comparison == Comparison(kind=kind)  # type: ignore[arg-type]
    assert planned.time is not None and (planned.time.start, planned.time.end) == (start, end)


@pytest.mark.parametrize(
    "question", ["Gross volume in January vs March 2025", "Refunds in 2025 vs 2023"]
)
def test_two_periods_the_plan_cannot_compare_ask_instead_of_comparing_another(
    question: str,
) -> None:
    planned = plan_question(question, ctx())
    assert isinstance(planned, NeedsClarification), planned
    assert "neither" in planned.question


@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("Customers who signed up in June", "new_customers"),
        ("How many customers signed up in May 2025?", "new_customers"),
        ("How many subscriptions were canceled in June?", "canceled_subscriptions"),
    ],
)
def test_event_verbs_name_the_flow_not_the_stock(question: str, metric: str) -> None:
    planned = plan_question(question, ctx())
    assert isinstance(planned, QueryPlan), planned
    assert planned.metrics == (metric,) and not planned.filters


@pytest.mark.parametrize(
    ("question", "dimension"),
    [
        ("Refunds by reason last quarter, per currency", "refund_reason"),
        ("number of refunds by reason in 2025", "refund_reason"),
        ("Disputes by reason last quarter", "dispute_reason"),
    ],
)
def test_a_word_several_dimensions_share_is_the_one_on_the_metrics_table(
    question: str, dimension: str
) -> None:
    assert dimension in read_question(question, ctx()).dimensions
