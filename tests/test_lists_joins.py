"""Lists whose rows reach other objects: charges with their payout, discounts with their
subscription, fee components of the N most recent transactions, rows picked by a Stripe id
(lists.yaml, app/understand/list_entity.py, app/sql/compile/listing_ranked.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from app.core.plan import Filter, ListOrder, QueryPlan
from app.pipeline.assistant import Assistant
from app.understand import plan_question
from tests.answer_support import answered, rows
from tests.engine_support import MODEL, ctx

HOME = "acct_demo_01"
AS_OF = date(2025, 12, 31)
SUB = "sub_1v0w6djhsu"  # a subscription of acct_demo_01 with five invoices


def plan(question: str) -> QueryPlan:
    p = plan_question(question, ctx())
    assert isinstance(p, QueryPlan), p
    return p


def states(p: QueryPlan) -> tuple[str, ...]:
    return tuple(str(v) for f in p.filters if f.dimension == "state" for v in f.values)


# --- charges → balance transaction → payout -------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "For our five most recent charges that have already been paid out, which payout were "
        "they in and when did that payout arrive?",
        "Which payouts did our latest 5 paid-out charges go out in, and on what date did each "
        "payout land in the bank?",
        "Show the 5 most recent settled charges with their payout and payout arrival date",
    ],
)
def test_paid_out_charges_show_their_payout_and_its_arrival(question: str) -> None:
    p = plan(question)
    assert p.listing == "charges" and p.limit == 5 and p.ignored in ((), ("already",))
    assert states(p) in (("paid out",), ("settled",))
    assert {"payout", "payout_date", "net"} <= set(p.columns)
    assert p.order == ListOrder(column="day", direction="desc")


def test_a_when_clause_asks_for_the_named_objects_date() -> None:
    p = plan("List our 3 latest refunds, and when was each charge created?")
    assert p.listing == "refunds" and "charges.day" in p.columns


def test_paid_out_charges_match_their_balance_transactions(assistant: Assistant) -> None:
    answer = answered(
        assistant,
        "For our five most recent charges that have already been paid out, which payout were "
        "they in and when did that payout arrive?",
        as_of=AS_OF,
        account=HOME,
    )
    got = rows(answer)
    ids = ", ".join(f"'{r['charge']}'" for r in got)
    want = assistant.session.run_sql(
        "SELECT c.id, bt.automatic_transfer_id, CAST(0.01 * bt.net AS DECIMAL(18, 2)) "
        "FROM charges c JOIN balance_transactions bt ON bt.id = c.balance_transaction_id "
        f"WHERE c.id IN ({ids})",
        HOME,
    ).rows
    assert len(got) == 5 and all(r["payout"] for r in got)
    assert sorted((r["charge"], r["payout"], r["net"]) for r in got) == sorted(want)


# --- a metric phrase around a period --------------------------------------------------------


def test_a_state_inside_a_metric_phrase_split_by_a_period_is_read() -> None:
    p = plan("Which disputes from last quarter did we lose? Show the charge, reason and amount")
    assert p.listing == "disputes" and states(p) == ("lost",)
    assert {"charge", "reason", "amount"} <= set(p.columns)


# --- rows picked by a Stripe id -------------------------------------------------------------


def test_rows_picked_by_a_stripe_id_are_labelled_by_theirs(assistant: Assistant) -> None:
    question = f"Show all invoices for subscription {SUB} with their charge id and amount due"
    p = plan(question)
    assert p.stripe_ids and Filter(dimension="subscription_id", values=(SUB,)) in p.filters
    got = rows(answered(assistant, question, as_of=AS_OF, account=HOME))
    assert len(got) == 5 and all(r["invoice"].startswith("in_") for r in got)
    assert not plan("Show unpaid invoices with their charge id").stripe_ids
    named = plan(f"Which invoices has subscription {SUB} generated, with the amount due on each?")
    assert named.listing == "invoices" and named.stripe_ids  # not the subscription's own row


# --- discounts, one row per coupon applied --------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "For every subscription that has a discount, show the discount id and the coupon behind it",
        "Which discounts and coupons are applied to each of our subscriptions?",
        "List the discounts applied to our subscriptions with their coupon",
        "Which subscriptions have a discount, and which coupon?",
    ],
)
def test_discounts_of_subscriptions_are_listed_one_row_each(question: str) -> None:
    p = plan(question)
    assert p.listing == "discounts" and states(p) == ("on subscriptions",)
    assert {"discount", "subscription", "coupon"} <= set(p.columns)


def test_the_discount_of_each_invoice_is_still_an_invoice_column() -> None:
    p = plan("What discount was applied on each invoice?")
    assert p.listing == "invoices" and "coupon" in p.columns
    p = plan("Which invoices have a discount?")  # a state of each invoice, not another list
    assert p.listing == "invoices" and states(p) == ("discounted",)


# --- fee components of the N most recent transactions ---------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "For our five most recent transactions that had fees, what was the fee and what type "
        "was each fee component?",
        "Break down the fees on our 5 latest fee-bearing balance transactions by fee type",
        "Show each fee component of our 5 most recent balance transactions",
        "What fees were charged on our 5 most recent transactions, broken down by fee type?",
    ],
)
def test_the_limit_counts_the_transactions_not_the_fee_components(question: str) -> None:
    p = plan(question)
    assert p.listing == "fee_components" and p.limit == 5
    assert p.limit_by == "balance_transaction"
    shown = set(p.columns or MODEL.lists["fee_components"].default)
    assert {"balance_transaction", "fee", "fee_component_amount"} <= shown


def test_every_component_of_the_five_latest_transactions(assistant: Assistant) -> None:
    answer = answered(
        assistant,
        "For our five most recent transactions that had fees, what was the fee and what type "
        "was each fee component?",
        as_of=AS_OF,
        account=HOME,
    )
    parts: dict[str, list[Decimal]] = defaultdict(list)
    fees: dict[str, Decimal] = {}
    for r in rows(answer):
        parts[r["balance_transaction"]].append(r["fee_component_amount"])
        fees[r["balance_transaction"]] = r["fee"]
    assert len(parts) == 5 and sum(map(len, parts.values())) > 5  # some have two components
    assert all(sum(parts[t]) == fees[t] for t in parts)
    latest = assistant.session.run_sql(
        "SELECT bt.id FROM balance_transactions bt WHERE EXISTS (SELECT 1 FROM "
        "balance_transaction_fee_details f WHERE f.balance_transaction_id = bt.id) "
        "ORDER BY bt.created DESC, bt.id LIMIT 5",
        HOME,
    ).rows
    assert set(parts) == {t for (t,) in latest}
    assert "5 most recent balance transactions" in answer.headline
