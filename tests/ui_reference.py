"""Reference numbers for the UI tests, computed with hand-written SQL straight on the warehouse.

These queries do not use the semantic model or the compiler: they restate each metric from the
schema (and convert currencies per day as the assumptions say), so a UI number that matches one
is an independent check of the whole path.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from app.core.settings import Settings
from app.run.duckdb import connection_config
from app.semantic.format import format_money

_CONVERT = """
SELECT sum(CASE WHEN b.currency = $target THEN b.minor ELSE CAST(round(b.minor
       * CAST(json_extract_string(x.buy_currency_exchange_rates, '$.' || $target) AS DOUBLE)
       / CAST(json_extract_string(x.buy_currency_exchange_rates, '$.' || b.currency) AS DOUBLE))
       AS HUGEINT) END)
FROM ({base}) AS b
LEFT JOIN exchange_rates_from_usd AS x
  ON x.merchant_id = $account AND CAST(x.date AS DATE) = b.fx_day
"""

_LOCAL = "timezone($tz, {col} AT TIME ZONE 'UTC')"

GROSS_VOLUME = f"""
SELECT currency, CAST(created AS DATE) - 1 AS fx_day, sum(amount) AS minor
FROM charges
WHERE merchant_id = $account AND status = 'succeeded'
  AND {_LOCAL.format(col="created")} >= CAST($start AS TIMESTAMP)
  AND {_LOCAL.format(col="created")} < CAST($end AS TIMESTAMP)
GROUP BY ALL
"""

TAX_COLLECTED = f"""
SELECT d.currency, CAST(t.posted_at AS DATE) - 1 AS fx_day, sum(d.amount_tax) AS minor
FROM tax_transaction_jurisdiction_details AS d
JOIN tax_transactions AS t ON t.id = d.tax_transaction_id AND t.merchant_id = d.merchant_id
WHERE d.merchant_id = $account
  AND {_LOCAL.format(col="t.posted_at")} >= CAST($start AS TIMESTAMP)
  AND {_LOCAL.format(col="t.posted_at")} < CAST($end AS TIMESTAMP)
GROUP BY ALL
"""

RECOGNIZED_REVENUE = """
SELECT currency, CAST(accounting_period_date AS DATE) - 1 AS fx_day,
       sum(CASE WHEN credit = 'Revenue' THEN amount ELSE -amount END) AS minor
FROM revenue_recognition_debits_and_credits
WHERE merchant_id = $account AND 'Revenue' IN (credit, debit)
  AND accounting_period_date >= CAST($start AS TIMESTAMP)
  AND accounting_period_date < CAST($end AS TIMESTAMP)
GROUP BY ALL
"""

MRR_AT = """
SELECT currency, CAST($end AS DATE) AS fx_day, sum(mrr_change) AS minor
FROM subscription_item_change_events
WHERE merchant_id = $account AND CAST(local_event_timestamp AS DATE) <= CAST($end AS DATE)
GROUP BY ALL
"""


def total(
    path: Path,
    base: str,
    *,
    account: str,
    start: date,
    end: date,
    tz: str = "America/New_York",
    target: str = "usd",
) -> Decimal:
    """Sum a reference base query in `target` currency (minor units → Decimal with cents)."""
    sql = _CONVERT.format(base=base)
    params: dict[str, object] = {"account": account, "target": target, "end": end}
    if "$start" in base:
        params["start"] = start
    if "$tz" in base:
        params["tz"] = tz
    # Same configuration as the app's connection: DuckDB shares one instance per file.
    config = connection_config(Settings(warehouse_path=path))
    with duckdb.connect(str(path), read_only=True, config=config) as conn:
        row = conn.execute(sql, params).fetchone()
    minor = row[0] if row and row[0] is not None else 0
    return (Decimal(int(minor)) / 100).quantize(Decimal("0.01"))


def money(value: Decimal, currency: str = "usd") -> str:
    """The app's money text for a reference value ($1,234.56)."""
    return format_money(value, currency)


def whole_money(value: Decimal, currency: str = "usd") -> str:
    """The KPI tiles' text for a reference value: whole units ($1,235)."""
    return format_money(round(value), currency).replace(".00", "", 1)
