"""Row-level lists: how questions are read into list plans, what they return on the demo warehouse,
and that no list multiplies its entity's rows (lists.yaml, app/understand/lists.py,
app/sql/compile/listing.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.core.answer import Answer
from app.core.plan import Filter, ListOrder, PerGroup, QueryPlan
from app.pipeline.assistant import Assistant
from app.sql.compile import CompileContext, compile_plan
from app.understand import plan_question, read_question
from tests.answer_support import answered, rows
from tests.engine_support import MODEL, ctx

HOME = "acct_demo_01"
AS_OF = date(2025, 12, 31)
SUB = "sub_1v0w6djhsu"  # a subscription of acct_demo_01 with five invoices


def plan(question: str) -> QueryPlan:
    p = plan_question(question, ctx())
    assert isinstance(p, QueryPlan), p
    return p


def ask(assistant: Assistant, question: str) -> Answer:
    return answered(assistant, question, as_of=AS_OF, account=HOME)


def sql_rows(assistant: Assistant, sql: str) -> list[tuple[Any, ...]]:
    return list(assistant.session.run_sql(sql, HOME).rows)


def states(p: QueryPlan) -> tuple[str, ...]:
    return tuple(str(v) for f in p.filters if f.dimension == "state" for v in f.values)


# --- reading --------------------------------------------------------------------------------


RECENT = ListOrder(column="day", direction="desc")


@pytest.mark.parametrize(
    ("question", "listing", "columns", "order", "group", "limit", "state"),
    [
        (
            "Which were the 5 most recent failed charges, with card brand, failure code and "
            "failure message?",
            "charges",
            ("charge", "day", "amount", "card_brand", "failure_code", "failure_message"),
            RECENT,
            None,
            5,
            ("failed",),
        ),
        (
            "Which customers (id and email) had failed charges?",
            "charges",
            ("customer_id", "email"),
            ListOrder(column="customer", direction="asc"),
            PerGroup(column="customer"),
            None,  # no number said: every row (up to max_rows)
            ("failed",),
        ),
        (
            "Show unpaid subscriptions with the customer's email",
            "subscriptions",
            ("subscription", "customer", "status", "email"),
            None,
            None,
            None,  # no number said: every row (up to max_rows)
            ("unpaid",),
        ),
        (
            "Which customers are on trial and what is their price?",
            "subscriptions",
            ("customer", "price"),
            None,
            None,
            None,  # no number said: every row (up to max_rows)
            ("on trial",),
        ),
        (
            "List active subscriptions with their product",
            "subscriptions",
            ("subscription", "customer", "status", "product"),
            None,
            None,
            None,  # no number said: every row (up to max_rows)
            ("active",),
        ),
        (
            "What was the largest charge of each customer?",
            "charges",
            (),
            ListOrder(column="amount", direction="desc"),
            PerGroup(column="customer"),
            None,  # no number said: every row (up to max_rows)
            (),
        ),
        (
            "What discount was applied on each invoice?",
            "invoices",
            ("invoice", "invoice_date", "total", "coupon", "percent_off", "discount_amount"),
            None,
            None,
            None,  # no number said: every row (up to max_rows)
            (),
        ),
        (
            "List refund balance transactions with the refunded charge",
            "balance_transactions",
            ("balance_transaction", "day", "type", "amount", "refunded_charge"),
            None,
            None,
            None,  # no number said: every row (up to max_rows)
            ("refund",),
        ),
        (  # stripe-docs-001
            "What are the five most recent refund balance transactions (day, id, amount, "
            "currency, source object)?",
            "balance_transactions",
            ("day", "balance_transaction", "amount", "currency", "source"),
            RECENT,
            None,
            5,
            ("refund",),
        ),
        (  # stripe-docs-002
            "For the five most recent refunds, which original charge did each refund come from?",
            "refunds",
            ("refund", "day", "amount", "charge"),
            RECENT,
            None,
            5,
            (),
        ),
        (  # stripe-docs-003
            "Show the five most recent balance transactions of any type with their source "
            "object and type.",
            "balance_transactions",
            ("balance_transaction", "day", "type", "amount", "source"),
            RECENT,
            None,
            5,
            (),
        ),
        (
            "Show the 10 largest disputes in 2025",
            "disputes",
            (),
            ListOrder(column="amount", direction="desc"),
            None,
            10,
            (),
        ),
        (
            "Show the latest invoice of each customer",
            "invoices",
            (),
            ListOrder(column="invoice_date", direction="desc"),
            PerGroup(column="customer"),
            None,  # no number said: every row (up to max_rows)
            (),
        ),
        ("Show open disputes", "disputes", (), None, None, None, ("open",)),
        ("List overdue invoices", "invoices", (), None, None, None, ("overdue",)),
    ],
)
def test_list_questions_are_read_into_list_plans(
    question: str,
    listing: str,
    columns: tuple[str, ...],
    order: ListOrder | None,
    group: PerGroup | None,
    limit: int,
    state: tuple[str, ...],
) -> None:
    p = plan(question)
    assert p.listing == listing
    assert p.columns == columns
    assert p.order == order
    assert p.per_group == group
    assert p.limit == limit
    assert states(p) == state


def test_an_id_in_the_question_filters_its_column() -> None:
    # stripe-docs-024, with a subscription of the demo account
    p = plan(f"What invoices (with charge id and amount due) has subscription {SUB} generated?")
    assert p.listing == "invoices"
    assert p.columns == ("invoice", "invoice_date", "total", "charge", "amount_due")
    assert Filter(dimension="subscription_id", values=(SUB,)) in p.filters
    assert p.stripe_ids and p.order == ListOrder(column="invoice_date", direction="desc")


@pytest.mark.parametrize(
    ("question", "used"),
    [
        (
            "Which were the 5 most recent failed charges, with card brand, failure code and "
            "failure message?",
            ("5", "recent", "failed", "charges", "card", "brand", "code", "message", "with"),
        ),
        ("Which customers (id and email) had failed charges?", ("customers", "id", "email")),
        ("What was the largest charge of each customer?", ("largest", "charge", "customer")),
        ("List refund balance transactions with the refunded charge", ("refund", "refunded")),
        (f"What invoices has subscription {SUB} generated?", ("invoices", "subscription", "sub_")),
    ],
)
def test_words_a_list_reads_are_blanked(question: str, used: tuple[str, ...]) -> None:
    r = read_question(question, ctx())
    assert r.listing is not None and len(r.masked) == len(r.text)
    left = r.masked.lower()
    assert not [w for w in used if w in left], r.masked


def test_a_column_the_data_lacks_is_said_not_dropped() -> None:
    p = plan("List failed charges with the failure message and the customer's shoe size")
    assert "failure_message" in p.columns
    missing = [a.text for a in p.assumptions if a.key == "list_column_missing"]
    assert missing and "shoe size" in missing[0]


@pytest.mark.parametrize(
    "question",
    [
        "What were refunds last month?",
        "Active subscriptions at the end of June",
        "How many failed charges did we have in June 2025?",
        "refunds per customer last quarter",
        "Show new customers in June",
        "Payouts per currency last month",
        "What is the total of unpaid invoices?",
        "top 10 customers by revenue this year",
    ],
)
def test_questions_about_numbers_stay_aggregates(question: str) -> None:
    p = plan_question(question, ctx())
    assert not (isinstance(p, QueryPlan) and p.listing), p


def test_write_requests_are_never_read_as_lists() -> None:
    r = read_question("insert a refund of $100 for customer cus_123", ctx())
    assert r.listing is None


# --- executed on the demo warehouse ---------------------------------------------------------


def test_the_most_recent_failed_charges_with_their_failure(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "Which were the 5 most recent failed charges, with card brand, failure code and "
        "failure message?",
    )
    assert answer.headline == "The 5 most recent failed charges: 5 rows"
    want = sql_rows(
        assistant,
        "SELECT id, card_brand, failure_code, failure_message FROM charges "
        "WHERE status = 'failed' ORDER BY created DESC, id LIMIT 5",
    )
    got = [
        (r["charge"], r["card_brand"], r["failure_code"], r["failure_message"])
        for r in rows(answer)
    ]
    assert got == want
    assert all(isinstance(r["amount"], Decimal) for r in rows(answer))


def test_the_largest_charge_of_each_customer(assistant: Assistant) -> None:
    answer = ask(assistant, "What was the largest charge of each customer?")
    got = rows(answer)
    customers = sql_rows(assistant, "SELECT count(DISTINCT customer_id) FROM charges")[0][0]
    assert len(got) == customers and "of each customer" in answer.explanation
    facts = {
        charge: (customer, largest)
        for charge, customer, largest in sql_rows(
            assistant,
            "SELECT id, customer_id, largest FROM (SELECT id, customer_id, "
            "max(amount) OVER (PARTITION BY customer_id) = amount AS largest FROM charges) "
            f"WHERE id IN ({', '.join(repr(r['charge']) for r in got)})",
        )
    }
    assert len({facts[r["charge"]][0] for r in got}) == customers, "one charge per customer"
    assert all(facts[r["charge"]][1] for r in got)
    amounts = [r["amount"] for r in got]
    assert amounts == sorted(amounts, reverse=True)


def test_customers_with_failed_charges_one_row_each(assistant: Assistant) -> None:
    answer = ask(assistant, "Which customers (id and email) had failed charges?")
    got = rows(answer)
    assert [c.name for c in answer.columns] == ["customer", "customer_id", "email"]
    assert answer.headline.startswith("Customers with failed charges")
    failed = {
        (cid, email)
        for cid, email in sql_rows(
            assistant,
            "SELECT DISTINCT c.id, c.email FROM charges AS ch JOIN customers AS c "
            "ON c.id = ch.customer_id WHERE ch.status = 'failed'",
        )
    }
    assert {(r["customer_id"], r["email"]) for r in got} == failed  # every one, no default cut
    assert len({r["customer_id"] for r in got}) == len(got)


def test_unpaid_subscriptions_with_the_customers_email(assistant: Assistant) -> None:
    answer = ask(assistant, "Show unpaid subscriptions with the customer's email")
    want = dict(
        sql_rows(
            assistant,
            "SELECT s.id, c.email FROM subscriptions AS s JOIN customers AS c "
            "ON c.id = s.customer_id WHERE s.status = 'unpaid'",
        )
    )
    assert {r["subscription"]: r["email"] for r in rows(answer)} == want
    assert {r["status"] for r in rows(answer)} == {"unpaid"}


def test_customers_on_trial_and_their_price(assistant: Assistant) -> None:
    answer = ask(assistant, "Which customers are on trial and what is their price?")
    (trialing,) = sql_rows(
        assistant, "SELECT count(*) FROM subscriptions WHERE status = 'trialing'"
    )
    assert len(answer.rows) == trialing[0] > 0
    assert all(r["price"] for r in rows(answer))


def test_active_subscriptions_with_every_product(assistant: Assistant) -> None:
    answer = ask(assistant, "List active subscriptions with their product")
    products = dict(
        sql_rows(
            assistant,
            "SELECT si.subscription_id, string_agg(DISTINCT p.name, ', ' ORDER BY p.name) "
            "FROM subscription_items AS si JOIN prices AS pr ON pr.id = si.price_id "
            "JOIN products AS p ON p.id = pr.product_id GROUP BY ALL",
        )
    )
    got = rows(answer)
    assert all(r["product"] == products[r["subscription"]] for r in got)
    assert any(", " in r["product"] for r in got), "a subscription of several items"
    assert any(a.key == "list_rollup" for a in answer.assumptions)


def test_the_discount_of_each_invoice(assistant: Assistant) -> None:
    answer = ask(assistant, "What discount was applied on discounted invoices?")
    got = rows(answer)
    want = dict(
        sql_rows(
            assistant,
            "SELECT coalesce(number, id), CAST(0.01 * (subtotal + tax - total) AS DECIMAL(18, 2)) "
            "FROM invoices WHERE discount_coupon_id IS NOT NULL",
        )
    )
    assert got and all(r["discount_amount"] == want[r["invoice"]] for r in got)
    assert all(r["coupon"] for r in got)
    assert any(r["percent_off"] is None for r in got), "an amount-off coupon has no percent"


def test_refund_balance_transactions_with_the_refunded_charge(assistant: Assistant) -> None:
    answer = ask(assistant, "List refund balance transactions with the refunded charge")
    want = dict(
        sql_rows(
            assistant,
            "SELECT bt.id, r.charge_id FROM balance_transactions AS bt "
            "JOIN refunds AS r ON r.balance_transaction_id = bt.id WHERE bt.type = 'refund'",
        )
    )
    got = rows(answer)
    assert got and all(r["refunded_charge"] == want[r["balance_transaction"]] for r in got)
    assert {r["type"] for r in got} == {"refund"}


def test_the_invoices_of_one_subscription(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        f"What invoices (with charge id and amount due) has subscription {SUB} generated?",
    )
    want = sql_rows(
        assistant,
        "SELECT id, charge_id, CAST(0.01 * amount_due AS DECIMAL(18, 2)) "
        f"FROM invoices WHERE subscription_id = '{SUB}'",
    )
    got = [(r["invoice"], r["charge"], r["amount_due"]) for r in rows(answer)]
    assert sorted(got, key=repr) == sorted(want, key=repr) and len(got) == 5
    assert SUB in answer.headline


def test_stripe_docs_001_five_most_recent_refund_balance_transactions(
    assistant: Assistant,
) -> None:
    answer = ask(
        assistant,
        "What are the five most recent refund balance transactions (day, id, amount, currency, "
        "source object)?",
    )
    assert [c.name for c in answer.columns] == [
        "day",
        "balance_transaction",
        "amount",
        "currency",
        "source",
    ]
    got = rows(answer)
    assert len(got) == 5 and all(r["source"].startswith("re_") for r in got)
    assert all(r["amount"] < 0 for r in got)


# --- no fan-out -----------------------------------------------------------------------------


def _count(assistant: Assistant, p: QueryPlan) -> int:
    info = assistant.session.account_info(HOME)
    assert info is not None
    sql = compile_plan(p, CompileContext(account=info, as_of=AS_OF, model=MODEL)).expression
    (n,) = sql_rows(assistant, f"SELECT count(*) FROM ({sql.sql('duckdb')}) AS listed")
    return int(n[0])


@pytest.mark.parametrize("name", list(MODEL.lists))
def test_a_list_has_one_row_per_entity_row(name: str, assistant: Assistant) -> None:
    spec = MODEL.lists[name]
    every = tuple(c.name for c in spec.columns)
    (total,) = sql_rows(assistant, f"SELECT count(*) FROM {spec.table}")
    assert total[0] > 0
    for state in (None, *spec.states):
        filters = (Filter(dimension="state", values=(state,)),) if state else ()
        plans = [
            QueryPlan(metrics=("gross_volume",), listing=name, columns=cols, filters=filters)
            for cols in (every, (spec.key,))
        ]
        counts = {_count(assistant, p) for p in plans}
        assert len(counts) == 1, (state, counts)
        if state is None:
            assert counts == {total[0]}


def test_one_row_per_group(assistant: Assistant) -> None:
    p = QueryPlan(
        metrics=("gross_volume",),
        listing="invoices",
        order=ListOrder(column="invoice_date"),
        per_group=PerGroup(column="customer", n=2),
    )
    (groups,) = sql_rows(
        assistant,
        "SELECT sum(least(n, 2)) FROM (SELECT customer_id, count(*) AS n FROM invoices "
        "WHERE customer_id IS NOT NULL GROUP BY ALL)",
    )
    assert _count(assistant, p) == groups[0]


def test_back_to_back_days_named_together_list_one_period_not_a_comparison() -> None:
    p = plan("Which charges were made on Jul 1 and Jul 2 2025, with the date each was made?")
    assert p.listing == "charges" and p.comparison is None
    assert (p.time.start, p.time.end) == (date(2025, 7, 1), date(2025, 7, 3))
    assert "day" in p.columns


@pytest.mark.parametrize(
    "question",
    ["List payments made last week", "Which charges were made yesterday?"],
)
def test_made_after_the_things_listed_says_when_they_happened_not_money_made(
    question: str,
) -> None:
    assert plan(question).listing == "charges"  # not "gross volume, net volume or revenue?"


def test_a_count_of_days_is_not_a_count_of_rows() -> None:
    p = plan_question(
        "Which charges were made on July 1 or 2, 2025, and on which of the two days?", ctx()
    )
    assert not (isinstance(p, QueryPlan) and p.limit == 2)


@pytest.mark.parametrize(
    "question", ["Which customers signed up in June?", "List new customers in June"]
)
def test_which_rows_a_count_metric_counts_is_a_list_of_them(question: str) -> None:
    p = plan_question(question, ctx())
    assert isinstance(p, QueryPlan) and p.listing == "customers", p
    assert p.time is not None and (p.time.start, p.time.end) == (date(2025, 6, 1), date(2025, 7, 1))


@pytest.mark.parametrize(
    ("question", "listing", "at_least"),
    [
        ("Customers (id and email) with failed charges", "charges", None),
        ("List customers with unpaid invoices", "invoices", None),
        ("Customers with more than 3 subscriptions", "subscriptions", 4),
    ],
)
def test_customers_with_other_rows_are_those_rows_customers(
    question: str, listing: str, at_least: int | None
) -> None:
    p = plan_question(question, ctx())
    assert isinstance(p, QueryPlan) and p.listing == listing, p
    assert p.per_group is not None and p.per_group.column == "customer"
    assert p.per_group.at_least == at_least
