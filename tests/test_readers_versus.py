"""'vs' between two metrics puts them side by side; beside a period it is still a comparison."""

from __future__ import annotations

from app.core.plan import QueryPlan
from app.understand import plan_question
from tests.engine_support import ctx


def test_vs_between_two_metrics_reads_both_without_a_comparison() -> None:
    for question in (
        "invoiced vs collected on invoices last month",
        "amount invoiced versus amount paid in May 2025",
    ):
        plan = plan_question(question, ctx())
        assert isinstance(plan, QueryPlan), plan
        assert plan.metrics == ("invoiced_amount", "amount_paid")
        assert plan.comparison is None


def test_vs_beside_a_period_is_still_a_comparison() -> None:
    plan = plan_question("Gross volume this month vs last month", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.comparison is not None and plan.comparison.kind == "previous_period"
