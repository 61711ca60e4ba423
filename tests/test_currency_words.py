"""'in EUR' reports in euros; 'EUR charges' keeps the euro charges (readers_words._reports_in).

The rule: "in <currency>" after the measure or the period, or "reported/converted in <currency>",
names the currency to report in (every amount converted with the dated rates, no filter); after a
word for the rows or how they were paid ("charges in EUR", "paid in CAD", "only in GBP"), in a list
("in EUR and GBP"), or without "in" ("EUR charges", "excluding GBP") the currency is a filter.
A follow-up "in US dollars?" converts the previous answer. Executed answers are compared with the
ledger converted by hand (exact Decimal).
"""

from datetime import date
from typing import Any

import pytest

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.plan import QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from tests.engine_support import ctx

AS_OF = date(2025, 12, 31)


def _plan(question: str) -> QueryPlan:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    return plan


def _currency_filters(plan: QueryPlan) -> list[tuple[str, tuple[Any, ...]]]:
    return [(f.op, f.values) for f in plan.filters if f.dimension == "currency"]


@pytest.mark.parametrize(
    ("question", "currency"),
    [
        ("Gross volume in EUR last month", "eur"),
        ("Gross volume in US dollars last month", "usd"),
        ("MRR at each month end in 2025 in USD", "usd"),
        ("MRR in euros", "eur"),
        ("What was MRR at the end of June, reported in EUR?", "eur"),
        ("Gross volume last month converted to US dollars", "usd"),
        ("refund rate in euros in 2025", "eur"),
        ("gross volume in Germany in EUR", "eur"),
    ],
)
def test_in_a_currency_after_the_measure_or_period_reports_in_it(
    question: str, currency: str
) -> None:
    plan = _plan(question)
    assert plan.currency == currency
    assert _currency_filters(plan) == []
    assert not plan.by_currency


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("EUR charges last month", ("eq", ("eur",))),
        ("only EUR charges in 2025", ("eq", ("eur",))),
        ("charges in EUR in 2025", ("eq", ("eur",))),
        ("How many charges in EUR last month?", ("eq", ("eur",))),
        ("Refunds in EUR last month", ("eq", ("eur",))),
        ("gross volume only in GBP", ("eq", ("gbp",))),
        ("gross volume for customers paying in CAD", ("eq", ("cad",))),
        ("gross volume excluding EUR in 2025", ("neq", ("eur",))),
        ("gross volume in EUR and GBP in 2025", ("in", ("eur", "gbp"))),
    ],
)
def test_a_currency_of_the_rows_is_a_filter(question: str, kept: tuple[str, Any]) -> None:
    assert _currency_filters(_plan(question)) == [kept]


def test_a_filter_and_a_reporting_currency_in_one_question() -> None:
    plan = _plan("gross volume of EUR charges reported in USD")
    assert _currency_filters(plan) == [("eq", ("eur",))]
    assert plan.currency == "usd"


def _ask(assistant: Assistant, question: str, account: str, previous: Any = None) -> Answer:
    conversation = Conversation(previous=previous)
    request = Request(question, as_of=AS_OF, account=account, conversation=conversation)
    answer = assistant.ask(request)
    assert answer.status == "answered", (question, answer.error, answer.refusal)
    return answer


def _month_end_mrr(assistant: Assistant, account: str, target: str) -> list[list[Any]]:
    """MRR at each 2025 month end: every currency converted with the rate of the point day."""
    rate = "CAST(json_extract_string(fx.buy_currency_exchange_rates, {path}) AS DOUBLE)"
    sql = f"""
        WITH months AS (
          SELECT CAST(unnest(generate_series(DATE '2025-01-01', DATE '2025-12-01',
                                             INTERVAL 1 MONTH)) AS DATE) AS period
        ), points AS (
          SELECT period, CAST(period + INTERVAL 1 MONTH AS DATE) - 1 AS point FROM months
        ), balance AS (
          SELECT p.period, p.point, e.currency, sum(e.mrr_change) AS minor
          FROM points AS p
          JOIN subscription_item_change_events AS e
            ON CAST(e.local_event_timestamp AS DATE) <= p.point
          GROUP BY ALL
        )
        SELECT b.period,
               CAST(0.01 * sum(CASE WHEN b.currency = '{target}' THEN b.minor
                   ELSE CAST(round(b.minor * {rate.format(path=f"'$.{target}'")}
                                   / {rate.format(path="'$.' || b.currency")}) AS BIGINT) END)
                    AS DECIMAL(18, 2)) AS mrr
        FROM balance AS b
        LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = b.point
        GROUP BY b.period ORDER BY b.period
    """
    rows = [list(r) for r in assistant.session.run_sql(sql, account).rows]
    assert len(rows) == 12
    return rows


def test_mrr_at_each_month_end_in_usd_converts_every_currency(assistant: Assistant) -> None:
    # Once read as a filter: only the USD subscriptions' MRR ($29,607.00 at the end of 2025).
    answer = _ask(assistant, "MRR at each month end in 2025 in USD", "acct_demo_01")
    assert answer.currency == "usd"
    assert [list(r) for r in answer.rows] == _month_end_mrr(assistant, "acct_demo_01", "usd")


def test_follow_up_in_us_dollars_converts_the_previous_answer(assistant: Assistant) -> None:
    # A pound account: the first answer is in GBP, "in US dollars?" converts it (eval case
    # fu_mrr_in_us_dollars, once read as a filter to the USD subscriptions).
    first = _ask(assistant, "MRR by month in 2025", "acct_demo_03")
    assert first.currency == "gbp" and first.plan is not None
    answer = _ask(assistant, "in US dollars?", "acct_demo_03", previous=first.plan)
    assert answer.plan is not None and _currency_filters(answer.plan) == []
    assert answer.currency == "usd"
    assert [list(r) for r in answer.rows] == _month_end_mrr(assistant, "acct_demo_03", "usd")


def test_follow_up_in_a_currency_ends_a_per_currency_answer(assistant: Assistant) -> None:
    first = _ask(assistant, "MRR per currency at the end of 2025", "acct_demo_01")
    assert first.currency is None and len(first.rows) > 1
    answer = _ask(assistant, "in euros?", "acct_demo_01", previous=first.plan)
    assert answer.plan is not None and not answer.plan.by_currency
    assert answer.currency == "eur"
    assert [c.name for c in answer.columns] == ["mrr"]
