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


def test_an_mrr_bridge_reads_opening_flows_and_closing() -> None:
    question = (
        "MRR bridge for last month in each currency — opening MRR, new, expansion, contraction, "
        "churned and closing MRR"
    )
    plan = _plan(question)
    assert plan.metrics == (
        "opening_mrr",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "closing_mrr",
    )
    assert plan.by_currency and not plan.ignored
    assert _plan("MRR roll-forward for last month from opening to closing").metrics == plan.metrics
    assert "movement_new_mrr" in _plan("MRR bridge for last month").metrics  # per customer


def test_the_bridge_reconciles_opening_to_closing_per_currency(assistant: Assistant) -> None:
    question = "Opening and closing MRR bridge for November 2025 per currency"
    answer = assistant.ask(Request(question=question, as_of=date(2025, 12, 31)))
    assert answer.status == "answered", answer.headline
    names = [c.name for c in answer.columns]
    assert len(answer.rows) > 1
    for row in answer.rows:
        v = dict(zip(names, row, strict=True))
        moved = v["new_mrr"] + v["expansion_mrr"] - v["contraction_mrr"] - v["churned_mrr"]
        assert v["opening_mrr"] + moved == v["closing_mrr"]
    sql = """
        SELECT currency, sum(mrr_change) * 0.01 FROM subscription_item_change_events
        WHERE local_event_timestamp < TIMESTAMP '2025-11-01' GROUP BY ALL
    """
    opening = {c: Decimal(v) for c, v in assistant.session.run_sql(sql, "acct_demo_01").rows}
    got = {row[0]: row[names.index("opening_mrr")] for row in answer.rows}
    assert got == {c: v.quantize(Decimal("0.01")) for c, v in opening.items() if c in got}


@pytest.mark.parametrize(
    "question",
    [
        "Which customers' MRR changed in June 2025 compared with May, and was each change new, "
        "expansion, contraction, churn or reactivation?",
        "Classify last month's MRR movers — for each customer whose MRR changed versus the "
        "previous month, show old and new MRR and whether it was new, expansion, contraction, "
        "churned or reactivated",
    ],
)
def test_each_customers_mrr_movement_is_a_movement_list(question: str) -> None:
    plan = _plan(question)
    assert plan.metrics == ("mrr",)
    assert plan.dimensions == ("customer", "mrr_movement", "currency")
    assert plan.comparison is None and not plan.ignored
    assert plan.time is not None and (plan.time.start, plan.time.end) == (
        date(2025, 6, 1),
        date(2025, 7, 1),
    )


def test_the_movement_list_classifies_each_customer_as_dbt_stripe_does(
    assistant: Assistant,
) -> None:
    question = (
        "Which customers' MRR changed in November 2025 compared with October, and was each "
        "change new, expansion, contraction, churn or reactivation?"
    )
    answer = assistant.ask(Request(question=question, as_of=date(2025, 12, 31)))
    assert answer.status == "answered", answer.headline
    names = [c.name for c in answer.columns]
    got = {
        (v["customer_id"], v["currency"], v["previous_mrr"], v["mrr"], v["mrr_movement"])
        for v in (dict(zip(names, row, strict=True)) for row in answer.rows)
    }
    sql = """
        WITH c AS (
          SELECT customer_id, currency,
                 count(*) FILTER (WHERE local_event_timestamp < TIMESTAMP '2025-11-01') AS n,
                 sum(mrr_change) FILTER (WHERE local_event_timestamp < TIMESTAMP '2025-11-01')
                   AS before,
                 sum(mrr_change) AS after
          FROM subscription_item_change_events
          WHERE local_event_timestamp < TIMESTAMP '2025-12-01'
          GROUP BY ALL
        )
        SELECT customer_id, currency, coalesce(before, 0) * 0.01, after * 0.01,
               CASE WHEN n = 0 THEN 'new' WHEN before = 0 THEN 'reactivation'
                    WHEN after > before THEN 'expansion' WHEN after = 0 THEN 'churned'
                    ELSE 'contraction' END
        FROM c WHERE after <> coalesce(before, 0)
    """
    want = {
        (k, c, Decimal(b).quantize(Decimal("0.01")), Decimal(a).quantize(Decimal("0.01")), kind)
        for k, c, b, a, kind in assistant.session.run_sql(sql, "acct_demo_01").rows
    }
    assert len(want) > 5 and got == want
    assert {"new", "expansion", "contraction", "churned"} <= {w[-1] for w in want}


def test_movement_kinds_said_of_customers_pick_them() -> None:
    plan = _plan(
        "Which customers expanded, contracted or churned last month, with their old and new MRR?"
    )
    assert plan.dimensions == ("customer", "mrr_movement", "currency")
    (kinds,) = plan.filters
    assert (kinds.dimension, kinds.op) == ("mrr_movement", "in")
    assert kinds.values == ("expansion", "contraction", "churned")  # "new MRR" is an amount
    assert not plan.ignored
