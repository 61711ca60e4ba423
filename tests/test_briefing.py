"""Token-budgeted semantic context: relevant metrics and their tables first, never over budget."""

from __future__ import annotations

from datetime import date

import pytest

from app.agent.briefing import SchemaContext, build_context, first_messages
from app.agent.tokens import count_tokens, encoding
from app.semantic.catalog import warehouse_tables
from app.semantic.load import semantic_model

MODEL = semantic_model()


def _ctx(question: str, budget: int = 1500) -> SchemaContext:
    return build_context(question, MODEL, budget)


def test_vat_in_germany_puts_tax_first() -> None:
    ctx = _ctx("How much VAT did we collect in Germany last quarter?")
    assert ctx.metrics[0] == "tax_collected"
    assert ctx.tables[:2] == ("tax_transaction_jurisdiction_details", "tax_transactions")
    lines = ctx.text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(("metric ", "table ")))
    assert lines[first].startswith("metric tax_collected ")
    assert lines[first + 1].startswith("table tax_transaction_jurisdiction_details: ")
    assert "amount_tax BIGINT (minor units)" in lines[first + 1]


def test_mrr_by_plan_puts_mrr_then_its_ledger_and_the_plan_table() -> None:
    ctx = _ctx("MRR by plan")
    assert ctx.metrics[0] == "mrr"
    assert ctx.tables[:2] == ("subscription_item_change_events", "prices")
    assert "nickname VARCHAR" in ctx.text  # the plan dimension's column


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("What was our refund rate in March?", "refund_rate"),
        ("chargebacks this year", "disputes_amount"),
        ("What was revenue last month?", "net_revenue"),  # ambiguous word → its default
        ("deferred revenue at year end", "deferred_revenue"),
        ("payout totals by month", "payouts"),
    ],
)
def test_the_metric_the_question_names_comes_first(question: str, first: str) -> None:
    assert _ctx(question).metrics[0] == first


def test_header_names_units_dimensions_and_lists() -> None:
    text = _ctx("anything at all").text
    assert text.startswith("Money columns hold integers in minor units")
    assert "Dimensions: customer, customer_country," in text
    assert "account," not in text.split("Dimensions:")[1].split("\n")[0]
    assert "Lists (row by row): invoices, disputes, charges, refunds, subscriptions," in text


@pytest.mark.parametrize("budget", [0, 1, 7, 25, 60, 150, 300, 700, 1500, 4000])
def test_budget_is_never_exceeded(budget: int) -> None:
    ctx = _ctx("VAT collected in Germany by month, and MRR by plan", budget)
    assert ctx.tokens == len(encoding("o200k_base").encode(ctx.text))
    assert ctx.tokens <= budget
    for name in ctx.metrics:
        assert f"metric {name} " in ctx.text


def test_cl100k_budget_is_counted_in_cl100k() -> None:
    ctx = build_context("MRR by plan", MODEL, 400, encoding_name="cl100k_base")
    assert ctx.tokens == len(encoding("cl100k_base").encode(ctx.text)) <= 400


def test_more_budget_means_more_context_and_names_what_is_left_out() -> None:
    small, large = _ctx("MRR by plan", 600), _ctx("MRR by plan", 3000)
    assert set(small.metrics) < set(large.metrics)
    assert small.metrics == large.metrics[: len(small.metrics)]
    huge = _ctx("MRR by plan", 100_000)
    assert set(huge.metrics) == set(MODEL.metrics)
    assert set(huge.tables) == warehouse_tables()
    assert "Other metrics" not in huge.text
    mid = _ctx("MRR by plan", 1500)
    assert "Other tables (describe_table):" in mid.text


def test_tiny_budget_keeps_order_of_relevance() -> None:
    ctx = _ctx("MRR by plan", 330)
    assert ctx.metrics[:1] == ("mrr",)


def test_deterministic() -> None:
    q = "Top 5 customers by gross volume in EUR last year"
    assert _ctx(q) == _ctx(q)
    assert build_context(q, MODEL, 900).text == build_context(q, MODEL, 900).text


def test_money_columns_are_marked_and_tenant_column_hidden() -> None:
    text = _ctx("gross volume", 100_000).text
    charges = next(line for line in text.splitlines() if line.startswith("table charges:"))
    assert "amount BIGINT (minor units)" in charges
    assert "status VARCHAR" in charges and "merchant_id" not in charges
    assert charges.endswith("more")


def _first(question: str, account: str = "acct_demo_02", mode: str = "native") -> list[dict]:
    return first_messages(
        question,
        model=MODEL,
        as_of=date(2025, 12, 31),
        account=account,
        timezone="Europe/Berlin",
        currency="eur",
        budget_tokens=800,
        mode=mode,
    )


def test_first_messages() -> None:
    # The layout changed on purpose (issue 18): the system message is a stable prefix and the
    # account, date and periods moved to the short question part at the end.
    messages = _first("What was MRR at the end of November?")
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert "- mrr" in system.splitlines() and "Question:" not in system
    assert "2025-12-31" in user and "acct_demo_02" in user and "Europe/Berlin" in user
    assert "EUR" in user and '"2025-11-30..2025-12-01"' in user and "mrr = " in user
    assert user.rstrip().endswith("Question: What was MRR at the end of November?")
    assert "$" not in system and "$question" not in user


def test_the_system_prefix_is_the_same_for_every_question_account_and_date() -> None:
    a = _first("What was MRR at the end of November?")
    b = _first("Refunds by card brand last month", account="acct_demo_01")
    assert a[0] == b[0] and a[1] != b[1]
    json_mode = _first("Refunds by card brand last month", mode="json")
    assert json_mode[0] != a[0] and '"action": "lookup"' in json_mode[0]["content"]


def test_the_question_part_is_short() -> None:
    user = _first("Which customer has had the longest uninterrupted subscription?")[1]
    assert count_tokens(user["content"]) < 250


def test_a_question_naming_a_list_gets_its_column_catalogue() -> None:
    text = _ctx("the 5 most recent failed charges with their failure message").text
    line = next(x for x in text.splitlines() if x.startswith("list charges:"))
    assert "failure_message" in line and "most recent = day" in line and "failed" in line
    assert not any(x.startswith("list invoices:") for x in text.splitlines())
