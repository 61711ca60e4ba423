"""Follow-up edits of the previous plan (app.understand.followup)."""

from __future__ import annotations

import pytest

from app.core.plan import NeedsClarification, QueryPlan
from app.understand import plan_question, read_question
from app.understand.followup import edit_plan
from tests.engine_support import ctx


def plan(question: str, previous: QueryPlan | None = None) -> QueryPlan:
    p = plan_question(question, ctx(previous))
    assert isinstance(p, QueryPlan), p
    return p


def keys(p: QueryPlan) -> set[str]:
    return {a.key for a in p.assumptions}


@pytest.mark.parametrize("question", ["as a chart", "plot it", "graph this"])
def test_chart_words_on_a_single_number_say_it_has_no_chart(question: str) -> None:
    single = plan("gross volume last month")
    assert "chart_single_number" in keys(plan(question, single))


@pytest.mark.parametrize(
    "question", ["as a photograph?", "show it as a paragraph", "and the autograph?"]
)
def test_words_that_only_contain_graph_are_not_chart_requests(question: str) -> None:
    single = plan("gross volume last month")
    edited = plan(question, single)
    assert "chart_single_number" not in keys(edited)
    assert edited.chart == single.chart


def test_bar_or_line_sets_the_chart_of_a_series() -> None:
    series = plan("gross volume by month this year")
    assert plan("as a bar chart", series).chart == "bar"
    assert plan("plot it as a line", series).chart == "line"
    assert "chart_single_number" not in keys(plan("as a chart", series))


def test_edit_plan_takes_the_reading() -> None:
    previous = plan("gross volume by month this year")
    reading = read_question("and by country instead, top 5", ctx(previous))
    edited = edit_plan(reading, previous)
    assert edited.dimensions == ("customer_country",)
    assert edited.ranking is not None and edited.ranking.n == 5
    assert edited.metrics == previous.metrics and edited.time == previous.time
    assert edited.grain == previous.grain
    assert not any(a.key.endswith("_definition") for a in edited.assumptions)


def test_added_dimensions_and_replaced_filters() -> None:
    previous = plan("gross volume by plan in Germany last month")
    edited = plan("and by country in France?", previous)
    assert edited.dimensions == ("plan", "customer_country")
    assert [(f.dimension, f.values) for f in edited.filters] == [("customer_country", ("FR",))]


def test_an_ambiguous_metric_in_a_follow_up_asks_instead_of_keeping_the_old_metric() -> None:
    top = plan("top 5 customers by revenue this year")
    asked = plan_question("what's the volume last month", ctx(top))
    assert isinstance(asked, NeedsClarification), asked
    assert {c.label for c in asked.choices} == {"Gross volume", "Net volume"}


@pytest.mark.parametrize(
    ("first", "follow_up", "start", "end"),
    [
        (
            "number of charges last month",
            "what about the month before?",
            "2025-05-01",
            "2025-06-01",
        ),
        ("refunds in Q2 2025", "and the quarter before?", "2025-01-01", "2025-04-01"),
        ("refunds in Q2 2025", "and the month before that?", "2025-03-01", "2025-04-01"),
        ("gross volume in June 2025", "and the year before?", "2024-06-01", "2024-07-01"),
        ("gross volume in March 2025", "what about the one before?", "2025-02-01", "2025-03-01"),
    ],
)
def test_the_period_before_is_read_against_the_previous_plans_period(
    first: str, follow_up: str, start: str, end: str
) -> None:
    previous = plan(first)
    edited = plan(follow_up, previous)
    assert edited.metrics == previous.metrics
    assert edited.time is not None
    assert (edited.time.start.isoformat(), edited.time.end.isoformat()) == (start, end)
