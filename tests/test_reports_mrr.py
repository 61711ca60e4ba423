"""MRR event lists and bridges (app/understand/reports_mrr.py, app/understand/mrr_bridge.py).

An event of the MRR ledger said as a verb about subscriptions or customers ("churned", "started
paying", "converted to paid", "upgraded") with "MRR" is read as that event's MRR metric, one row
per subscription (or customer) in its own currency; the answers are checked against SQL written
by hand on the demo warehouse.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.plan import QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from tests.engine_support import ctx


def _plan(question: str) -> QueryPlan:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    return plan


@pytest.mark.parametrize(
    ("question", "metric", "dims"),
    [
        (
            "Subscriptions that churned last month, with the customer and the MRR each one "
            "took with it",
            "churned_mrr",
            ("subscription", "customer", "currency"),
        ),
        (
            "Which subscriptions started paying last month, for which customers, and how much "
            "MRR did each add?",
            "new_mrr",
            ("subscription", "customer", "currency"),
        ),
        (
            "Which trials converted to paid last month? List the subscription, customer and the "
            "MRR it added",
            "trial_conversion_mrr",
            ("subscription", "customer", "currency"),
        ),
        (
            "Show the subscriptions that upgraded last month with their MRR",
            "expansion_mrr",
            ("subscription", "currency"),
        ),
        (
            "Which customers downgraded last month, and the MRR they lost?",
            "contraction_mrr",
            ("customer", "currency"),
        ),
    ],
)
def test_an_mrr_event_said_of_subscriptions_is_its_mrr_per_subscription(
    question: str, metric: str, dims: tuple[str, ...]
) -> None:
    plan = _plan(question)
    assert plan.metrics == (metric,)
    assert plan.dimensions == dims
    assert plan.by_currency and plan.listing is None and not plan.ignored
    assert plan.time is not None and plan.time.start == date(2025, 6, 1)


@pytest.mark.parametrize(
    "question",
    [
        "How many subscriptions churned last month?",  # a count, not rows
        "list subscriptions that churned last month",  # no MRR asked: the list reader's
    ],
)
def test_counts_and_plain_lists_are_not_mrr_event_lists(question: str) -> None:
    plan = plan_question(question, ctx())
    assert not (isinstance(plan, QueryPlan) and "subscription" in plan.dimensions)


def test_churned_subscriptions_match_the_ledger(assistant: Assistant) -> None:
    question = "Subscriptions that churned last month, with the customer and the MRR each lost"
    answer = assistant.ask(Request(question=question, as_of=date(2025, 12, 2)))
    assert answer.status == "answered", answer.headline
    got = {(r[0], r[-2], r[-1]) for r in answer.rows}
    sql = """
        SELECT subscription_id, currency, -sum(mrr_change) * 0.01
        FROM subscription_item_change_events
        WHERE event_type = 'ACTIVE_END'
          AND local_event_timestamp >= TIMESTAMP '2025-11-01'
          AND local_event_timestamp < TIMESTAMP '2025-12-01'
        GROUP BY ALL
    """
    want = {
        (s, c, Decimal(v).quantize(Decimal("0.01")))
        for s, c, v in assistant.session.run_sql(sql, "acct_demo_01").rows
    }
    assert want and got == want
