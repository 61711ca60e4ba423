"""A word's role beside a metric word: a verb's object, a status of the rows (readers_roles)."""

from __future__ import annotations

import pytest

from app.core.plan import Filter, QueryPlan
from app.understand import plan_question, read_question
from tests.engine_support import ctx


def _plan(question: str) -> QueryPlan:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    return plan


@pytest.mark.parametrize(
    "question",
    [
        "How many charges were declined in June 2025?",
        "Number of charges that were declined in June 2025",
        "How many payments failed in June 2025?",
        "how many charges got declined last month",
    ],
)
def test_a_status_said_of_the_counted_rows_picks_the_count_of_that_status(question: str) -> None:
    plan = _plan(question)
    assert plan.metrics == ("failed_charges_count",)
    assert plan.filters == ()


def test_a_status_the_metric_already_counts_stays_as_said() -> None:
    plan = _plan("successful charges that succeeded in June")
    assert plan.metrics == ("charges_count",)
    assert plan.filters == (Filter(dimension="charge_status", values=("succeeded",)),)


def test_two_counts_asked_side_by_side_stay_two() -> None:
    plan = _plan("How many charges succeeded and how many were declined in June 2025?")
    assert plan.metrics == ("charges_count", "failed_charges_count")
    assert plan.filters == ()


def test_a_metric_named_with_its_own_status_is_not_moved() -> None:
    r = read_question("failed charges that succeeded", ctx())
    assert r.metrics == ("failed_charges_count",)
    assert r.filters == (Filter(dimension="charge_status", values=("succeeded",)),)


def test_a_status_of_another_table_stays_a_filter() -> None:
    plan = _plan("net revenue from paid invoices in 2025")
    assert Filter(dimension="invoice_status", values=("paid",)) in plan.filters


@pytest.mark.parametrize(
    ("question", "metrics"),
    [
        (
            "How much tax did we charge customers between July and September 2025?",
            ("tax_collected",),
        ),
        ("How much VAT did we charge in Q3 2025?", ("tax_collected",)),
        ("How much sales tax did we charge our customers in Q3 2025?", ("tax_collected",)),
        ("How much did we charge customers in Q3?", ("gross_volume",)),
    ],
)
def test_the_object_of_how_much_did_we_is_the_metric(
    question: str, metrics: tuple[str, ...]
) -> None:
    plan = _plan(question)
    assert plan.metrics == metrics


def test_paid_before_a_currency_says_how_the_rows_were_paid() -> None:
    plan = _plan("Gross volume paid in Canadian dollars in 2025")
    assert plan.filters == (Filter(dimension="currency", values=("cad",)),)
    plan = _plan("Gross volume paid in CAD and GBP in 2025")
    assert [f.dimension for f in plan.filters] == ["currency"]


def test_which_of_the_two_refers_back_to_the_two_days_named() -> None:
    question = (
        "Which charges were made on Dec 30 and Dec 31 2025 (our local time), "
        "and on which of the two local days was each one made?"
    )
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.listing == "charges" and "day" in plan.columns
    assert plan.time is not None and (plan.time.end - plan.time.start).days == 2
    # "(our local time)" is the account's time zone, not a column the data lacks
    assert "local_time" in {a.key for a in plan.assumptions}
    assert "list_column_missing" not in {a.key for a in plan.assumptions}


def test_a_number_that_counts_nothing_named_is_still_unread() -> None:
    r = read_question("charges on Dec 30 and Dec 31 2025, and which of the three days", ctx())
    assert any(lo.word == "three" for lo in r.leftovers)


def test_which_of_the_two_days_consumes_the_days_it_counts() -> None:
    q = "List charges on Dec 1 and Dec 2 2025, and which of the two days each was made on"
    plan = plan_question(q, ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.listing == "charges"
