"""Stripe Sigma compatibility: Trino SQL written as a Sigma user would, run on the demo warehouse.

Each `tests/fixtures/sigma/NN_name.sql` holds one query in Sigma's dialect (Trino) with a
`-- title:` and an `-- expect:` comment. For every file:

1. `sqlglot.transpile(sql, read=Sigma, write="duckdb")` (`app.sql.dialects.sigma`: sqlglot's
   Trino dialect plus `format_datetime` and `cardinality(map)`, what the guard reads `trino`
   with) runs directly on the demo warehouse
   (read-only, all merchants) and the result must pass the file's `-- expect:` check below;
2. the same Trino text goes through `guard.check_sql(..., read_dialect="trino")` for one account
   and the executor: the rows must be non-empty, pass the same check, belong to that account only
   (`merchant_id` column) or not exceed the unscoped totals, and equal what the query returns on
   views of the warehouse filtered to that account by hand (an independent oracle for scoping).

`test_known_trino_gaps` pins the Trino features that sqlglot 30.30 does not carry over to DuckDB,
or carries over with a different meaning, next to the Sigma-style rewrite the fixtures use;
`test_sigma_dialect_closes_gaps` pins the two that `app.sql.dialects.sigma.Sigma` carries over
itself.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot.dialects.dialect import Dialect

from app.core.errors import GuardError
from app.core.settings import Settings
from app.run.duckdb import Executor, connection_config
from app.semantic.catalog import warehouse_tables
from app.sql.dialects.sigma import Sigma, joda_to_strftime
from app.sql.guard.checks import Policy, check_sql

FIXTURES = Path(__file__).parent / "fixtures" / "sigma"
ACCOUNT = "acct_demo_01"
MAX_ROWS = 10_000
FIRST_MONTH = (2023, 1)
LAST_MONTH = (2025, 12)
LOCAL_LAST_MONTH = (2026, 1)  # local time east of UTC can run past the UTC year end

Row = dict[str, Any]
Check = Callable[[list[Row]], None]


@dataclass(frozen=True)
class Expectation:
    """A fixture's sanity check, and the column whose total may only shrink under scoping."""

    check: Check
    scope_total: str | None


EXPECTATIONS: dict[str, Expectation] = {}


def expect(stem: str, scope_total: str | None = None) -> Callable[[Check], Check]:
    """Register the `-- expect:` check of fixture `stem`.

    Queries that select `merchant_id` are scope-checked on that column; the others name a
    `scope_total` column whose absolute sum under the guard must not exceed the unscoped sum.
    """

    def register(check: Check) -> Check:
        EXPECTATIONS[stem] = Expectation(check, scope_total)
        return check

    return register


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES.glob("*.sql"))


def header(sql: str, key: str) -> str:
    """Text of the `-- key:` comment, continuation lines (`--   ...`) included."""
    lines = sql.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"-- {key}:"):
            parts = [line.split(":", 1)[1].strip()]
            for more in lines[i + 1 :]:
                if not more.startswith("--   "):
                    break
                parts.append(more[2:].strip())
            return " ".join(parts)
    return ""


# ---------------------------------------------------------------------------------------------
# Small assertion helpers


def month_of(value: datetime | date | str) -> tuple[int, int]:
    if isinstance(value, str):
        assert re.fullmatch(r"\d{4}-\d{2}", value), value
        return int(value[:4]), int(value[5:])
    return value.year, value.month


def assert_months(
    rows: list[Row],
    key: str,
    first: tuple[int, int] = FIRST_MONTH,
    last: tuple[int, int] = LAST_MONTH,
) -> None:
    for row in rows:
        assert first <= month_of(row[key]) <= last, row
        if isinstance(row[key], datetime):
            assert row[key].day == 1 and row[key].hour == 0, f"not a month start: {row}"


def assert_currency(rows: list[Row], key: str = "currency") -> None:
    for row in rows:
        assert re.fullmatch(r"[a-z]{3}", row[key]), row


def close(a: float | Decimal | int, b: float | Decimal | int, tol: float = 1e-6) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=tol)


def by(rows: list[Row], *keys: str) -> dict[tuple[Any, ...], list[Row]]:
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return groups


REPORTING_CATEGORIES = {
    *("charge", "charge_failure", "refund", "refund_failure", "partial_capture_reversal"),
    *("dispute", "dispute_reversal", "fee", "tax", "other_adjustment", "payout", "payout_reversal"),
    *("payout_minimum_balance_hold", "payout_minimum_balance_release", "topup", "topup_reversal"),
    *("risk_reserved_funds", "platform_earning", "platform_earning_refund", "transfer"),
    "transfer_reversal",
}
DISPUTE_REASONS = {
    *("bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated"),
    *("debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details"),
    *("insufficient_funds", "product_not_received", "product_unacceptable"),
    *("subscription_canceled", "unrecognized"),
}
DISPUTE_STATUSES = {
    *("warning_needs_response", "warning_under_review", "warning_closed", "needs_response"),
    *("under_review", "won", "lost"),
}
MRR_EVENT_TYPES = {
    *("ACTIVE_START", "ACTIVE_END", "ACTIVE_UPGRADE", "ACTIVE_DOWNGRADE"),
    *("ACTIVE_QUANTITY_INCREASE", "ACTIVE_QUANTITY_DECREASE"),
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CARD_BRANDS = {
    *("Visa", "MasterCard", "American Express", "Discover", "Diners Club", "JCB", "UnionPay"),
    "Unknown",
}


# ---------------------------------------------------------------------------------------------
# Per-query `-- expect:` checks (they hold for all merchants and for one merchant alike)


@expect("01_monthly_gross_volume_by_currency")
def _gross_volume(rows: list[Row]) -> None:
    assert_months(rows, "month")
    assert_currency(rows)
    for r in rows:
        assert r["charges"] > 0 and r["gross_volume"] > 0 and r["average_charge"] > 0, r
        assert 0 <= r["refunded"] <= r["gross_volume"], r
        assert r["net_of_refunds"] == r["gross_volume"] - r["refunded"] >= 0, r


@expect("02_net_balance_impact_by_reporting_category", scope_total="transactions")
def _balance_impact(rows: list[Row]) -> None:
    assert_currency(rows)
    for r in rows:
        assert r["difference"] == 0, r
        assert r["reporting_category"] in REPORTING_CATEGORIES, r
        if r["reporting_category"] == "charge":
            assert r["gross"] > 0, r
        if r["reporting_category"] in ("payout", "refund", "dispute"):
            assert r["gross"] < 0, r
    assert {"charge", "payout"} <= {r["reporting_category"] for r in rows}


@expect("03_fees_per_month", scope_total="processing_fees")
def _fees(rows: list[Row]) -> None:
    assert_months(rows, "month")
    assert_currency(rows)
    for r in rows:
        assert r["unreconciled_fee_details"] == 0, r
        assert 0 <= r["international_card_fees"] <= r["processing_fees"], r
        assert r["billing_usage_fees"] >= 0, r
        if r["charge_volume"] > 0:
            assert 0 <= r["processing_fees"] / r["charge_volume"] <= 0.1, r
    assert sum(r["processing_fees"] for r in rows) > 0


@expect("04_refund_rate_by_charge_month", scope_total="charges")
def _refund_rate(rows: list[Row]) -> None:
    assert_months(rows, "charge_month")
    for r in rows:
        assert 0 <= r["refunded"] <= r["charged"], r
        assert 0.0 <= r["refund_rate"] <= 1.0, r
        assert r["refunded_charges"] <= r["charges"] and r["refunded_charges"] <= r["refunds"], r
    assert sum(r["refunded"] for r in rows) > 0


@expect("05_disputes_by_reason_and_status")
def _disputes(rows: list[Row]) -> None:
    for r in rows:
        assert r["reason"] in DISPUTE_REASONS and r["status"] in DISPUTE_STATUSES, r
        assert r["kind"] == ("inquiry" if r["status"].startswith("warning") else "chargeback"), r
        assert r["disputes"] > 0 and r["disputed_amount"] > 0, r
        assert 0 <= r["with_evidence"] <= r["disputes"], r


@expect("06_payout_reconciliation")
def _payouts(rows: list[Row]) -> None:
    assert_months(rows, "arrival_month", last=(2026, 1))
    for r in rows:
        assert r["difference"] == 0, r
        assert r["mismatched_payouts"] == 0 and r["payouts_without_transactions"] == 0, r
        assert r["payouts"] > 0 and r["payout_amount"] > 0, r
        assert r["transactions"] >= r["payouts"], r


@expect("07_mrr_by_month")
def _mrr(rows: list[Row]) -> None:
    assert_months(rows, "month", last=LOCAL_LAST_MONTH)
    for r in rows:
        assert r["mrr"] >= 0, r
    for key, group in by(rows, "merchant_id", "currency").items():
        assert group[-1]["mrr"] == group[-1]["mrr_all_time"] == sum(g["mrr_change"] for g in group)
        assert [g["month"] for g in group] == sorted(g["month"] for g in group), key


@expect("08_mrr_movements_by_event_type", scope_total="events")
def _mrr_movements(rows: list[Row]) -> None:
    assert_months(rows, "month", first=(2025, 1))
    for r in rows:
        assert r["event_type"] in MRR_EVENT_TYPES, r
        assert 0 < r["customers"] <= r["events"], r
        if r["movement"] in ("new", "expansion"):
            assert r["mrr_change"] > 0, r
        else:
            assert r["movement"] in ("churn", "contraction") and r["mrr_change"] < 0, r
    assert {"new", "churn"} <= {r["movement"] for r in rows}


@expect("09_active_subscribers_by_month", scope_total="active_subscribers")
def _active_subscribers(rows: list[Row]) -> None:
    assert_months(rows, "month", last=LOCAL_LAST_MONTH)
    for r in rows:
        assert r["active_subscribers"] >= 0 and r["mrr"] >= 0, r
        if r["active_subscribers"]:
            assert close(r["arpu"] * r["active_subscribers"], r["mrr"]), r
        else:
            assert r["arpu"] is None and r["mrr"] == 0, r
    assert max(r["active_subscribers"] for r in rows) > 0


@expect("10_invoice_aging_buckets", scope_total="invoices")
def _aging(rows: list[Row]) -> None:
    ranges = {
        "current": (-math.inf, 0),
        "1-30": (1, 30),
        "31-60": (31, 60),
        "61-90": (61, 90),
        "90+": (91, math.inf),
    }
    for r in rows:
        low, high = ranges[r["aging_bucket"]]
        assert low <= r["min_days_past_due"] <= r["max_days_past_due"] <= high, r
        assert r["invoices"] > 0 and r["amount_remaining"] > 0, r
    for currency, group in by(rows, "currency").items():
        assert len(group) <= len(ranges), currency


@expect("11_invoice_total_check", scope_total="invoices")
def _invoice_totals(rows: list[Row]) -> None:
    assert_months(rows, "invoice_month")
    for r in rows:
        assert r["mismatches"] == 0 and r["difference"] == 0, r
        assert r["invoices"] > 0 and r["subtotal"] >= 0 and r["total"] >= 0, r
        assert r["discounts"] >= 0 and r["tax"] >= 0, r
    assert sum(r["total"] for r in rows) > 0


@expect("12_tax_collected_by_jurisdiction", scope_total="tax_transactions")
def _tax_by_jurisdiction(rows: list[Row]) -> None:
    assert_currency(rows)
    for r in rows:
        assert re.fullmatch(r"[A-Z]{2}", r["jurisdiction_country"]), r
        assert r["tax_type"] is not None, r
        assert r["tax_collected"] > 0 and 0 <= r["tax_refunded"] <= r["tax_collected"], r
        assert r["net_tax"] == r["tax_collected"] - r["tax_refunded"], r
        assert 0 < r["average_rate_percent"] <= 30, r


@expect("13_vat_reverse_charge_sales", scope_total="line_items")
def _reverse_charge(rows: list[Row]) -> None:
    assert_months(rows, "quarter")
    assert_currency(rows)
    for r in rows:
        assert r["quarter"].month in (1, 4, 7, 10), r
        assert re.fullmatch(r"[A-Z]{2}", r["country"]), r
        assert r["tax_charged"] == 0, r
        assert r["net_sales"] > 0 and r["units"] > 0 and r["line_items"] > 0, r
        assert 0 <= r["customers_with_verified_vat_id"] <= r["customers"], r


@expect("14_recognized_revenue_by_period", scope_total="recognized")
def _recognized_revenue(rows: list[Row]) -> None:
    assert_months(rows, "period")
    assert_currency(rows)
    for r in rows:
        assert r["recognized"] >= 0, r
        assert close(r["net_revenue"], r["recognized"] - r["contra_revenue"]), r
        assert r["recognized_decimal"] == round(Decimal(r["recognized"]) / 100, 2), r
    assert sum(r["recognized"] for r in rows) > 0
    assert sum(r["contra_revenue"] for r in rows) >= 0


@expect("15_deferred_revenue_rollforward")
def _deferred_revenue(rows: list[Row]) -> None:
    for key, group in by(rows, "merchant_id", "currency").items():
        assert group[0]["opening_balance"] == 0, key
        for previous, r in itertools.pairwise(group):
            assert close(r["opening_balance"], previous["closing_balance"]), r
        for r in group:
            moved = r["deferred_added"] - r["recognized"] - r["other_releases"]
            assert close(r["opening_balance"] + moved, r["closing_balance"]), r
            assert r["closing_balance"] >= -1e-6, r
        assert [r["is_last_period"] for r in group] == [False] * (len(group) - 1) + [True], key
        assert close(group[-1]["closing_balance"], 0), group[-1]
        assert max(r["closing_balance"] for r in group) > 0, key


@expect("16_customers_by_country")
def _customers_by_country(rows: list[Row]) -> None:
    for r in rows:
        assert r["country"] == "unknown" or re.fullmatch(r"[A-Z]{2}", r["country"]), r
        assert r["customers"] > 0, r
        assert r["delinquent_customers"] <= r["customers"], r
        assert r["reverse_charge_customers"] <= r["customers"], r
    for merchant, group in by(rows, "merchant_id").items():
        assert close(sum(r["share_of_customers"] for r in group), 1.0), merchant


@expect("17_top_customers_by_charge_volume", scope_total="volume")
def _top_customers(rows: list[Row]) -> None:
    assert 1 <= len(rows) <= 10
    volumes = [r["volume"] for r in rows]
    assert volumes == sorted(volumes, reverse=True)
    assert rows[0]["volume_rank"] == 1
    assert [r["volume_rank"] for r in rows] == sorted(r["volume_rank"] for r in rows)
    for r in rows:
        assert r["customer_id"].startswith("cus_") and r["latest_charge_id"].startswith("ch_"), r
        assert r["charges"] >= 1 and 0 < r["latest_charge_amount"] <= r["volume"], r
        assert r["days_as_customer"] >= 0, r


@expect("18_card_brand_mix", scope_total="charges")
def _card_brands(rows: list[Row]) -> None:
    for r in rows:
        assert r["card_brand"] in CARD_BRANDS, r
        assert r["charges"] > 0 and r["volume_mixed_currencies"] > 0, r
        assert 0.0 <= r["share_of_charges"] <= 1.0, r
    assert close(sum(r["share_of_charges"] for r in rows), 1.0)


@expect("19_failed_charge_rate_by_failure_code", scope_total="failed_charges")
def _failure_codes(rows: list[Row]) -> None:
    for r in rows:
        assert re.fullmatch(r"[a-z_]+", r["failure_code"]), r
        assert 0.0 <= r["share_of_attempts"] <= r["share_of_failures"] <= 1.0, r
        assert r["median_failed_amount"] > 0, r
    assert close(sum(r["share_of_failures"] for r in rows), 1.0)
    assert sum(r["share_of_attempts"] for r in rows) < 1.0


@expect("20_fx_converted_gross_volume")
def _fx_volume(rows: list[Row]) -> None:
    assert_months(rows, "month")
    assert_currency(rows)
    for r in rows:
        assert r["charges_without_rate"] == 0, r
        assert r["gross_volume_usd"] > 0 and r["gross_volume_default_currency"] > 0, r
        assert 0.5 <= r["gross_volume"] / r["gross_volume_usd"] <= 2.5, r
        if r["currency"] == "usd":
            assert close(r["gross_volume_usd"], r["gross_volume"]), r
        if r["currency"] == r["default_currency"]:
            assert close(r["gross_volume_default_currency"], r["gross_volume"]), r
        if r["default_currency"] == "usd":
            assert close(r["gross_volume_default_currency"], r["gross_volume_usd"]), r


@expect("21_charge_amount_percentiles", scope_total="charges")
def _percentiles(rows: list[Row]) -> None:
    assert_currency(rows)
    for r in rows:
        assert r["charges"] > 0, r
        assert 0 < r["min_amount"] <= r["p50_amount"] <= r["p90_amount"] <= r["max_amount"], r
        assert r["min_amount"] <= r["average_amount"] <= r["max_amount"], r


@expect("22_billing_usage_fees_from_descriptions", scope_total="fees")
def _usage_fees(rows: list[Row]) -> None:
    assert_months(rows, "fee_month")
    for r in rows:
        assert r["fee_month"] is not None, r
        fee_year, fee_month = month_of(r["fee_month"])
        following = (fee_year + fee_month // 12, fee_month % 12 + 1)
        assert month_of(r["charged_month"]) == following, r
        assert r["fees"] > 0 and r["fee_transactions"] > 0, r


@expect("23_subscription_items_by_creation_month", scope_total="items")
def _subscription_items(rows: list[Row]) -> None:
    assert_months(rows, "item_created_month")
    for r in rows:
        assert r["items_before_subscription"] == 0, r
        assert 0 < r["subscriptions"] <= r["items"] and r["seats"] > 0, r
        assert r["billing_interval"] in ("day", "week", "month", "year"), r


@expect("24_charges_by_local_hour", scope_total="charges")
def _local_hours(rows: list[Row]) -> None:
    hours = [r["local_hour"] for r in rows]
    assert hours == sorted(set(hours)) and set(hours) <= set(range(24))
    for r in rows:
        assert 4 <= r["min_hours_behind_utc"] <= r["max_hours_behind_utc"] <= 5, r
        assert r["charges"] > 0 and r["volume_mixed_currencies"] > 0, r
    offsets = {r["min_hours_behind_utc"] for r in rows} | {r["max_hours_behind_utc"] for r in rows}
    assert offsets == {4, 5}, "a year of charges spans both standard and daylight saving time"


@expect("25_mrr_events_local_month")
def _local_event_time(rows: list[Row]) -> None:
    assert_months(rows, "local_month", last=LOCAL_LAST_MONTH)
    for r in rows:
        assert r["local_time_mismatches"] == 0, r
        assert r["events_in_unchecked_zones"] == 0, r
        assert r["events"] > 0, r


@expect("26_daily_volume_last_30_days", scope_total="attempts")
def _last_30_days(rows: list[Row]) -> None:
    assert_currency(rows)
    days = {r["day"] for r in rows}
    assert len(days) <= 31
    for r in rows:
        assert date(2025, 12, 1) <= r["day"] <= date(2025, 12, 31), r
        assert 0 <= r["failed"] <= r["attempts"] and r["gross_volume"] >= 0, r


@expect("27_exchange_rate_coverage", scope_total="days")
def _rate_coverage(rows: list[Row]) -> None:
    assert_months(rows, "month", first=(2022, 12))
    for r in rows:
        assert 1 <= r["days"] <= 31, r
        assert r["min_currencies_quoted"] >= 5 and r["days_missing_a_currency"] == 0, r
        assert r["min_usd_rate"] == r["max_usd_rate"] == 1.0, r
        assert 0.5 < r["min_eur"] <= r["max_eur"] < 1.5, r
        assert 0.5 < r["min_gbp"] <= r["max_gbp"] < 1.5, r


@expect("28_quarterly_collections_growth", scope_total="collected")
def _collections_growth(rows: list[Row]) -> None:
    assert_months(rows, "paid_quarter")
    assert_currency(rows)
    for currency, group in by(rows, "currency").items():
        assert group[0]["previous_quarter"] is None and group[0]["qoq_growth"] is None, currency
        for previous, r in itertools.pairwise(group):
            assert r["previous_quarter"] == previous["collected"], r
            assert r["qoq_growth"] > -1 and close(
                r["qoq_growth"], r["collected"] / previous["collected"] - 1
            ), r
    for r in rows:
        quarter = (r["paid_quarter"].month - 1) // 3 + 1
        assert r["quarter_label"] == f"{r['paid_quarter'].year}-Q{quarter}", r
        assert r["collected"] > 0, r


@expect("29_credit_notes_by_reason", scope_total="credit_notes")
def _credit_notes(rows: list[Row]) -> None:
    assert_currency(rows)
    for r in rows:
        assert FIRST_MONTH[0] <= r["year"] <= LAST_MONTH[0], r
        assert r["reason"] in ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
        assert r["type"] in ("pre_payment", "post_payment"), r
        assert r["credit_notes"] > 0 and r["credited"] > 0, r
        assert r["avg_days_after_invoice"] >= 0, r


@expect("31_charges_by_weekday_format_datetime", scope_total="charges")
def _weekday_names(rows: list[Row]) -> None:
    assert_currency(rows)
    for r in rows:
        assert r["month_label"] in ("2025-01", "2025-02", "2025-03"), r
        assert r["weekday"] == WEEKDAYS[r["iso_weekday"] - 1], r
        assert r["charges"] > 0 and r["volume"] > 0, r
    assert {r["weekday"] for r in rows} == set(WEEKDAYS)


@expect("32_currencies_quoted_cardinality", scope_total="days")
def _currencies_quoted(rows: list[Row]) -> None:
    assert_months(rows, "month", first=(2025, 1))
    for r in rows:
        assert r["min_currencies"] == r["max_currencies"] >= 5, r
        assert r["days_without_xxx"] == r["days"] > 0, r
        assert 0.5 < r["min_eur"] <= r["max_eur"] < 1.5, r
        assert r["eur_disagreement"] == 0, r


@expect("33_refund_lag_interval_arithmetic", scope_total="refunds")
def _refund_lag(rows: list[Row]) -> None:
    day = 86_400
    bounds = {
        "1: within a day": (0, day),
        "2: 1-7 days": (day, 7 * day),
        "3: 8-30 days": (7 * day, 30 * day),
        "4: over 30 days": (30 * day, math.inf),
    }
    for r in rows:
        low, high = bounds[r["refund_lag"]]
        assert low <= r["min_seconds_after_charge"] <= r["max_seconds_after_charge"] < high, r
        assert r["min_seconds_after_charge"] > 0 and r["refunds"] > 0 and r["refunded"] > 0, r


@expect("30_invoice_tax_vs_stripe_tax", scope_total="invoices")
def _invoice_tax(rows: list[Row]) -> None:
    assert_months(rows, "invoice_month")
    for r in rows:
        assert r["difference"] == 0 and r["mismatches"] == 0, r
        assert r["invoices"] > 0 and r["invoice_tax"] >= 0, r
    assert sum(r["invoice_tax"] for r in rows) > 0


# ---------------------------------------------------------------------------------------------
# Fixtures and runners


@pytest.fixture(scope="module")
def settings(demo_path: Path) -> Settings:
    return Settings(warehouse_path=demo_path)


@pytest.fixture(scope="module")
def direct(demo_path: Path, settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only, unguarded (same configuration as the executor's)."""
    conn = duckdb.connect(str(demo_path), read_only=True, config=connection_config(settings))
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def executor(demo_path: Path, settings: Settings) -> Iterator[Executor]:
    with Executor(demo_path, settings) as ex:
        yield ex


@pytest.fixture(scope="module")
def oracle(demo_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB whose warehouse tables are views filtered to ACCOUNT by hand."""
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{demo_path}' AS wh (READ_ONLY)")
    for table in sorted(warehouse_tables()):
        conn.execute(
            f'CREATE VIEW "{table}" AS SELECT * FROM wh.main."{table}" '
            f"WHERE merchant_id = '{ACCOUNT}'"
        )
    yield conn
    conn.close()


def fetch(conn: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    cursor = conn.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def transpile(sql: str, read: str | type[Dialect] = Sigma) -> str:
    [duck] = sqlglot.transpile(sql, read=read, write="duckdb")
    return duck


def guarded_rows(executor: Executor, sql: str) -> list[Row]:
    policy = Policy(
        account=ACCOUNT, tables=warehouse_tables(), max_rows=MAX_ROWS, read_dialect="trino"
    )
    result = executor.run(check_sql(sql, policy), max_rows=MAX_ROWS)
    assert not result.truncated
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def canonical(rows: list[Row]) -> list[tuple[Any, ...]]:
    """Rows in a stable order, for comparing result sets that may differ in float noise."""

    def key(row: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple(repr(round(v, 4)) if isinstance(v, float) else repr(v) for v in row)

    return sorted((tuple(r.values()) for r in rows), key=key)


def assert_same_rows(actual: list[Row], expected: list[Row]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(canonical(actual), canonical(expected), strict=True):
        for a, b in zip(got, want, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None and close(a, b), (got, want)
            else:
                assert a == b, (got, want)


def total(rows: list[Row], column: str) -> float:
    return sum(abs(float(r[column])) for r in rows if r[column] is not None)


# ---------------------------------------------------------------------------------------------
# Tests


def test_fixture_set_is_complete() -> None:
    stems = [p.stem for p in fixture_paths()]
    assert len(stems) >= 20
    assert all(re.fullmatch(r"\d{2}_[a-z0-9_]+", s) for s in stems), stems
    assert sorted(EXPECTATIONS) == stems, "every fixture needs exactly one @expect check"
    for path in fixture_paths():
        sql = path.read_text(encoding="utf-8")
        assert header(sql, "title") and header(sql, "expect"), path.name


@pytest.mark.parametrize("path", fixture_paths(), ids=lambda p: p.stem)
def test_sigma_query_runs_directly(path: Path, direct: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(direct, transpile(path.read_text(encoding="utf-8")))
    assert rows, f"{path.name} returned no rows"
    EXPECTATIONS[path.stem].check(rows)
    if "merchant_id" in rows[0]:
        assert len({r["merchant_id"] for r in rows}) > 1, "unscoped run should see all merchants"


@pytest.mark.parametrize("path", fixture_paths(), ids=lambda p: p.stem)
def test_sigma_query_through_guard(
    path: Path,
    executor: Executor,
    direct: duckdb.DuckDBPyConnection,
    oracle: duckdb.DuckDBPyConnection,
) -> None:
    sql = path.read_text(encoding="utf-8")
    rows = guarded_rows(executor, sql)
    assert rows, f"{path.name} returned no rows for {ACCOUNT}"
    expectation = EXPECTATIONS[path.stem]
    expectation.check(rows)

    if "merchant_id" in rows[0]:
        assert {r["merchant_id"] for r in rows} == {ACCOUNT}
    else:
        column = expectation.scope_total
        assert column is not None, f"{path.stem}: select merchant_id or name a scope_total"
        unscoped = fetch(direct, transpile(sql))
        assert total(rows, column) <= total(unscoped, column) * (1 + 1e-9)

    assert_same_rows(rows, fetch(oracle, transpile(sql)))


# ---------------------------------------------------------------------------------------------
# Trino features sqlglot 30.30 does not carry over to DuckDB, and the rewrites the fixtures use


@dataclass(frozen=True)
class Gap:
    """A Trino expression whose transpiled form fails or differs, and its portable rewrite.

    `trino_value` is what Trino (Sigma, session time zone UTC) returns for `trino_sql`;
    `rewrite_value` is what both Trino and the transpiled DuckDB return for `rewrite_sql`.
    """

    why: str
    trino_sql: str
    trino_value: Any
    rewrite_sql: str
    rewrite_value: Any
    session_time_zone: str | None = None


GAPS = {
    "at_time_zone_on_utc_timestamp": Gap(
        "Trino reads a plain timestamp in the session zone (UTC) and converts it to the target "
        "zone; DuckDB reads it as wall-clock time in the target zone, shifting it the other way",
        "select cast(timestamp '2023-11-17 16:28:41' at time zone 'America/New_York' as timestamp)",
        datetime(2023, 11, 17, 11, 28, 41),
        "select cast(timestamp '2023-11-17 16:28:41' at time zone 'UTC' "
        "at time zone 'America/New_York' as timestamp)",
        datetime(2023, 11, 17, 11, 28, 41),
    ),
    "date_diff_whole_units": Gap(
        "Trino's date_diff counts whole elapsed units, DuckDB's counts unit boundaries crossed",
        "select date_diff('day', timestamp '2025-01-01 23:00:00', timestamp '2025-01-02 01:00:00')",
        0,
        "select date_diff('day', date(timestamp '2025-01-01 23:00:00'), "
        "date(timestamp '2025-01-02 01:00:00'))",
        1,
    ),
    "integer_division": Gap(
        "bigint / bigint truncates in Trino; the transpiled `/` is DuckDB's float division",
        "select 7 / 2",
        3,
        "select cast(7 as double) / 2",
        3.5,
    ),
    "format_java_style": Gap(
        "Trino's format() takes Java %s patterns; DuckDB's format() takes {} and ignores %s",
        "select format('%s-%s', 'a', 'b')",
        "a-b",
        "select concat('a', '-', 'b')",
        "a-b",
    ),
    "cardinality_of_map": Gap(
        "cardinality(map) becomes array_length(map), which DuckDB does not accept",
        "select cardinality(map(array['eur', 'gbp'], array[0.9, 0.8]))",
        2,
        "select cardinality(map_keys(map(array['eur', 'gbp'], array[0.9, 0.8])))",
        2,
    ),
    "format_datetime": Gap(
        "format_datetime (Joda patterns) is passed through unchanged; DuckDB has no such function",
        "select format_datetime(timestamp '2025-03-04 05:06:07', 'yyyy-MM')",
        "2025-03",
        "select date_format(timestamp '2025-03-04 05:06:07', '%Y-%m')",
        "2025-03",
    ),
    "unnest_map": Gap(
        "unnest(map) as t(k, v) is not rewritten to map_entries; DuckDB's UNNEST wants a list "
        "(and the guard refuses table functions in FROM anyway): read keys with element_at",
        "select count(*) from (select map(array['eur'], array[0.9]) as m) x "
        "cross join unnest(x.m) as t(k, v)",
        1,
        "select element_at(map(array['eur'], array[0.9]), 'eur')",
        Decimal("0.9"),
    ),
    "map_agg": Gap(
        "map_agg (Stripe's metadata pivot) has no DuckDB counterpart after transpiling",
        "select map_agg(k, v)['a'] from (values ('a', 1)) t(k, v)",
        1,
        "select max(if(k = 'a', v)) from (values ('a', 1)) t(k, v)",
        1,
    ),
    "with_timezone": Gap(
        "with_timezone is passed through unchanged; DuckDB has no such function",
        "select hour(with_timezone(timestamp '2025-01-01 03:00:00', 'UTC') "
        "at time zone 'America/New_York')",
        22,
        "select hour(timestamp '2025-01-01 03:00:00' at time zone 'UTC' "
        "at time zone 'America/New_York')",
        22,
    ),
    "from_unixtime_session_zone": Gap(
        "from_unixtime becomes to_timestamp, a TIMESTAMPTZ whose fields DuckDB reads in the "
        "session time zone (the machine's); Sigma's Trino session runs in UTC",
        "select hour(from_unixtime(0))",
        0,
        "select hour(from_unixtime(0) at time zone 'UTC')",
        0,
        session_time_zone="Asia/Kolkata",
    ),
}


@pytest.mark.parametrize("name", sorted(GAPS))
def test_known_trino_gaps(name: str) -> None:
    gap = GAPS[name]
    conn = duckdb.connect()
    try:
        if gap.session_time_zone:
            conn.execute(f"SET TimeZone = '{gap.session_time_zone}'")
        try:
            [(value,)] = conn.execute(transpile(gap.trino_sql, read="trino")).fetchall()
        except duckdb.Error:
            pass
        else:
            assert value != gap.trino_value, f"sqlglot now handles {name}; simplify the fixtures"
        [(rewritten,)] = conn.execute(transpile(gap.rewrite_sql, read="trino")).fetchall()
        assert rewritten == gap.rewrite_value, gap.why
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["cardinality_of_map", "format_datetime"])
def test_sigma_dialect_closes_gaps(name: str) -> None:
    """The guard's `trino` dialect (app.sql.dialects.sigma.Sigma) gives Trino's answer where
    sqlglot does not."""
    gap = GAPS[name]
    [(value,)] = duckdb.sql(transpile(gap.trino_sql)).fetchall()
    assert value == gap.trino_value


SIGMA_FUNCTIONS = (
    *("date_trunc", "from_unixtime", "approx_percentile", "date_format", "format_datetime"),
    *("try_cast", "interval '", "timestamp '", "cardinality", "element_at", "date_add"),
)


@pytest.mark.parametrize("function", SIGMA_FUNCTIONS)
def test_fixtures_exercise_sigma_functions(function: str) -> None:
    """Every Trino feature the Sigma compatibility promises is used by some fixture."""
    assert any(function in p.read_text(encoding="utf-8").lower() for p in fixture_paths())


@pytest.mark.parametrize(
    ("joda", "strftime"),
    [
        ("yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S"),
        ("EEEE, MMMM d", "%A, %B %-d"),
        ("yyyy-MM-dd'T'HH:mm", "%Y-%m-%dT%H:%M"),
        ("h:mm a 'o''clock' 100%", "%-I:%M %p o'clock 100%%"),
    ],
)
def test_joda_patterns(joda: str, strftime: str) -> None:
    assert joda_to_strftime(joda) == strftime


def test_unsupported_format_datetime_is_a_guard_error() -> None:
    policy = Policy(account=ACCOUNT, tables=warehouse_tables(), max_rows=10, read_dialect="trino")
    with pytest.raises(GuardError) as caught:
        check_sql("select format_datetime(created, 'QQQ yyyy') from charges", policy)
    assert caught.value.rule == "parse_error" and "QQQ" in caught.value.detail
