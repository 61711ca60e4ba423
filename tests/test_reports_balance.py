"""Balance reports: gross to net and the balance overview (data/semantic/reports.yaml).

The lists after a dash or a colon are read against the report they name ("gross-to-net", "from our
balance"); a count word before a measure goes on to the end of the list ("the number of sales and
payouts"). Answers on the demo warehouse are compared with SQL written by hand from Stripe's
balance-transaction definitions, and gross to net is checked to add up to net, row by row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.core.plan import CannotAnswer, QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from app.understand.reports_run import list_before
from tests.engine_support import ctx

AS_OF = date(2026, 1, 5)
GROSS_TO_NET = (
    "balance_charges",
    "balance_refunds_net",
    "balance_disputes_net",
    "stripe_fees",
    "net_volume",
)
OVERVIEW = (
    "balance_charges",
    "balance_refunds",
    "balance_adjustments",
    "balance_other_activity",
    "balance_gross_activity",
    "balance_net_activity",
    "balance_payouts",
    "balance_charges_count",
    "balance_payouts_count",
)


def _plan(question: str) -> QueryPlan:
    plan = plan_question(question, replace(ctx(), as_of=AS_OF))
    assert isinstance(plan, QueryPlan), (question, plan)
    assert plan.ignored == (), plan.ignored
    return plan


@pytest.mark.parametrize(
    ("question", "metrics", "dims", "grain"),
    [
        (
            "Gross-to-net reconciliation by month for 2025 in each currency — gross charges, "
            "refunds, disputes, Stripe fees and net",
            GROSS_TO_NET,
            ("currency",),
            "month",
        ),
        ("Gross to net by month in 2025 per currency", GROSS_TO_NET, ("currency",), "month"),
        (
            "2025 gross-to-net summary: charges, fees and net",
            ("balance_charges", "stripe_fees", "net_volume"),
            (),
            None,
        ),
        (
            "Monthly gross to net bridge for 2025 - gross, refunds and net, per currency",
            (GROSS_TO_NET[0], GROSS_TO_NET[1], GROSS_TO_NET[4]),
            ("currency",),
            "month",
        ),
        (
            "For each day last month and each currency: sales, refunds, adjustments, other "
            "activity, gross and net transaction amounts, payouts, and the number of sales and "
            "payouts from our balance",
            OVERVIEW,
            ("currency",),
            "day",
        ),
        (
            "Daily balance overview for December 2025 per currency — sales, refunds, "
            "adjustments, other transactions, gross and net activity, payouts, and how many "
            "sales and payouts",
            OVERVIEW,
            ("currency",),
            "day",
        ),
        (
            "Balance overview by week last month: payouts and the number of refunds and payouts",
            ("balance_payouts", "balance_refunds_count", "balance_payouts_count"),
            (),
            "week",
        ),
        (
            # "with counts": each measure's count beside its amount, not counts instead
            "Balance overview by week last month: payouts and refunds, with counts",
            (
                "balance_payouts",
                "balance_payouts_count",
                "balance_refunds",
                "balance_refunds_count",
            ),
            (),
            "week",
        ),
        (
            "Balance summary for last month by reporting category and currency — number of "
            "transactions, gross, fees and net",
            (
                "balance_activity_count",
                "balance_activity_gross",
                "balance_activity_fee",
                "balance_activity_net",
            ),
            ("reporting_category", "currency"),
            None,
        ),
    ],
)
def test_balance_reports_are_read_from_their_lists(
    question: str, metrics: tuple[str, ...], dims: tuple[str, ...], grain: str | None
) -> None:
    plan = _plan(question)
    assert (plan.metrics, plan.dimensions, plan.grain) == (metrics, dims, grain)


ACTIVITY = (
    "balance_charges",
    "balance_refunds",
    "balance_disputes",
    "balance_dispute_reversals",
    "issuer_declined_amount",
    "bank_payouts_arrived",
    "balance_charges_count",
    "balance_refunds_count",
    "issuer_declined_count",
    "bank_payouts_arrived_count",
)


@pytest.mark.parametrize(
    "question",
    [
        # no report named: the lists name the payments activity report's measures, the first
        # list before "with" ("disputes" there is one item, not the disputes report)
        "Day by day for August 2025, what were our EUR captured payments, refunds, disputes, "
        "disputes won, issuer declines and bank payouts, with counts of payments, refunds, "
        "declines and payouts?",
        "Give me a daily EUR activity report for August 2025 — captured charges, refunds, "
        "chargebacks, chargebacks reversed, issuer-declined amounts and payouts to the bank, plus "
        "the number of charges, refunds, declines and payouts each day",
    ],
)
def test_a_daily_activity_report_is_read_from_its_lists(question: str) -> None:
    plan = _plan(question)
    assert (plan.metrics, plan.grain) == (ACTIVITY, "day")
    assert [(f.dimension, f.values) for f in plan.filters] == [("currency", ("eur",))]


def test_a_report_named_before_its_list_is_not_swapped_for_one_that_reads_the_list() -> None:
    # the balance overview reads "refunds, payouts and adjustments"; the question is about disputes
    refused = plan_question(
        "Disputes by reason in 2025 with refunds, payouts and adjustments",
        replace(ctx(), as_of=AS_OF),
    )
    assert isinstance(refused, CannotAnswer) and refused.reason_class == "unread_words"


def test_list_before_finds_the_items_back_to_the_function_words() -> None:
    text = "what were our EUR captured payments, refunds, disputes and bank payouts, with counts"
    span = list_before(text, text.index(", with"))
    assert span is not None and text[span[0] : span[1]] == (
        "EUR captured payments, refunds, disputes and bank payouts"
    )
    assert list_before("gross volume and refunds, with counts", 24) is None  # two items


def test_a_count_word_after_the_measures_still_counts_them_all() -> None:
    plan = _plan("Disputes by reason in 2025 with evidence submitted and won counts")
    assert plan.metrics == ("disputes_count", "disputes_evidence_submitted", "disputes_won")


# ------------------------------------------------------------------ answers on the demo warehouse


def _ask(assistant: Assistant, question: str) -> list[list[Any]]:
    answer = assistant.ask(Request(question, as_of=AS_OF, account="acct_demo_01"))
    assert answer.status == "answered", (question, answer.error)
    return [list(r) for r in answer.rows]


def _sql(assistant: Assistant, sql: str) -> list[list[Any]]:
    rows = [list(r) for r in assistant.session.run_sql(sql, "acct_demo_01").rows]
    assert rows, "the hand-written query returns no rows: it checks nothing"
    return rows


def _local(column: str, start: str, end: str) -> str:
    at = f"timezone('America/New_York', {column} AT TIME ZONE 'UTC')"
    return f"{at} >= TIMESTAMP '{start}' AND {at} < TIMESTAMP '{end}'"


def test_gross_to_net_per_currency_adds_up_to_net(assistant: Assistant) -> None:
    rows = _ask(assistant, "Gross to net by month in 2025 per currency")
    local = "timezone('America/New_York', created AT TIME ZONE 'UTC')"
    want = _sql(
        assistant,
        f"""
        SELECT CAST(date_trunc('month', {local}) AS DATE), currency,
               coalesce(sum(amount) FILTER (WHERE reporting_category = 'charge'), 0) * 0.01,
               coalesce(sum(amount) FILTER (WHERE reporting_category IN ('refund',
                        'refund_failure')), 0) * 0.01,
               coalesce(sum(amount) FILTER (WHERE reporting_category IN ('dispute',
                        'dispute_reversal')), 0) * 0.01,
               (sum(fee) - coalesce(sum(amount) FILTER (WHERE reporting_category = 'fee'), 0))
                 * 0.01,
               coalesce(sum(net) FILTER (WHERE reporting_category IN ('charge', 'refund',
                        'dispute', 'dispute_reversal', 'fee', 'charge_failure',
                        'refund_failure')), 0) * 0.01
        FROM balance_transactions WHERE {_local("created", "2025-01-01", "2026-01-01")}
        GROUP BY ALL ORDER BY 1, 2
        """,
    )
    assert sorted(rows) == sorted(want)
    assert all(isinstance(v, Decimal) for r in rows for v in r[2:])
    assert all(g + r + d - f == n for _, _, g, r, d, f, n in rows), "gross to net adds up"


def test_balance_overview_dates_a_payout_when_it_leaves_the_balance(
    assistant: Assistant,
) -> None:
    rows = _ask(
        assistant,
        "Daily balance overview last month per currency: payouts and the number of payouts",
    )
    want = _sql(
        assistant,
        f"""
        SELECT CAST(timezone('America/New_York', available_on AT TIME ZONE 'UTC') AS DATE),
               currency, sum(amount) * 0.01, count(*)
        FROM balance_transactions
        WHERE type = 'payout' AND {_local("available_on", "2025-12-01", "2026-01-01")}
        GROUP BY ALL ORDER BY 1, 2
        """,
    )
    assert sorted(rows) == sorted(want)
    assert all(r[2] < 0 for r in rows), "money leaving the balance keeps its sign"


def test_daily_activity_shows_every_day_and_dates_payouts_by_arrival(assistant: Assistant) -> None:
    answer = assistant.ask(
        Request(
            "Daily EUR activity report for August 2025: bank payouts and the number of payouts",
            as_of=date(2025, 12, 31),
            account="acct_demo_02",
        )
    )
    assert answer.status == "answered", answer.error
    want = [
        list(r)
        for r in assistant.session.run_sql(
            """
            WITH days AS (
              SELECT CAST(unnest(generate_series(DATE '2025-08-01', DATE '2025-08-31',
                                                 INTERVAL 1 DAY)) AS DATE) AS day
            )
            SELECT d.day, coalesce(sum(t.amount), 0) * 0.01, count(t.id)
            FROM days AS d
            LEFT JOIN transfers AS t
              ON CAST(t.date AS DATE) = d.day AND t.type = 'bank_account'
                 AND t.status = 'paid' AND t.currency = 'eur'
            GROUP BY d.day ORDER BY d.day
            """,
            "acct_demo_02",
        ).rows
    ]
    assert [list(r) for r in answer.rows] == want
    assert len(want) == 31 and any(r[2] == 0 for r in want), "days without a payout show 0"
