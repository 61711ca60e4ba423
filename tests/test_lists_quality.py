"""Lists answer what had happened by the as-of day, in the account's own days (lists.yaml
`local:` columns, app/sql/compile/listing.py), with the column names Stripe's Sigma uses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.core.answer import Answer
from app.core.plan import Filter, QueryPlan
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from tests.answer_support import answered, rows
from tests.engine_support import ctx

EUR = "acct_demo_02"  # Europe/Berlin
HOME = "acct_demo_01"  # America/New_York


def ask(assistant: Assistant, question: str, as_of: date, account: str = HOME) -> Answer:
    return answered(assistant, question, as_of=as_of, account=account)


def sql_rows(assistant: Assistant, sql: str, account: str = HOME) -> list[tuple[Any, ...]]:
    return list(assistant.session.run_sql(sql, account).rows)


def test_a_list_without_a_period_stops_at_the_as_of_day(assistant: Assistant) -> None:
    answer = ask(assistant, "List the 5 most recent refunds", date(2025, 6, 30), EUR)
    want = sql_rows(
        assistant,
        "SELECT id FROM refunds WHERE timezone('Europe/Berlin', created AT TIME ZONE 'UTC') "
        "< TIMESTAMP '2025-07-01' ORDER BY created DESC, id LIMIT 5",
        EUR,
    )
    got = rows(answer)
    assert [(r["refund"],) for r in got] == want
    assert all(r["day"] <= date(2025, 6, 30) for r in got)


def test_a_rows_date_is_its_day_in_the_accounts_time_zone(assistant: Assistant) -> None:
    answer = ask(assistant, "Show the 200 most recent charges", date(2025, 12, 31))
    days = sql_rows(
        assistant,
        "SELECT id, CAST(timezone('America/New_York', created AT TIME ZONE 'UTC') AS DATE), "
        "CAST(created AS DATE) FROM charges ORDER BY created DESC, id LIMIT 200",
    )
    got = rows(answer)
    assert [(r["charge"], r["day"]) for r in got] == [(i, local) for i, local, _ in days]
    assert any(local != utc for _, local, utc in days), "some charge falls on another UTC day"


def test_ids_of_other_objects_and_emails_carry_sigma_names(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "Show the 5 most recent refunds with the charge and the customer's email",
        date(2025, 12, 31),
    )
    names = [c.name for c in answer.columns]
    assert {"refund", "day", "charge", "email", "amount", "currency"} <= set(names)
    assert all(r["charge"].startswith("ch_") for r in rows(answer))


# --- reading: recency, places, other objects' columns, column sentences ----------------------


def plan(question: str) -> QueryPlan:
    p = plan_question(question, ctx())
    assert isinstance(p, QueryPlan), p
    return p


def states(p: QueryPlan) -> list[str]:
    return [str(v) for f in p.filters if f.dimension == "state" for v in f.values]


@pytest.mark.parametrize(
    ("question", "limit"),
    [
        ("List the last 5 balance transactions", 5),
        ("Show me our last ten Stripe balance transactions", 10),
        ("Show the last refund", 1),
        ("Show our latest five refunds", 5),
    ],
)
def test_last_n_is_the_n_most_recent(question: str, limit: int) -> None:
    p = plan(question)
    assert p.limit == limit and p.order is not None
    assert p.order.direction == "desc" and p.order.column == "day"


def test_last_before_a_time_unit_stays_a_period() -> None:
    p = plan("List refunds in the last 5 days")
    assert p.listing == "refunds" and p.order is None and p.time is not None
    assert (p.time.end - p.time.start).days == 5


@pytest.mark.parametrize(
    ("question", "state"),
    [
        ("Show the five most recent refunds on our balance", ["refund"]),
        ("What are the last 5 refund transactions in our Stripe balance?", ["refund"]),
        ("Show the five latest transactions on our Stripe balance", []),
    ],
)
def test_rows_on_our_balance_are_balance_transactions(question: str, state: list[str]) -> None:
    p = plan(question)
    assert p.listing == "balance_transactions" and states(p) == state and p.limit == 5


def test_a_column_of_another_object_is_borrowed_through_its_link() -> None:
    p = plan("Show the 5 latest refunds on our balance with the refund id")
    assert "refunds.refund" in p.columns
    p = plan("Refunds this month with the original charge, its date and amount")
    # the charge's amount is a column of refunds itself (charge_amount): that one is used
    assert p.columns[-3:] == ("charge", "charges.day", "charge_amount")
    p = plan("List past-due subscriptions with the amount still owed on the latest invoice")
    assert p.columns[-2:] == ("latest_invoice", "invoices.amount_remaining")


def test_without_its_the_amount_is_the_rows_own() -> None:
    p = plan("Refunds this month with the original charge and the amount")
    assert "amount" in p.columns and not {"charges.amount", "charge_amount"} & set(p.columns)


@pytest.mark.parametrize(
    ("question", "columns"),
    [
        (
            "Which disputes did we lose? Show the charge, reason and amount",
            {"charge", "reason", "amount"},
        ),
        ("Credit notes issued last quarter — number, customer and reason", {"customer", "reason"}),
        (
            "What are the last 5 refund balance transactions? I need day, txn id and currency",
            {"day", "balance_transaction", "currency"},
        ),
        ("List the 3 latest balance transactions with amounts and fees", {"amount", "fee"}),
    ],
)
def test_columns_named_in_a_later_sentence_or_in_the_plural(
    question: str, columns: set[str]
) -> None:
    assert columns <= set(plan(question).columns)


def test_a_borrowed_column_compiles_with_its_own_currency(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "List past-due subscriptions with the amount still owed on the latest invoice",
        date(2025, 12, 31),
        "acct_demo_03",
    )
    want = dict(
        sql_rows(
            assistant,
            "SELECT s.id, i.currency FROM subscriptions s JOIN invoices i "
            "ON i.id = s.latest_invoice_id WHERE s.status = 'past_due'",
            "acct_demo_03",
        )
    )
    got = rows(answer)
    assert got and all(r["currency"] == want[r["subscription"]] for r in got)
    assert {"latest_invoice", "amount_remaining"} <= set(got[0])


# --- states said as verbs or as alternatives, ages, possessives --------------------------------


def test_a_verb_names_a_state() -> None:
    p = plan("Which disputes did we lose? Show the charge")
    assert p.listing == "disputes" and states(p) == ["lost"]


def test_states_joined_by_or_are_one_either_or_filter(assistant: Assistant) -> None:
    p = plan("List our expired or otherwise invalid coupons with their amount or percent off")
    assert [f.values for f in p.filters if f.dimension == "state"] == [("expired", "invalid")]
    assert {"amount_off", "percent_off"} <= set(p.columns)
    answer = ask(assistant, "Show the charges that were refunded or disputed", date(2025, 12, 31))
    want = sql_rows(
        assistant,
        "SELECT count(*) FROM charges WHERE (amount_refunded > 0 OR dispute_id IS NOT NULL) "
        "AND timezone('America/New_York', created AT TIME ZONE 'UTC') < TIMESTAMP '2026-01-01'",
    )[0][0]
    assert len(answer.rows) == want and want > 100  # no number said: every row


def test_an_age_keeps_rows_dated_before_the_cut_off(assistant: Assistant) -> None:
    p = plan("Open invoices older than 30 days")
    assert [f for f in p.filters if f.dimension == "invoice_date"] == [
        Filter(dimension="invoice_date", op="lt", values=("2025-06-15",))
    ]
    answer = ask(assistant, "Show paid invoices more than 3 months old", date(2025, 12, 31))
    assert answer.rows and all(r["invoice_date"] < date(2025, 9, 30) for r in rows(answer))


def test_a_possessive_value_word_is_no_filter() -> None:
    p = plan(
        "Which were the last 5 lost disputes? Include whether the card's postcode check passed"
    )
    assert not [f for f in p.filters if f.dimension != "state"]
    assert {"zip_check", "charge"} <= set(p.columns)


def test_customers_who_owe_the_most_are_ranked_by_amount_due() -> None:
    p = plan("Which 10 customers owe us the most on open invoices?")
    assert p.listing is None and p.metrics == ("amount_due",) and p.dimensions == ("customer",)
    assert p.ranking is not None and p.ranking.n == 10


# --- when a state began, 'which <object>' and 'how much' asked of each row --------------------


def test_a_period_applies_to_when_the_state_began(assistant: Assistant) -> None:
    question = "Which subscriptions were canceled last month?"
    p = plan(question)
    assert states(p) == ["canceled"] and "ended_at" in p.columns
    answer = ask(assistant, question, date(2025, 12, 3), "acct_demo_03")
    want = sql_rows(
        assistant,
        "SELECT id FROM subscriptions WHERE status = 'canceled' AND "
        "timezone('Europe/London', ended_at AT TIME ZONE 'UTC') >= TIMESTAMP '2025-11-01' AND "
        "timezone('Europe/London', ended_at AT TIME ZONE 'UTC') < TIMESTAMP '2025-12-01'",
        "acct_demo_03",
    )
    assert sorted(r["subscription"] for r in rows(answer)) == sorted(i for (i,) in want)
    assert any(a.key == "list_state_time" for a in answer.assumptions)


def test_which_object_and_how_much_are_columns_of_each_row() -> None:
    p = plan(
        "Which invoices did we write off as uncollectible in 2025, for which customers and "
        "how much?"
    )
    assert p.listing == "invoices" and states(p) == ["uncollectible"]
    assert {"customer", "amount_remaining", "marked_uncollectible_at"} <= set(p.columns)
    p = plan("What were the 5 most recent refunds, which charges did they refund and for how much?")
    assert p.listing == "refunds" and p.limit == 5 and {"charge", "amount"} <= set(p.columns)


def test_how_much_without_a_list_is_still_a_total() -> None:
    p = plan("How much did we refund in 2025?")
    assert p.listing is None and p.metrics == ("refunds_amount",)


def test_the_rows_of_one_parent_are_listed_by_its_id(assistant: Assistant) -> None:
    question = "List the balance transactions of payout po_0vm8z7ju7q"
    p = plan(question)
    assert p.listing == "balance_transactions" and not states(p)
    assert p.filters == (Filter(dimension="payout_id", values=("po_0vm8z7ju7q",)),)
    answer = ask(assistant, question, date(2025, 12, 31))
    want = sql_rows(
        assistant,
        "SELECT count(*) FROM balance_transactions WHERE automatic_transfer_id = 'po_0vm8z7ju7q'",
    )
    assert len(answer.rows) == want[0][0] > 1


# --- groups counted: "two or more", "how many" ---------------------------------------------


@pytest.mark.parametrize(
    ("question", "least"),
    [
        ("Which customers had two or more failed payments in Q4 2025?", 2),
        ("Which customers had at least 3 failed payments this year?", 3),
        ("Which customers paid more than once in 2025?", 2),
        ("Which customers had repeated failed charges last month?", 2),
    ],
)
def test_two_or_more_keeps_groups_with_that_many_rows(question: str, least: int) -> None:
    p = plan(question)
    assert p.per_group is not None and p.per_group.column == "customer"
    assert p.per_group.count and p.per_group.at_least == least
    assert not [f for f in p.filters if f.dimension == "amount"]


def test_counted_groups_count_and_sum_per_customer_and_currency(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "Which customers had two or more failed payments in Q4 2025? Show their email, how "
        "many failed and the failed amount",
        date(2025, 12, 31),
    )
    assert [c.name for c in answer.columns] == [
        "customer",
        "customer_id",
        "email",
        "currency",
        "charges",
        "amount",
    ]
    want = sql_rows(
        assistant,
        "SELECT customer_id, currency, count(*), sum(amount) FROM charges WHERE status = 'failed' "
        "AND timezone('America/New_York', created AT TIME ZONE 'UTC') >= TIMESTAMP '2025-10-01' "
        "AND timezone('America/New_York', created AT TIME ZONE 'UTC') < TIMESTAMP '2026-01-01' "
        "GROUP BY ALL HAVING count(*) >= 2",
    )
    got = {(r["customer_id"], r["currency"], r["charges"], r["amount"] * 100) for r in rows(answer)}
    assert got == {(c, cur, n, total) for c, cur, n, total in want} and len(want) > 10


def test_a_linked_object_made_before_the_period(assistant: Assistant) -> None:
    question = (
        "Which refunds this month were for charges made in an earlier month? "
        "Show the charge date and the amount"
    )
    p = plan(question)
    assert Filter(dimension="charges.day", op="lt", values=("2025-07-01",)) in p.filters
    answer = ask(assistant, question, date(2025, 12, 31))
    want = sql_rows(
        assistant,
        "SELECT r.id FROM refunds r JOIN charges c ON c.id = r.charge_id WHERE "
        "timezone('America/New_York', r.created AT TIME ZONE 'UTC') >= TIMESTAMP '2025-12-01' AND "
        "timezone('America/New_York', r.created AT TIME ZONE 'UTC') < TIMESTAMP '2026-01-01' AND "
        "timezone('America/New_York', c.created AT TIME ZONE 'UTC') < TIMESTAMP '2025-12-01'",
    )
    got = rows(answer)
    assert sorted(r["refund"] for r in got) == sorted(i for (i,) in want) and got
    assert all(r["charge_day"] < date(2025, 12, 1) for r in got)


def test_which_object_a_counted_set_of_rows_links_to() -> None:
    p = plan("Which charges were our latest 5 refunds made against?")
    assert p.listing == "refunds" and p.limit == 5 and "charge" in p.columns
    assert p.order is not None and p.order.column == "day"


def test_one_most_recent_row_is_named_in_the_singular(assistant: Assistant) -> None:
    answer = ask(assistant, "Show the last payout", date(2025, 12, 31))
    assert answer.headline.startswith("The most recent payout") and len(answer.rows) == 1
