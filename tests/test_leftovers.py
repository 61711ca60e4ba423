"""Every word of a question is accounted for: used, named as ignored, or no answer is given."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.plan import CannotAnswer, NeedsClarification, QueryPlan
from app.semantic.describe import read_back
from app.understand.engine import plan_question, read_question
from app.understand.leftovers import _word_before
from tests.engine_support import MODEL, ctx


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("What was the median MRR per plan last quarter?", "median"),
        ("Average gross volume per customer in 2025", "Average"),
        ("Cumulative gross volume by month in 2025", "Cumulative"),
        ("Gross volume by signup cohort in 2025", "cohort"),
        ("What share of gross volume came from Narnia in 2025?", "share"),
        ("Gross volume via PayPal in 2025", "PayPal"),
        ("Gross volume in buckets of 100 dollars", "buckets"),
        ("Additions to deferred revenue last month", "Additions"),
        ("Refunds last month — opening balance, additions", "opening"),
        ("Gross volume for order ord_123 in 2025", "ord_123"),
        ("Gross volume, refunds, disputes and net volume by Klarna plan", "Klarna"),
        (
            "Gross volume in 2025 for Visa, Mastercard and all other brands combined",
            "and all other brands",
        ),
        ("Refunds by customer country in 2025: US, Germany and the rest", "and the rest"),
        (
            "Give me the October 2024 balance sheet from revenue recognition by ledger account",
            "balance sheet",
        ),
        ("Discounts given to each of our subscriptions in 2025", "subscriptions"),
        ("Net volume in 2025 for 5 countries", "5"),
        ("Dispute win rate in 2025", "rate"),
        ("Top 10 customers by net revenue of all time", "of all time"),
        ("Gross volume since inception", "since inception"),
        ("Which invoices are overdue by more than 30 days?", "30"),
        ("Gross volume from customers with at least 2 cards in 2025", "2"),
    ],
)
def test_a_word_that_changes_the_number_is_not_dropped(question: str, word: str) -> None:
    planned = plan_question(question, ctx())
    assert isinstance(planned, CannotAnswer), planned
    assert planned.reason_class == "unread_words"
    assert f"'{word}'" in planned.reason


def test_all_currencies_combined_is_still_one_converted_total() -> None:
    assert isinstance(
        plan_question("Gross volume in 2025, all currencies combined", ctx()), QueryPlan
    )


def test_the_refusal_suggests_what_the_engine_can_answer_and_it_re_plans() -> None:
    planned = plan_question("Cumulative successful charges by month in 2025", ctx())
    assert isinstance(planned, CannotAnswer)
    suggestion = planned.suggestions[0]
    again = plan_question(suggestion, ctx())
    assert isinstance(again, QueryPlan), (suggestion, again)
    assert again.metrics == ("charges_count",) and again.grain == "month"


def test_typos_get_a_did_you_mean_with_the_corrected_question() -> None:
    planned = plan_question("MRR by plna last quater", ctx())
    assert isinstance(planned, NeedsClarification), planned
    assert "'plan' for 'plna'" in planned.question and "'quarter' for 'quater'" in planned.question
    fixed = planned.choices[0].question
    assert fixed == "MRR by plan last quarter"
    plan = plan_question(fixed, ctx())
    assert isinstance(plan, QueryPlan) and plan.dimensions == ("plan",)


def test_an_inflection_is_not_a_typo() -> None:
    plan = plan_question("How much VAT did we collect in Germany in 2025?", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.ignored == ()


@pytest.mark.parametrize(
    "question",
    [
        "Gross volume from German customers last quarter",  # names what is counted
        "What was gross volume excluding Visa last quarter?",  # "excluding" is read
        "Gross volume in 2024 with all currencies combined into one total",
        "gross volume in May 2025 vs April 2025",
        "How much did we pay in Stripe fees this year?",
    ],
)
def test_words_that_are_read_are_not_reported(question: str) -> None:
    r = read_question(question, ctx())
    assert [lo for lo in r.leftovers if lo.kind != "ignored"] == []
    assert isinstance(plan_question(question, ctx()), QueryPlan)


def test_a_harmless_unknown_word_is_named_on_the_plan() -> None:
    plan = plan_question("What was our gross volume for the whole of last quarter?", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.ignored == ("whole",)


def test_read_back_states_measure_breakdown_filters_period_and_currency() -> None:
    plan = plan_question("VAT collected in Germany by month in 2025", ctx())
    assert isinstance(plan, QueryPlan), plan
    line = read_back(plan, MODEL, currency="usd")
    assert line.startswith("Tax collected · by month · where ")
    assert "Germany" in line and "vat" in line.lower()
    assert "2025" in line and line.endswith("in USD")


def test_weak_metric_words_listed_with_a_metric_are_all_measured() -> None:
    plan = plan_question("Gross volume, refunds, disputes and net volume by month in 2025", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.metrics == ("gross_volume", "refunds_amount", "disputes_amount", "net_volume")
    assert plan.grain == "month" and plan.ignored == ()
    both_weak = plan_question("Refunds and disputes by month in 2025", ctx())
    assert isinstance(both_weak, QueryPlan)
    assert both_weak.metrics == ("refunds_amount", "disputes_amount")


def test_a_value_word_inside_a_dimension_name_is_not_a_filter() -> None:
    plan = plan_question("Gross volume by card brand in 2025", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.dimensions == ("card_brand",) and plan.filters == ()
    card_only = plan_question("Gross volume from card payments by card brand in 2025", ctx())
    assert isinstance(card_only, QueryPlan)
    assert [f.dimension for f in card_only.filters] == ["payment_method_type"]


def test_transactions_ask_payments_or_balance_transactions_and_each_choice_answers() -> None:
    asked = plan_question("How many transactions in 2025?", ctx())
    assert isinstance(asked, NeedsClarification), asked
    picked = {c.label: plan_question(c.question, ctx()) for c in asked.choices}
    assert {label: p.metrics for label, p in picked.items() if isinstance(p, QueryPlan)} == {
        "Successful charges": ("charges_count",),
        "Balance transactions": ("balance_activity_count",),
    }


@pytest.mark.parametrize(
    "question", ["Gross volume in 2025 in New York time", "Gross volume in 2025 in our local time"]
)
def test_the_accounts_own_time_zone_is_read_not_a_filter(question: str) -> None:
    plan = plan_question(question, ctx())  # acct_demo_01 reports in America/New_York
    assert isinstance(plan, QueryPlan), plan
    assert plan.filters == () and plan.ignored == ()
    assert any(a.key == "local_time" for a in plan.assumptions)
    state = plan_question("Gross volume in New York in 2025", ctx())
    assert isinstance(state, QueryPlan) and [f.values for f in state.filters] == [("NY",)]


_LAST_WORD = re.compile(r"([A-Za-z][\w'’]*)[^A-Za-z]*$")


@given(st.text(alphabet="ab Z1_'’é.-,", max_size=14), st.integers(min_value=0, max_value=14))
def test_the_word_before_a_position_is_the_last_word_a_regex_finds(text: str, at: int) -> None:
    at = min(at, len(text))
    m = _LAST_WORD.search(text, 0, at)  # the definition: quadratic in the question's length
    assert _word_before(text, at) == (m.group(1).lower() if m else "")


def test_an_amount_condition_on_a_total_is_refused_not_dropped() -> None:
    planned = plan_question("Charges over 30 dollars in June", ctx())
    assert isinstance(planned, CannotAnswer), planned
    assert "over 30 USD" in planned.reason


@pytest.mark.parametrize("verb", ["recognize", "recognise"])
def test_a_us_or_uk_spelling_is_no_typo(verb: str) -> None:
    planned = plan_question(f"How much revenue did we {verb} in Q2 2025?", ctx())
    assert isinstance(planned, QueryPlan), planned
    assert planned.metrics == ("recognized_revenue",)


@pytest.mark.parametrize("question", ["top 10 customers", "biggest customers"])
def test_a_ranking_with_no_measure_asks_by_what(question: str) -> None:
    planned = plan_question(question, ctx())
    assert isinstance(planned, NeedsClarification), planned
    assert planned.choices[0].question == f"{question} by net revenue"
