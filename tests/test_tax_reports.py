"""Tax reports and lists for tax filing (issue 17): questions read into plans and answered on the
demo warehouse, compared with SQL written by hand from Stripe Tax's definitions.

Sales amounts are read on jurisdiction rows once per line (metrics.yaml `once_per`), tax given
back is the reversal transactions' tax, the VAT number is rolled up from the customer's tax ids
(dimensions.yaml `via`), and tax transactions, their line items and each line's jurisdictions are
listed row by row (lists.yaml).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.core.answer import Answer
from app.core.plan import Filter, NeedsClarification, QueryPlan
from app.pipeline.assistant import Assistant
from app.understand import EngineContext, plan_question, read_question
from tests.answer_support import answered
from tests.answer_support import rows as table
from tests.engine_support import LEX, MODEL, ctx


def plan(question: str, as_of: date = date(2025, 12, 31)) -> QueryPlan:
    context = EngineContext(model=MODEL, lexicon=LEX, as_of=as_of, account="acct_demo_01")
    p = plan_question(question, context)
    assert isinstance(p, QueryPlan), p
    return p


def ask(assistant: Assistant, question: str, account: str, as_of: date) -> Answer:
    return answered(assistant, question, as_of=as_of, account=account)


def sql(assistant: Assistant, query: str, account: str) -> list[tuple[Any, ...]]:
    return list(assistant.session.run_sql(query, account).rows)


def local(zone: str, start: str, end: str) -> str:
    """The posted_at condition of a half-open local period (as the cases write it)."""
    at = f"timezone('{zone}', t.posted_at AT TIME ZONE 'UTC')"
    return f"{at} >= TIMESTAMP '{start}' AND {at} < TIMESTAMP '{end}'"


# --- sales at the jurisdiction grain, once per line ---------------------------------------------


def test_taxable_sales_by_us_state_count_a_line_once_per_state(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "Taxable sales and tax collected in the US by tax state in 2025, per currency",
        "acct_demo_01",
        date(2025, 12, 31),
    )
    assert answer.plan is not None
    assert answer.plan.filters == (Filter(dimension="tax_country", values=("US",)),)
    got = {
        (r["tax_state"], r["currency"]): (r["taxable_sales"], r["tax_collected"])
        for r in table(answer)
    }
    # From the line table: a line's amount once in each state where a jurisdiction taxes it.
    want = sql(
        assistant,
        f"""
        WITH st AS (
          SELECT j.tax_transaction_item_id AS line, j.jurisdiction_state AS state,
                 bool_or(j.taxability = 'taxable') AS taxed, sum(j.amount_tax) AS tax
          FROM tax_transaction_jurisdiction_details j
          JOIN tax_transactions t ON t.id = j.tax_transaction_id
          WHERE j.jurisdiction_country = 'US'
            AND {local("America/New_York", "2025-01-01", "2026-01-01")}
          GROUP BY ALL)
        SELECT st.state, li.currency,
               0.01 * sum(CASE WHEN st.taxed THEN li.amount ELSE 0 END), 0.01 * sum(st.tax)
        FROM st JOIN tax_transaction_line_items li ON li.id = st.line GROUP BY ALL
        """,
        "acct_demo_01",
    )
    assert got == {(s, c): (Decimal(taxable), Decimal(tax)) for s, c, taxable, tax in want}
    # The naive sum repeats a line per state, county and city: the trap the grain avoids.
    naive = sql(
        assistant,
        f"""
        SELECT 0.01 * sum(j.amount_taxable) FROM tax_transaction_jurisdiction_details j
        JOIN tax_transactions t ON t.id = j.tax_transaction_id
        WHERE j.jurisdiction_country = 'US' AND j.jurisdiction_state = 'NY'
          AND {local("America/New_York", "2025-01-01", "2026-01-01")}
        """,
        "acct_demo_01",
    )[0][0]
    assert got[("NY", "usd")][0] < naive


def test_taxable_sales_total_counts_each_line_once(assistant: Assistant) -> None:
    answer = ask(
        assistant, "Taxable sales in Q3 2025 per currency", "acct_demo_01", date(2025, 10, 15)
    )
    got = {r["currency"]: r["taxable_sales"] for r in table(answer)}
    want = sql(
        assistant,
        f"""
        SELECT l.currency, 0.01 * sum(l.amount) FROM tax_transaction_line_items l
        JOIN tax_transactions t ON t.id = l.tax_transaction_id
        WHERE l.amount_tax <> 0 AND {local("America/New_York", "2025-07-01", "2025-10-01")}
        GROUP BY ALL
        """,
        "acct_demo_01",
    )
    assert got == {c: Decimal(v) for c, v in want}


def test_a_vat_return_reads_taxable_sales_and_vat_by_country(assistant: Assistant) -> None:
    question = (
        "For our Q4 2025 VAT returns, what were the taxable sales and the VAT collected in each "
        "country, per currency?"
    )
    p = plan(question, date(2026, 1, 5))
    assert set(p.metrics) == {"taxable_sales", "tax_collected"}
    assert p.dimensions == ("tax_country", "currency")
    assert p.filters == (Filter(dimension="tax_type", values=("vat",)),)
    answer = ask(assistant, question, "acct_demo_03", date(2026, 1, 5))
    got = {
        (r["tax_country"], r["currency"]): (r["taxable_sales"], r["tax_collected"])
        for r in table(answer)
    }
    want = sql(
        assistant,
        f"""
        SELECT j.jurisdiction_country, j.currency, 0.01 * sum(j.amount_taxable),
               0.01 * sum(j.amount_tax)
        FROM tax_transaction_jurisdiction_details j
        JOIN tax_transactions t ON t.id = j.tax_transaction_id
        WHERE j.tax_type = 'vat' AND {local("Europe/London", "2025-10-01", "2026-01-01")}
        GROUP BY ALL
        """,
        "acct_demo_03",
    )
    assert got == {(k, c): (Decimal(a), Decimal(b)) for k, c, a, b in want}


# --- tax given back -----------------------------------------------------------------------------


def test_tax_given_back_on_refunds_and_credit_notes(assistant: Assistant) -> None:
    question = (
        "How much tax did we give back on refunds and credit notes last quarter, by country and "
        "currency?"
    )
    p = plan(question, date(2026, 1, 5))
    assert p.metrics == ("tax_reversed",), "refunds and credit notes qualify the tax"
    assert p.filters == (Filter(dimension="tax_source", values=("refund", "credit_note")),)
    answer = ask(assistant, question, "acct_demo_02", date(2026, 1, 5))
    got = {(r["tax_country"], r["currency"]): r["tax_reversed"] for r in table(answer)}
    want = sql(
        assistant,
        f"""
        SELECT j.jurisdiction_country, j.currency, -0.01 * sum(j.amount_tax)
        FROM tax_transaction_jurisdiction_details j
        JOIN tax_transactions t ON t.id = j.tax_transaction_id
        WHERE t.type = 'reversal' AND t.source_type IN ('refund', 'credit_note')
          AND {local("Europe/Berlin", "2025-10-01", "2026-01-01")}
        GROUP BY ALL HAVING sum(j.amount_tax) <> 0
        """,
        "acct_demo_02",
    )
    assert got == {(k, c): Decimal(v) for k, c, v in want}
    assert all(v > 0 for v in got.values()), "given back is shown as a positive amount"


def test_tax_given_back_on_refunds_only_counts_refunds() -> None:
    p = plan("Tax given back on refunds in 2025")
    assert p.metrics == ("tax_reversed",)
    assert p.filters == (Filter(dimension="tax_source", values=("refund",)),)
    assert "tax_reversed" not in read_question("Fees on refunds in 2025", ctx()).metrics


# --- the customer's VAT number ------------------------------------------------------------------


def test_reverse_charge_sales_by_customer_with_vat_number(assistant: Assistant) -> None:
    question = (
        "Reverse-charge sales last quarter by customer, with each customer's VAT number and "
        "country, per currency"
    )
    p = plan(question, date(2026, 1, 5))
    assert p.metrics == ("reverse_charge_sales",), "'VAT number' names no VAT collected"
    assert p.dimensions == ("customer", "customer_vat_number", "customer_country", "currency")
    answer = ask(assistant, question, "acct_demo_02", date(2026, 1, 5))
    got = {
        r["customer_id"]: (r["customer_vat_number"], r["customer_country"], r["currency"])
        for r in table(answer)
    }
    amounts = {r["customer_id"]: r["reverse_charge_sales"] for r in table(answer)}
    want = sql(
        assistant,
        f"""
        SELECT t.customer_id, x.value, c.address_country, li.currency, 0.01 * sum(li.amount)
        FROM tax_transaction_line_items li
        JOIN tax_transactions t ON t.id = li.tax_transaction_id
        JOIN customers c ON c.id = t.customer_id
        LEFT JOIN customer_tax_ids x ON x.customer = t.customer_id
          AND x.type IN ('eu_vat', 'gb_vat')
        WHERE t.customer_details_taxability_override = 'reverse_charge'
          AND {local("Europe/Berlin", "2025-10-01", "2026-01-01")}
        GROUP BY ALL
        """,
        "acct_demo_02",
    )
    assert got == {cus: (vat, country, cur) for cus, vat, country, cur, _ in want}
    assert amounts == {cus: Decimal(v) for cus, *_, v in want}
    assert all(vat for vat, _, _ in got.values()), "reverse-charge customers are VAT registered"


# --- lists for tax filing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Which tax transactions posted in December 2025 came from invoices, and what was each "
        "invoice's total?",
        "List December 2025's invoice-based tax transactions with the posting time, the invoice "
        "and its total",
    ],
)
def test_tax_transactions_from_invoices(assistant: Assistant, question: str) -> None:
    p = plan(question)
    assert p.listing == "tax_transactions"
    assert [f.values for f in p.filters if f.dimension == "state"] in (
        [("from invoices",)],
        [("invoice based",)],
    )
    assert {"tax_transaction", "posted_at", "invoice", "invoice_total"} <= set(p.columns)
    answer = ask(assistant, question, "acct_demo_03", date(2025, 12, 31))
    want = {
        tx: (posted, inv, Decimal(total))
        for tx, posted, inv, total in sql(
            assistant,
            f"""
            SELECT t.id, t.posted_at, i.id, 0.01 * i.total FROM tax_transactions t
            JOIN invoices i ON i.id = t.source_id
            WHERE t.source_type = 'invoice'
              AND {local("Europe/London", "2025-12-01", "2026-01-01")}
            """,
            "acct_demo_03",
        )
    }
    got = {
        r["tax_transaction"]: (r["posted_at"], r["invoice"], r["invoice_total"])
        for r in table(answer)
    }
    assert len(got) == len(want), "no number said: every row"
    assert all(want[tx] == row for tx, row in got.items())


@pytest.mark.parametrize(
    "question",
    [
        "For tax transaction tax_1grq86sj28, list every line item with amount, tax, tax behavior "
        "and currency",
        "Show the line items of tax transaction tax_1grq86sj28 — amount, tax amount, whether tax "
        "is inclusive or exclusive, and currency",
    ],
)
def test_the_line_items_of_one_tax_transaction(assistant: Assistant, question: str) -> None:
    p = plan(question)
    assert p.listing == "tax_line_items", "the line items of a tax transaction, not of invoices"
    assert p.filters == (Filter(dimension="tax_transaction", values=("tax_1grq86sj28",)),)
    answer = ask(assistant, question, "acct_demo_01", date(2025, 12, 31))
    got = {
        (r["line_item"], r["amount"], r["amount_tax"], r["tax_behavior"], r["currency"])
        for r in table(answer)
    }
    want = sql(
        assistant,
        "SELECT id, 0.01 * amount, 0.01 * amount_tax, tax_behavior, currency "
        "FROM tax_transaction_line_items WHERE tax_transaction_id = 'tax_1grq86sj28'",
        "acct_demo_01",
    )
    assert got == {(i, Decimal(a), Decimal(t), b, c) for i, a, t, b, c in want} and want


@pytest.mark.parametrize(
    "question",
    [
        "Which jurisdictions make up the tax on tax line item tax_li_162rnfwrlp, with taxable, "
        "non-taxable and tax amounts and the taxability reason?",
        "Break down the tax on line item tax_li_162rnfwrlp by jurisdiction (level, name, country "
        "and state) with taxable, non-taxable and tax amounts and why it was taxed",
    ],
)
def test_the_jurisdictions_of_one_tax_line_item(assistant: Assistant, question: str) -> None:
    p = plan(question)  # "make up" is not the ambiguous "make" (gross or net volume?)
    assert p.listing == "tax_jurisdictions"
    assert p.filters == (Filter(dimension="line_item", values=("tax_li_162rnfwrlp",)),)
    answer = ask(assistant, question, "acct_demo_01", date(2025, 12, 31))
    columns = (
        "jurisdiction_level",
        "jurisdiction",
        "country",
        "state",
        "amount_taxable",
        "amount_non_taxable",
        "amount_tax",
        "currency",
        "taxability_reason",
    )
    got = {tuple(r[c] for c in columns) for r in table(answer)}
    want = sql(
        assistant,
        "SELECT jurisdiction_level, jurisdiction_name, jurisdiction_country, jurisdiction_state, "
        "0.01 * amount_taxable, 0.01 * amount_non_taxable, 0.01 * amount_tax, currency, "
        "taxability_reason FROM tax_transaction_jurisdiction_details "
        "WHERE tax_transaction_item_id = 'tax_li_162rnfwrlp'",
        "acct_demo_01",
    )
    money = {4, 5, 6}
    assert want and got == {
        tuple(Decimal(v) if i in money else v for i, v in enumerate(row)) for row in want
    }


# --- words --------------------------------------------------------------------------------------


def test_make_still_asks_when_it_means_earn() -> None:
    assert isinstance(plan_question("How much did we make last month?", ctx()), NeedsClarification)
    r = read_question("Which jurisdictions make up the tax on tax line item tax_li_1", ctx())
    assert r.clarify is None and r.listing == "tax_jurisdictions"


def test_which_jurisdictions_collected_the_most_tax_is_a_ranking_not_a_list() -> None:
    p = plan("Which jurisdictions collected the most tax in 2025?")
    assert p.listing is None and p.metrics == ("tax_collected",)
    assert p.dimensions == ("tax_jurisdiction",) and p.ranking is not None
    assert plan("Which were the 5 most recent failed charges?").listing == "charges"


def test_and_continues_a_breakdown_only_right_after_one() -> None:
    r = read_question("Reverse-charge sales by customer, with the VAT number and country", ctx())
    assert "tax_country" not in r.dimensions, "'and country' after a 'with' list is its column"
    assert plan("Tax collected by tax type and country in 2025").dimensions == (
        "tax_type",
        "tax_country",
    )
