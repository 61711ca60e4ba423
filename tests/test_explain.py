from datetime import date
from decimal import Decimal

from app.core.answer import Column, Period
from app.explain.prose import check_numbers, explain
from app.semantic.format import format_money

COLS = [Column(name="gross_volume", kind="money", currency="usd", label="Gross volume")]
PERIOD = Period(start=date(2025, 4, 1), end=date(2025, 7, 1), timezone="America/New_York")


def test_total_explanation_quotes_only_result_numbers() -> None:
    ex = explain(
        COLS,
        [[Decimal("1234.56")]],
        metric_labels={"gross_volume": "Gross volume"},
        period=PERIOD,
        truncated=False,
    )
    assert ex.headline == "$1,234.56"
    assert "2025-04-01 ≤ t < 2025-07-01 (America/New_York)" in ex.explanation
    assert ex.numbers_verified


def test_checker_rejects_a_number_not_in_the_result() -> None:
    assert check_numbers("Gross volume was $1,234.56.", COLS, [[Decimal("1234.56")]], [])
    assert not check_numbers("Gross volume was $1,234.00.", COLS, [[Decimal("1234.56")]], [])
    assert not check_numbers("Up 12% on last year.", COLS, [[Decimal("1234.56")]], [])


def test_comparison_change_and_percent_are_derived_numbers() -> None:
    cols = [
        *COLS,
        Column(name="gross_volume_previous", kind="money", currency="usd"),
        Column(name="gross_volume_change", kind="money", currency="usd"),
        Column(name="gross_volume_change_pct", kind="ratio"),
    ]
    row = [Decimal("110.00"), Decimal("100.00"), Decimal("10.00"), 0.1]
    ex = explain(cols, [row], metric_labels={}, period=PERIOD, truncated=False)
    assert "up $10.00 (10.0%)" in ex.explanation and ex.numbers_verified


def test_money_formatting() -> None:
    assert format_money(Decimal("-1234.5"), "eur") == "−€1,234.50"
    assert format_money(Decimal("3"), "chf") == "3.00 CHF"


def test_numbers_inside_a_quoted_label_are_from_the_result() -> None:
    cols = [Column(name="ar_aging", kind="label", label="Days past due"), *COLS]
    rows = [["31-60 days", Decimal("3648.78")], ["current", Decimal("29.65")]]
    ex = explain(cols, rows, metric_labels={}, period=PERIOD, truncated=False)
    assert "31-60 days leads with $3,648.78" in ex.explanation and ex.numbers_verified
    assert not check_numbers("61-90 days leads with $3,648.78.", cols, rows, [])


def test_a_series_broken_down_has_no_one_row_headline() -> None:
    """'Refund rate by month and country': the last row is one country's month, not the answer."""
    cols = [
        Column(name="period", kind="date"),
        Column(name="customer_country", kind="label", label="Customer country"),
        Column(name="refund_rate", kind="ratio", label="Refund rate"),
    ]
    rows = [
        [date(2025, 5, 1), "DE", 0.031],
        [date(2025, 5, 1), "US", 0.012],
        [date(2025, 6, 1), "DE", 0.025],
        [date(2025, 6, 1), "US", 0.0083],
    ]
    ex = explain(cols, rows, metric_labels={}, period=PERIOD, truncated=False)
    assert ex.headline == "Refund rate by period and customer country: 4 rows"
    assert ex.value is None and "0.83" not in ex.headline and ex.numbers_verified
