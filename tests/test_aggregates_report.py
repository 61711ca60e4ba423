"""A statistic beside the count of its rows, per group ("payments by outcome and CVC check, with
the number of payments and the average Radar risk score"), and statistics of plain numbers.

Reading: what the engine plans. Answers: asked end to end through `Assistant.ask` on the demo
warehouse and compared with a query written by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.plan import Aggregate, QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from tests.engine_support import ctx

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"  # New York time
LOCAL = "timezone('America/New_York', created AT TIME ZONE 'UTC')"
LAST_14_DAYS = f"{LOCAL} >= TIMESTAMP '2025-12-18' AND {LOCAL} < TIMESTAMP '2026-01-01'"
REPORT = (
    "Over the last 14 days, how did our payments break down by outcome and CVC check, "
    "with the number of payments and the average Radar risk score?"
)


def _plan(question: str) -> QueryPlan:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    return plan


@pytest.mark.parametrize(
    "question",
    [
        REPORT,
        "Count payments in the past 14 days by outcome type and CVC check result, "
        "and give the average risk score for each group",
        "number of charges and average risk score by outcome last month",
    ],
)
def test_a_count_beside_a_statistic_is_the_count_of_its_rows(question: str) -> None:
    plan = _plan(question)
    assert plan.aggregate == Aggregate(func="avg", measure="risk_score", with_metrics=True)
    assert plan.metrics == ("charge_attempts",)  # the rows the average is over, all outcomes
    assert "outcome" in plan.dimensions
    assert "aggregate_rows_counted" in {a.key for a in plan.assumptions}


def test_a_breakdown_over_the_last_n_days_is_one_total_per_group_not_a_series() -> None:
    plan = _plan(REPORT)
    assert plan.grain is None
    assert plan.dimensions == ("outcome", "cvc_check")


def test_a_metric_that_counts_other_rows_is_still_not_computed_beside_it() -> None:
    plan = _plan("gross volume and the average risk score last month")
    assert plan.aggregate is not None and not plan.aggregate.with_metrics
    assert "aggregate_only" in {a.key for a in plan.assumptions}


def test_the_report_answer(assistant: Assistant) -> None:
    answer = assistant.ask(Request(REPORT, as_of=AS_OF, account=HOME))
    assert answer.status == "answered", answer.error
    assert [c.name for c in answer.columns] == [
        "outcome",
        "cvc_check",
        "payments",
        "avg_risk_score",
    ]
    assert [c.kind for c in answer.columns][2:] == ["count", "number"]
    want = assistant.session.run_sql(
        "SELECT outcome_type, card_cvc_check, count(*), round(avg(outcome_risk_score), 4) "
        f"FROM charges WHERE status IN ('succeeded', 'failed') AND {LAST_14_DAYS} "
        "GROUP BY ALL ORDER BY 3 DESC, 1, 2",
        HOME,
    ).rows
    assert len(want) > 1, "the hand-written query returns too few rows: it checks little"
    got = [(o, c, n, Decimal(str(v))) for o, c, n, v in answer.rows]
    assert got == [(o, c, n, Decimal(str(v))) for o, c, n, v in want]
    assert "Charge attempts and average radar risk score" in (answer.read_back or "")


def test_the_median_of_a_score_keeps_its_decimals(assistant: Assistant) -> None:
    answer = assistant.ask(
        Request(
            "median risk score of charges by outcome in December 2025", as_of=AS_OF, account=HOME
        )
    )
    assert answer.status == "answered", answer.error
    want = assistant.session.run_sql(
        "SELECT outcome_type, round(median(CAST(outcome_risk_score AS DECIMAL(38, 4))), 4) "
        "FROM charges WHERE status IN ('succeeded', 'failed') "
        f"AND {LOCAL} >= TIMESTAMP '2025-12-01' AND {LOCAL} < TIMESTAMP '2026-01-01' "
        "GROUP BY ALL ORDER BY 1",
        HOME,
    ).rows
    got = sorted((o, Decimal(str(v))) for o, v in answer.rows)
    assert got == [(o, Decimal(str(v))) for o, v in want]


def test_with_the_count_is_the_count_of_the_statistics_rows() -> None:
    plan = _plan("payments in June 2025 by CVC check, with the count and the median Radar score")
    assert plan.aggregate == Aggregate(func="median", measure="risk_score", with_metrics=True)
    assert plan.metrics == ("charge_attempts",) and plan.dimensions == ("cvc_check",)
    assert "aggregate_rows_counted" not in {a.key for a in plan.assumptions}
