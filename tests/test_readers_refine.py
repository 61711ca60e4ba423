"""Metric variants and implied breakdowns, read from the semantic model (readers_refine)."""

from __future__ import annotations

import pytest

from app.core.plan import QueryPlan
from app.understand import plan_question, read_question
from tests.engine_support import ctx


@pytest.mark.parametrize(
    ("question", "metrics"),
    [
        ("Dispute rate by month of the disputed charge in 2025", ("dispute_rate_by_charge_date",)),
        ("chargeback rate by charge date last quarter", ("dispute_rate_by_charge_date",)),
        ("how many disputes by charge month in 2024", ("disputes_count_by_charge_date",)),
        ("Billings by product in 2025 excluding tax", ("line_item_billings",)),
        ("invoiced amount before tax last month", ("line_item_billings",)),
        ("Net recognized revenue in 2025 including contra revenue", ("net_recognized_revenue",)),
        ("recognized revenue net of contra revenue in Q2", ("net_recognized_revenue",)),
    ],
)
def test_extra_words_name_the_metric_variant(question: str, metrics: tuple[str, ...]) -> None:
    r = read_question(question, ctx())
    assert r.metrics == metrics
    # the variant's words are consumed: nothing of them is left for later readers
    for word in ("disputed", "charge", "excluding", "before", "contra", "tax"):
        assert word not in r.masked.lower().split()


def test_a_metric_named_outside_the_variant_words_is_kept() -> None:
    r = read_question("disputed amount and dispute rate by charge date in 2025", ctx())
    assert r.metrics == ("disputes_amount", "dispute_rate_by_charge_date")


def test_without_the_words_the_metric_is_the_default_one() -> None:
    assert read_question("dispute rate by month in 2025", ctx()).metrics == ("dispute_rate",)
    assert read_question("billings in 2025", ctx()).metrics == ("invoiced_amount",)
    assert read_question("contra revenue in 2025", ctx()).metrics == ("contra_revenue",)


@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("AR aging", "amount_due"),
        ("Receivables aging", "amount_due"),
        ("Accounts receivable aging buckets", "amount_due"),
        ("How old are our unpaid invoices?", "amount_due"),
        ("overdue invoices by age", "overdue_invoices"),
    ],
)
def test_aging_words_ask_for_the_aging_breakdown(question: str, metric: str) -> None:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan)
    assert plan.metrics == (metric,) and plan.dimensions == ("ar_aging",)
    keys = [a.key for a in plan.assumptions]
    assert f"{metric}_definition" in keys and "ar_aging_definition" in keys


def test_unpaid_invoices_with_a_threshold_are_still_a_list() -> None:
    plan = plan_question("unpaid invoices over $1,000", ctx())
    assert isinstance(plan, QueryPlan) and plan.listing == "invoices"
    assert all(not a.key.endswith("_definition") for a in plan.assumptions)


def test_a_filtered_dimension_states_its_definition() -> None:
    plan = plan_question("Revenue recognized on open invoices in 2025", ctx())
    assert isinstance(plan, QueryPlan)
    assert plan.metrics == ("recognized_revenue",)
    assert [(f.dimension, f.values) for f in plan.filters] == [("invoice_status", ("open",))]
    assert "invoice_status_definition" in [a.key for a in plan.assumptions]
