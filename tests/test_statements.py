"""Statements (data/semantic/statements.yaml): read, planned, compiled and reconciled with metrics.

A statement's numbers are checked against the semantic model's own metrics on the demo
warehouse: the deferred revenue roll-forward closes at the deferred revenue balance and rolls
into the next month's opening; the income statement's revenue accounts add up to net recognized
revenue; the tax tie-out's difference is its two sides' difference.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.answer import Answer, Column
from app.core.plan import CannotAnswer, QueryPlan
from app.core.request import Request
from app.explain.prose import explain
from app.pipeline.assistant import Assistant
from app.semantic.statements import Statement, check_statements
from app.ui.followups import follow_ups
from app.understand import plan_question
from tests.engine_support import MODEL, ctx

PLANNED = [
    (
        "Deferred revenue roll-forward for last month in each currency — opening balance, "
        "additions, revenue recognized, credit notes and closing balance",
        "deferred_revenue_rollforward",
    ),
    ("Roll forward of deferred revenue for Q1 2025", "deferred_revenue_rollforward"),
    ("deferred revenue movements last quarter per currency", "deferred_revenue_rollforward"),
    ("Income statement for March 2025 per currency", "income_statement"),
    ("P&L for last month by ledger account", "income_statement"),
    ("profit and loss for 2024, by account type", "income_statement"),
    ("revenue waterfall for 2025 billings by currency", "revenue_waterfall"),
    ("Revenue waterfall for Q1 2025: recognized per month for each billing month", None),
    ("Reconcile tax on invoices against Stripe Tax for June 2025", "invoice_tax_reconciliation"),
    ("invoice tax vs Stripe Tax last month with the difference", "invoice_tax_reconciliation"),
    (
        "Does the tax on our invoices tie out to Stripe Tax for May 2025?",
        "invoice_tax_reconciliation",
    ),
    (
        "Roll forward deferred revenue for May 2025: beginning balance, billings, recognized and "
        "ending balance",
        "deferred_revenue_rollforward",
    ),
    ("What does the revenue waterfall look like for revenue billed in 2024?", "revenue_waterfall"),
    ("receivables aging with invoice counts", "ar_aging_report"),
    ("Walk me through deferred revenue from opening to closing balance for last month", None),
    ("Show the aging of receivables by currency with the number of invoices in each bucket", None),
    ("How much tax did we put on invoices vs what Stripe Tax recorded last month?", None),
    ("net income by ledger account for November 2024", "income_statement"),
    ("For each billing month in 2024, how much revenue was recognized in each month?", None),
    (
        "How many open invoices and how much is outstanding in each aging bucket, per currency? "
        "AR aging",
        "ar_aging_report",
    ),
    (
        "AR aging per currency: number of open invoices and amount outstanding that is current, "
        "1-30, 31-60, 61-90 and over 90 days past due",
        "ar_aging_report",
    ),
]


def _named_by_words_together(question: str) -> str:
    """The statement a question names by its `together` phrases (the expected plan, spelled out)."""
    if "deferred revenue" in question:
        return "deferred_revenue_rollforward"
    if "aging" in question:
        return "ar_aging_report"
    if "Stripe Tax" in question:
        return "invoice_tax_reconciliation"
    return "revenue_waterfall"


def _cents(value: Any) -> Decimal:
    """A money value at the cent (the metric path gives per-currency amounts as floats)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _rows(answer: Answer) -> list[dict[str, Any]]:
    names = [c.name for c in answer.columns]
    return [dict(zip(names, row, strict=True)) for row in answer.rows]


@pytest.mark.parametrize(("question", "statement"), PLANNED)
def test_statement_questions_plan_the_statement(question: str, statement: str | None) -> None:
    plan = plan_question(question, ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.statement == (statement or _named_by_words_together(question))
    assert plan.by_currency and not plan.dimensions and not plan.ignored


@pytest.mark.parametrize(
    "question",
    [
        "Deferred revenue roll-forward for last month in USD",
        "Income statement for March 2025 by customer",
        "Income statement for March 2025 vs the previous month",
        "deferred revenue roll-forward by month in 2025",
    ],
)
def test_a_statement_refuses_what_its_shape_cannot_take(question: str) -> None:
    result = plan_question(question, ctx())
    assert isinstance(result, CannotAnswer), result
    assert "fixed shape" in result.reason


def test_stripe_tax_without_a_tie_out_word_is_no_tie_out() -> None:
    plan = plan_question("Stripe Tax on invoices in May 2025", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.statement is None


def test_aging_without_counts_stays_the_amount_due_by_aging_bucket() -> None:
    plan = plan_question("AR aging", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert plan.statement is None
    assert (plan.metrics, plan.dimensions) == (("amount_due",), ("ar_aging",))


def test_invoiced_and_collected_are_two_metrics() -> None:
    for question in (
        "How much did we invoice and how much did we collect on invoices last month?",
        "What did we bill and what did we collect on invoices in May 2025 by currency?",
    ):
        plan = plan_question(question, ctx())
        assert isinstance(plan, QueryPlan), plan
        assert plan.metrics == ("invoiced_amount", "amount_paid")


def test_a_statement_query_must_give_its_columns() -> None:
    with pytest.raises(ValidationError, match="columns"):
        Statement(
            name="x",
            label="X",
            definition="d",
            metrics=("mrr",),
            words=("x",),
            columns=({"name": "currency", "label": "Currency"},),
            sql="SELECT currency, 1 AS extra FROM invoices",
        )
    with pytest.raises(ValidationError, match="placeholders"):
        Statement(
            name="x",
            label="X",
            definition="d",
            metrics=("mrr",),
            words=("x",),
            columns=({"name": "currency", "label": "Currency"},),
            sql="SELECT currency FROM invoices WHERE date < @tomorrow",
        )


def _ask(assistant: Assistant, question: str, as_of: date) -> Answer:
    answer = assistant.ask(Request(question, as_of=as_of, account="acct_demo_01"))
    assert answer.status == "answered", answer.headline
    return answer


def test_rollforward_closes_at_the_deferred_revenue_balance(assistant: Assistant) -> None:
    as_of = date(2025, 12, 5)
    nov = _rows(_ask(assistant, "deferred revenue roll-forward for November 2025", as_of))
    dec = _rows(_ask(assistant, "deferred revenue roll-forward for December 2025", as_of))
    balance = _ask(assistant, "deferred revenue per currency at the end of November 2025", as_of)
    closing = {r["currency"]: r["closing_balance"] for r in nov}
    assert closing == {r["currency"]: r["opening_balance"] for r in dec}
    assert closing == {r["currency"]: _cents(r["deferred_revenue"]) for r in _rows(balance)}
    for r in nov:
        moved = r["additions"] - r["revenue_recognized"] - r["credit_notes"]
        assert r["closing_balance"] == r["opening_balance"] + moved
    assert any(r["credit_notes"] > 0 for r in nov)


def test_income_statement_revenue_adds_up_to_net_recognized_revenue(
    assistant: Assistant,
) -> None:
    as_of = date(2025, 12, 31)
    statement = _ask(assistant, "income statement for October 2025", as_of)
    net = _ask(
        assistant, "net revenue including contra revenue in October 2025 per currency", as_of
    )
    summed: dict[str, Decimal] = {}
    for r in _rows(statement):
        if r["account_type"] in ("Revenue", "ContraRevenue"):
            summed[r["currency"]] = summed.get(r["currency"], Decimal(0)) + r["net_income"]
    assert summed == {r["currency"]: _cents(r["net_recognized_revenue"]) for r in _rows(net)}
    assert statement.read_back.startswith("Income statement")
    assert statement.headline == f"Income statement: {len(statement.rows)} rows"


def test_tax_tie_out_difference_is_invoice_tax_less_stripe_tax(assistant: Assistant) -> None:
    answer = _ask(assistant, "invoice tax vs Stripe Tax for September 2025", date(2025, 10, 3))
    rows = _rows(answer)
    assert rows and all(r["difference"] == r["invoice_tax"] - r["stripe_tax"] for r in rows)
    assert any(r["difference"] != 0 for r in rows)  # the tie-out has something to show


def test_aging_report_counts_open_invoices_per_bucket(assistant: Assistant) -> None:
    question = "AR aging per currency with invoice counts"
    rows = _rows(_ask(assistant, question, date(2025, 12, 31)))
    due = _ask(assistant, "amount due per currency", date(2025, 12, 31))
    owed: dict[str, Decimal] = {}
    for r in rows:
        assert r["aging_bucket"] in ("current", "1-30", "31-60", "61-90", "over 90")
        owed[r["currency"]] = owed.get(r["currency"], Decimal(0)) + r["amount_outstanding"]
    assert owed == {r["currency"]: _cents(r["amount_due"]) for r in _rows(due)}
    assert sum(r["invoices"] for r in rows) == 38  # acct_demo_01's open invoices


def test_a_statement_names_metrics_of_the_model() -> None:
    statements = {s.name: s for s in MODEL.statements.values()}
    check_statements(statements, MODEL.metrics)
    with pytest.raises(ValueError, match="unknown metrics"):
        check_statements(statements, set(MODEL.metrics) - {"deferred_revenue"})


def test_a_statement_offers_no_breakdown_follow_ups() -> None:
    plan = plan_question("income statement for March 2025", ctx())
    assert isinstance(plan, QueryPlan), plan
    assert follow_ups(plan, MODEL) == []


def test_two_metrics_per_currency_name_the_one_the_headline_shows() -> None:
    columns = [
        Column(name="currency"),
        Column(name="invoiced_amount", kind="money"),
        Column(name="amount_paid", kind="money"),
    ]
    rows = [["usd", Decimal("10.00"), Decimal("7.50")], ["eur", Decimal("4.00"), Decimal("3.00")]]
    labels = {"invoiced_amount": "Invoiced amount", "amount_paid": "Amount paid"}
    ex = explain(columns, rows, metric_labels=labels, period=None, truncated=False)
    assert ex.headline == "Invoiced amount: USD $10.00 · EUR €4.00"
    assert "Amount paid: USD $7.50, EUR €3.00." in ex.explanation and ex.numbers_verified


def test_a_statement_headline_names_its_table_and_no_figure() -> None:
    columns = [Column(name="currency"), Column(name="net_income", kind="money")]
    rows = [["usd", Decimal("10.00")], ["eur", Decimal("4.00")]]
    ex = explain(
        columns,
        rows,
        metric_labels={},
        period=None,
        truncated=False,
        title="Income statement",
        statement=True,
    )
    assert (ex.headline, ex.value) == ("Income statement: 2 rows", None)
