"""The one formatter: each currency's own decimals, from the semantic model's list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.answer import Column
from app.core.plan import QueryPlan, TimeRange
from app.core.request import Request
from app.explain.format import currency_decimals, format_money, format_value
from app.explain.prose import check_numbers, explain
from app.pipeline.assistant import Assistant
from app.semantic.load import semantic_model


def test_zero_decimal_currencies_are_the_semantic_models() -> None:
    zero = semantic_model().zero_decimal_currencies
    assert "jpy" in zero and "krw" in zero
    for code in zero:
        assert currency_decimals(code) == 0 and currency_decimals(code.upper()) == 0
    for code in ("usd", "eur", "gbp", "chf", None, ""):
        assert currency_decimals(code) == 2


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (Decimal("1234.56"), "jpy", "¥1,235"),
        (Decimal("1235.00"), "JPY", "¥1,235"),
        (Decimal("-1234.5"), "jpy", "-¥1,235"),
        (Decimal("15000"), "krw", "15,000 KRW"),
        (Decimal("-1234.5"), "eur", "-€1,234.50"),
        (Decimal("3"), "chf", "3.00 CHF"),
        (Decimal("1.005"), "usd", "$1.01"),  # half-up, as the number check rounds
        (0.125, "gbp", "£0.13"),
        (None, "usd", "—"),
    ],
)
def test_money_in_the_currencys_decimals(value: object, currency: str, text: str) -> None:
    assert format_money(value, currency) == text


def test_row_currency_applies_when_the_column_has_none() -> None:
    col = Column(name="gross_volume", kind="money")
    assert format_value(Decimal("1234.00"), col, "jpy") == "¥1,234"
    assert format_value(Decimal("1234.00"), col, "usd") == "$1,234.00"


def test_rounded_money_passes_the_number_check() -> None:
    cols = [Column(name="gross_volume", kind="money", currency="jpy", label="Gross volume")]
    rows = [[Decimal("1234.56")]]
    ex = explain(cols, rows, metric_labels={}, period=None, truncated=False)
    assert ex.headline == "¥1,235" and ex.numbers_verified
    assert check_numbers("¥1,235", cols, rows, [])


def test_a_plan_reported_in_yen_prints_whole_yen_that_match_the_result(
    assistant: Assistant,
) -> None:
    plan = QueryPlan(
        metrics=["gross_volume"],
        time=TimeRange(start=date(2025, 11, 1), end=date(2025, 12, 1)),
        currency="jpy",
    )
    request = Request("gross volume in yen", as_of=date(2025, 12, 31), account="acct_demo_01")
    answer = assistant.answer_plan(plan, request)
    assert answer.status == "answered", answer.headline
    value = answer.rows[0][0]
    assert isinstance(value, Decimal) and value == value.to_integral_value() and value > 0
    assert answer.headline == f"¥{value:,}"
    assert answer.numbers_verified
