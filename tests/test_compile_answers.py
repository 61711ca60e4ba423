"""Questions whose plan shape the compiler once got wrong, asked end to end through the engine.

Each question goes through `Assistant.ask` (understand → plan → compile → guard → run) on the demo
warehouse, and its rows are compared with a query written by hand from the metric definitions
(money converted per day with the previous day's rate, exact Decimal). The golden cases in
tests/fixtures/compile pin the same plans; these check that the engine plans the user's phrasing
into them and answers it.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from app.core.answer import Answer
from app.core.request import Request
from app.pipeline.assistant import Assistant

AS_OF = date(2025, 7, 15)  # "last quarter" is Q2 2025, "this month" July 2025
HOME = "acct_demo_01"  # reports in USD, New York time
Q2 = "created >= TIMESTAMP '2025-04-01 04:00:00' AND created < TIMESTAMP '2025-07-01 04:00:00'"
TO_USD = """CASE WHEN c.currency = 'usd' THEN c.minor
  ELSE round(c.minor / CAST(json_extract_string(fx.buy_currency_exchange_rates, '$.' || c.currency)
                            AS DOUBLE)
             * CAST(json_extract_string(fx.buy_currency_exchange_rates, '$.usd') AS DOUBLE)) END"""


def _ask(assistant: Assistant, question: str) -> Answer:
    answer = assistant.ask(Request(question, as_of=AS_OF, account=HOME))
    assert answer.status == "answered", (question, answer.error)
    return answer


def _rows(assistant: Assistant, sql: str) -> list[list[Any]]:
    rows = [list(row) for row in assistant.session.run_sql(sql, HOME).rows]
    assert rows, "the hand-written query returns no rows: it checks nothing"
    return rows


def test_a_ranked_series_ranks_within_each_period(assistant: Assistant) -> None:
    answer = _ask(assistant, "top 2 payment methods by gross volume by month last quarter")
    want = _rows(
        assistant,
        f"""
        WITH charged AS (
          SELECT CAST(date_trunc('month', timezone('America/New_York', created AT TIME ZONE 'UTC'))
                      AS DATE) AS period,
                 payment_method_type, currency, CAST(created AS DATE) AS day, sum(amount) AS minor
          FROM charges WHERE status = 'succeeded' AND {Q2}
          GROUP BY ALL
        ), monthly AS (
          SELECT c.period, c.payment_method_type, sum({TO_USD}) AS minor
          FROM charged AS c
          LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = c.day - 1
          GROUP BY ALL
        ), ranked AS (
          SELECT *, row_number() OVER (
            PARTITION BY period ORDER BY minor DESC, payment_method_type
          ) AS n
          FROM monthly
        )
        SELECT period, payment_method_type, CAST(0.01 * minor AS DECIMAL(18, 2)) AS gross_volume
        FROM ranked WHERE n <= 2 ORDER BY period, n
        """,
    )
    assert [c.name for c in answer.columns] == ["period", "payment_method_type", "gross_volume"]
    assert answer.rows == want
    assert [r[0] for r in answer.rows] == [date(2025, m, 1) for m in (4, 4, 5, 5, 6, 6)]
    assert all(isinstance(r[2], Decimal) for r in answer.rows)


def test_excluding_a_value_keeps_rows_without_one(assistant: Assistant) -> None:
    answer = _ask(assistant, "gross volume excluding visa last quarter")
    want = _rows(
        assistant,
        f"""
        WITH c AS (
          SELECT currency, CAST(created AS DATE) AS day, sum(amount) AS minor
          FROM charges
          WHERE status = 'succeeded' AND (card_brand IS NULL OR card_brand <> 'Visa') AND {Q2}
          GROUP BY ALL
        )
        SELECT CAST(0.01 * sum({TO_USD}) AS DECIMAL(18, 2)) AS gross_volume
        FROM c LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = c.day - 1
        """,
    )
    assert answer.rows == want and isinstance(answer.value, Decimal)
    debits = _rows(
        assistant,
        f"SELECT count(*) FROM charges WHERE status = 'succeeded' AND card_brand IS NULL AND {Q2}",
    )
    assert debits[0][0] > 0, "no charge without a card brand: the question checks nothing"


def test_a_list_excluding_a_value_keeps_rows_without_one(assistant: Assistant) -> None:
    answer = _ask(assistant, "list refunded charges excluding visa last quarter")
    want = _rows(
        assistant,
        """
        SELECT ch.id AS charge, cu.name AS customer, ch.status,
               CAST(timezone('America/New_York', ch.created AT TIME ZONE 'UTC') AS DATE) AS day,
               ch.failure_code, ch.card_brand, ch.currency,
               CAST(0.01 * ch.amount AS DECIMAL(18, 2)) AS amount
        FROM charges AS ch LEFT JOIN customers AS cu ON cu.id = ch.customer_id
        WHERE ch.amount_refunded > 0 AND (ch.card_brand IS NULL OR ch.card_brand <> 'Visa')
          AND ch.created >= TIMESTAMP '2025-04-01 04:00:00'
          AND ch.created < TIMESTAMP '2025-07-01 04:00:00'
        ORDER BY ch.amount DESC, charge
        """,
    )
    assert answer.rows == want
    assert any(r[5] is None for r in answer.rows), "no bank debit in the list: it checks nothing"


def test_a_metric_beside_a_ratio_built_on_it(assistant: Assistant) -> None:
    answer = _ask(assistant, "gross volume and refund rate last quarter")
    want = _rows(
        assistant,
        f"""
        WITH moved AS (
          SELECT 'gross' AS what, created, currency, amount FROM charges WHERE status = 'succeeded'
          UNION ALL
          SELECT 'refunds', created, currency, amount FROM refunds
          WHERE status = 'succeeded' AND coalesce(reason, '') <> 'partial_capture'
        ), c AS (
          SELECT what, currency, CAST(created AS DATE) AS day, sum(amount) AS minor
          FROM moved WHERE {Q2} GROUP BY ALL
        ), usd AS (
          SELECT what, sum({TO_USD}) AS minor
          FROM c LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = c.day - 1
          GROUP BY ALL
        )
        SELECT CAST(0.01 * g.minor AS DECIMAL(18, 2)) AS gross_volume,
               coalesce(r.minor, 0) / g.minor AS refund_rate
        FROM usd AS g LEFT JOIN usd AS r ON r.what = 'refunds' WHERE g.what = 'gross'
        """,
    )
    assert [c.name for c in answer.columns] == ["gross_volume", "refund_rate"]
    assert answer.rows == want and isinstance(answer.rows[0][0], Decimal)
    metrics = ("gross volume", "refund rate")
    alone = [_ask(assistant, f"{m} last quarter").rows[0][0] for m in metrics]
    assert answer.rows == [alone]


def test_a_stock_beside_a_ratio_built_on_it(assistant: Assistant) -> None:
    answer = _ask(assistant, "MRR and ARPU this month")
    want = _rows(
        assistant,
        f"""
        WITH c AS (
          SELECT currency, sum(mrr_change) AS minor FROM subscription_item_change_events
          WHERE local_event_timestamp < TIMESTAMP '2025-07-16' GROUP BY currency
        ), mrr AS (
          SELECT sum({TO_USD}) AS minor
          FROM c
          LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = DATE '2025-07-15'
        ), active AS (
          SELECT count(*) AS n FROM (
            SELECT customer_id FROM subscription_item_change_events
            WHERE local_event_timestamp < TIMESTAMP '2025-07-16'
            GROUP BY customer_id HAVING sum(mrr_change) > 0
          )
        )
        SELECT CAST(0.01 * mrr.minor AS DECIMAL(18, 2)) AS mrr,
               CAST(0.01 * round(mrr.minor / active.n) AS DECIMAL(18, 2)) AS arpu
        FROM mrr, active
        """,
    )
    assert [c.name for c in answer.columns] == ["mrr", "arpu"]
    assert answer.rows == want and all(isinstance(v, Decimal) for v in answer.rows[0])
    alone = [_ask(assistant, f"{m} this month").rows[0][0] for m in ("MRR", "ARPU")]
    assert answer.rows == [alone]


def _volume_where(assistant: Assistant, where: str) -> Decimal:
    """Q2 gross volume in USD of the charges matching `where` (hand-written, per-day FX)."""
    [[value]] = _rows(
        assistant,
        f"""
        WITH charged AS (
          SELECT currency, CAST(created AS DATE) AS day, sum(amount) AS minor
          FROM charges WHERE status = 'succeeded' AND {Q2} AND ({where})
          GROUP BY ALL
        )
        SELECT CAST(0.01 * coalesce(sum({TO_USD}), 0) AS DECIMAL(18, 2))
        FROM charged AS c
        LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = c.day - 1
        """,
    )
    return Decimal(value)


def test_an_excluded_list_excludes_every_value_in_it(assistant: Assistant) -> None:
    answer = _ask(assistant, "gross volume excluding visa and mastercard last quarter")
    assert answer.plan is not None
    assert [(f.dimension, f.op, f.values) for f in answer.plan.filters] == [
        ("card_brand", "not_in", ("Visa", "MasterCard"))
    ]
    want = _volume_where(
        assistant, "card_brand IS NULL OR card_brand NOT IN ('Visa', 'MasterCard')"
    )
    assert answer.value == want and want > 0


def test_a_list_of_three_values_is_one_filter(assistant: Assistant) -> None:
    answer = _ask(assistant, "gross volume in Germany, France and Spain last quarter")
    assert answer.plan is not None
    assert [(f.dimension, f.op, f.values) for f in answer.plan.filters] == [
        ("customer_country", "in", ("DE", "FR", "ES"))
    ]
    countries = "SELECT id FROM customers WHERE address_country IN ('DE', 'FR', 'ES')"
    want = _volume_where(assistant, f"customer_id IN ({countries})")
    assert answer.value == want and want > 0
    spain = _ask(assistant, "gross volume in Spain last quarter").value
    assert isinstance(spain, Decimal) and 0 < spain < want  # the third value is not dropped
