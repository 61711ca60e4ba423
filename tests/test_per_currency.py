"""Per currency everywhere: one row per original currency, amounts never converted.

Flows, stocks (MRR), ratios (refund rate: both parts in the row's currency) and ARPU, alone or
beside the previous period or the same period last year. Each answer is compared with a query
written by hand from the metric definitions on the demo warehouse (exact Decimal money).
"""

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.core.answer import Answer
from app.core.errors import CompileError
from app.core.plan import Comparison, Filter, QueryPlan, TimeRange
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.semantic.load import semantic_model
from app.sql.compile import CompileContext, compile_plan

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"  # reports in USD, New York time
LOCAL = "timezone('America/New_York', {t} AT TIME ZONE 'UTC')"


def _ask(assistant: Assistant, question: str) -> Answer:
    answer = assistant.ask(Request(question, as_of=AS_OF, account=HOME))
    assert answer.status == "answered", (question, answer.error, answer.refusal)
    return answer


def _rows(assistant: Assistant, sql: str) -> list[list[Any]]:
    rows = [list(row) for row in assistant.session.run_sql(sql, HOME).rows]
    assert rows, "the hand-written query returns no rows: it checks nothing"
    return rows


def _ctx(assistant: Assistant) -> CompileContext:
    info = assistant.session.account_info(HOME)
    assert info is not None
    return CompileContext(account=info, as_of=AS_OF, model=semantic_model())


def _plan_rows(assistant: Assistant, plan: QueryPlan) -> list[list[Any]]:
    compiled = compile_plan(plan, _ctx(assistant))
    assert compiled.currency is None, "per currency must not convert"
    return [list(r) for r in assistant.session.run_sql(compiled.expression, HOME).rows]


def _within(column: str, start: str, end: str) -> str:
    local = LOCAL.format(t=column)
    return f"{local} >= TIMESTAMP '{start}' AND {local} < TIMESTAMP '{end}'"


def _by_currency(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {r[0]: r[1:] for r in rows}


def test_gross_volume_per_currency_beside_the_previous_month(assistant: Assistant) -> None:
    # Once a Binder Error: the outer SELECT read an unqualified `currency` beside c and p.
    answer = _ask(assistant, "Gross volume per currency in March 2025 vs the previous month")
    march = _within("created", "2025-03-01", "2025-04-01")
    february = _within("created", "2025-02-01", "2025-03-01")
    want = _rows(
        assistant,
        f"""
        SELECT currency,
               CAST(0.01 * sum(amount) FILTER (WHERE {march}) AS DECIMAL(18, 2)),
               CAST(0.01 * sum(amount) FILTER (WHERE {february}) AS DECIMAL(18, 2))
        FROM charges WHERE status = 'succeeded'
        GROUP BY currency
        """,
    )
    names = [c.name for c in answer.columns]
    assert names[:4] == ["currency", "gross_volume", "gross_volume_previous", "gross_volume_change"]
    assert answer.currency is None
    got = _by_currency(answer.rows)
    assert set(got) == {r[0] for r in want}
    for currency, now, before in want:
        assert got[currency][:3] == [now, before, now - before], currency
        assert isinstance(got[currency][0], Decimal)


def _mrr_at(day: str) -> str:
    """Per currency: the MRR ledger's running total at the end of a local day, in minor units."""
    return f"""
        SELECT currency, sum(mrr_change) AS minor
        FROM subscription_item_change_events
        WHERE CAST(local_event_timestamp AS DATE) <= DATE '{day}'
        GROUP BY currency
    """


def _rate_in(start: str, end: str) -> str:
    """Per currency: refunds over gross volume of a local period, both in the row's currency."""
    return f"""
        WITH refunded AS (
          SELECT currency, sum(amount) AS minor FROM refunds
          WHERE status = 'succeeded' AND coalesce(reason, '') <> 'partial_capture'
            AND {_within("created", start, end)}
          GROUP BY currency
        ), charged AS (
          SELECT currency, sum(amount) AS minor FROM charges
          WHERE status = 'succeeded' AND {_within("created", start, end)}
          GROUP BY currency
        )
        SELECT c.currency, CAST(coalesce(r.minor, 0) AS DOUBLE) / c.minor AS rate
        FROM charged AS c LEFT JOIN refunded AS r USING (currency)
    """


def test_refund_rate_per_currency_divides_within_each_currency(assistant: Assistant) -> None:
    # Once one converted 2.27% with "Amounts per currency apply to money totals only".
    answer = _ask(assistant, "Refund rate per currency in 2025")
    want = _rows(assistant, _rate_in("2025-01-01", "2026-01-01"))
    assert [c.name for c in answer.columns] == ["currency", "refund_rate"]
    assert "by_currency_ignored" not in {a.key for a in answer.assumptions}
    got = _by_currency(answer.rows)
    assert set(got) == {r[0] for r in want} and len(want) > 1
    for currency, rate in want:
        assert got[currency][0] == pytest.approx(rate, rel=1e-12), currency


def test_arpu_per_currency_is_each_currencys_mrr_per_customer(assistant: Assistant) -> None:
    answer = _ask(assistant, "ARPU per currency in 2025")
    want = _rows(
        assistant,
        """
        WITH customers AS (
          SELECT customer_id, currency, sum(mrr_change) AS minor
          FROM subscription_item_change_events
          WHERE CAST(local_event_timestamp AS DATE) <= DATE '2025-12-31'
          GROUP BY ALL
        )
        SELECT currency,
               CAST(0.01 * round(sum(minor) / count(*) FILTER (WHERE minor > 0))
                    AS DECIMAL(18, 2))
        FROM customers GROUP BY currency
        """,
    )
    assert answer.currency is None
    got = _by_currency(answer.rows)
    assert got == {currency: [arpu] for currency, arpu in want}
    assert all(isinstance(v[0], Decimal) for v in got.values())


def test_mrr_per_currency_at_the_end_of_the_year(assistant: Assistant) -> None:
    answer = _ask(assistant, "MRR per currency at the end of 2025")
    want = _rows(
        assistant,
        f"SELECT currency, CAST(0.01 * minor AS DECIMAL(18, 2)) FROM ({_mrr_at('2025-12-31')})",
    )
    assert _by_currency(answer.rows) == {currency: [mrr] for currency, mrr in want}


NOV = TimeRange(start=date(2025, 11, 1), end=date(2025, 12, 1))
Q2 = TimeRange(start=date(2025, 4, 1), end=date(2025, 7, 1))


@pytest.mark.parametrize(
    ("kind", "earlier"),
    [("previous_period", "2025-10-31"), ("same_period_last_year", "2024-11-30")],
)
def test_mrr_per_currency_beside_an_earlier_point(
    assistant: Assistant, kind: str, earlier: str
) -> None:
    plan = QueryPlan(metrics=("mrr",), time=NOV, comparison=Comparison(kind=kind), by_currency=True)
    want = _rows(
        assistant,
        f"""
        SELECT n.currency, CAST(0.01 * n.minor AS DECIMAL(18, 2)),
               CAST(0.01 * e.minor AS DECIMAL(18, 2))
        FROM ({_mrr_at("2025-11-30")}) AS n JOIN ({_mrr_at(earlier)}) AS e USING (currency)
        """,
    )
    got = _by_currency(_plan_rows(assistant, plan))
    assert set(got) == {r[0] for r in want}
    for currency, now, before in want:
        assert got[currency][:3] == [now, before, now - before], currency


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("previous_period", "2025-01-01", "2025-04-01"),
        ("same_period_last_year", "2024-04-01", "2024-07-01"),
    ],
)
def test_refund_rate_per_currency_beside_an_earlier_period(
    assistant: Assistant, kind: str, start: str, end: str
) -> None:
    plan = QueryPlan(
        metrics=("refund_rate",),
        time=Q2,
        comparison=Comparison(kind=kind),
        by_currency=True,
    )
    want = _rows(
        assistant,
        f"""
        SELECT n.currency, n.rate, e.rate
        FROM ({_rate_in("2025-04-01", "2025-07-01")}) AS n
        JOIN ({_rate_in(start, end)}) AS e USING (currency)
        """,
    )
    got = _by_currency(_plan_rows(assistant, plan))
    assert set(got) == {r[0] for r in want}
    for currency, now, before in want:
        assert got[currency][:2] == pytest.approx([now, before], rel=1e-12), currency


def test_a_currency_filter_keeps_the_rows_of_a_count(assistant: Assistant) -> None:
    # A count has no currency column of its own: the filter was skipped (every charge counted).
    year = TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1))
    eur = (Filter(dimension="currency", values=("eur",)),)
    plan = QueryPlan(metrics=("charges_count",), time=year, filters=eur, currency="eur")
    want = _rows(
        assistant,
        f"""SELECT count(*) FROM charges WHERE status = 'succeeded' AND currency = 'eur'
            AND {_within("created", "2025-01-01", "2026-01-01")}""",
    )
    ctx = _ctx(assistant)
    got = assistant.session.run_sql(compile_plan(plan, ctx).expression, HOME).rows
    assert [list(r) for r in got] == want


def test_arpu_of_one_currency_is_its_row_of_arpu_per_currency(assistant: Assistant) -> None:
    # The active-customer count took every customer while MRR kept the euro items only.
    eur = (Filter(dimension="currency", values=("eur",)),)
    ctx = _ctx(assistant)
    filtered = compile_plan(QueryPlan(metrics=("arpu",), filters=eur, currency="eur"), ctx)
    got = assistant.session.run_sql(filtered.expression, HOME).rows
    per_currency = _by_currency(
        _plan_rows(assistant, QueryPlan(metrics=("arpu",), by_currency=True))
    )
    assert [list(r) for r in got] == [per_currency["eur"]]


def test_a_metric_with_its_own_query_refuses_a_filter(assistant: Assistant) -> None:
    eur = (Filter(dimension="currency", values=("eur",)),)
    ctx = _ctx(assistant)
    with pytest.raises(CompileError, match="no breakdowns or filters"):
        compile_plan(QueryPlan(metrics=("subscriber_churn_rate",), filters=eur), ctx)


def test_a_balance_after_the_last_exchange_rate_keeps_every_currency(assistant: Assistant) -> None:
    """As of a day after the last rate, other currencies use that rate instead of vanishing."""
    later = date(2026, 3, 15)
    question = "Accounts receivable at the end of 2026-03-15"
    answer = assistant.ask(Request(question, as_of=later, account=HOME))
    assert answer.status == "answered", answer.refusal
    per_currency = assistant.ask(Request(f"{question} per currency", as_of=later, account=HOME))
    assert len(per_currency.rows) > 1, "the check needs more than one currency"
    rates = _rows(
        assistant,
        "SELECT buy_currency_exchange_rates FROM exchange_rates_from_usd "
        "ORDER BY date DESC LIMIT 1",
    )[0][0]
    last = json.loads(rates) if isinstance(rates, str) else rates
    want = Decimal(0)
    for currency, amount in per_currency.rows:
        minor = Decimal(amount) * 100
        if currency != "usd":
            minor = (minor * Decimal(str(last["usd"])) / Decimal(str(last[currency]))).quantize(
                Decimal(1), rounding="ROUND_HALF_UP"
            )
        want += minor
    assert Decimal(answer.value) == want / 100
    assert any("Exchange rates in the data end on" in n for n in answer.notices)
    inside = assistant.ask(Request("gross volume in 2025", as_of=AS_OF, account=HOME))
    assert not any("Exchange rates" in n for n in inside.notices)
