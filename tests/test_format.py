"""The one formatter: currency decimals and signs, time buckets, code labels, plurals, CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.answer import Column
from app.core.plan import QueryPlan, TimeRange
from app.core.request import Request
from app.explain.headline import Summing
from app.explain.prose import check_numbers, explain
from app.pipeline.assistant import Assistant
from app.semantic.format import (
    csv_cell,
    currency_decimals,
    dimension_plural,
    format_bucket,
    format_change,
    format_money,
    format_ratio,
    format_span,
    format_value,
    plural,
    value_label,
)
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
        (Decimal("-1234.5"), "jpy", "−¥1,235"),  # the minus before the symbol
        (Decimal("15000"), "krw", "15,000 KRW"),
        (Decimal("-1234.5"), "eur", "−€1,234.50"),
        (Decimal("-1253.19"), "usd", "−$1,253.19"),
        (Decimal("-0.004"), "usd", "$0.00"),  # rounds to nothing: no sign
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


def test_money_for_tiles_and_changes() -> None:
    assert format_money(Decimal("632921.52"), "usd", whole=True) == "$632,922"
    assert format_money(Decimal("1234.5"), "usd", signed=True) == "+$1,234.50"
    assert format_money(Decimal("-1234.5"), "eur", signed=True) == "−€1,234.50"
    change = Column(name="gross_volume_change", kind="money", currency="usd")
    assert format_change(Decimal("-6047.30"), change) == "−$6,047.30"
    assert format_change(Decimal("0.0035"), Column(name="r", kind="ratio")) == "+0.35 pp"
    assert format_ratio(Decimal("-0.0851")) == "−8.51%"
    assert format_ratio(0.1234, 1, signed=True) == "+12.3%"


@pytest.mark.parametrize(
    ("grain", "text"),
    [
        ("month", "January 2025"),
        ("quarter", "Q1 2025"),
        ("year", "2025"),
        ("week", "week of 2025-01-06"),
        ("day", "2025-01-06"),
        (None, "2025-01-06"),
    ],
)
def test_time_buckets_by_grain(grain: str | None, text: str) -> None:
    day = date(2025, 1, 6) if grain in ("week", "day", None) else date(2025, 1, 1)
    assert format_bucket(day, grain) == text
    assert format_value(day, Column(name="period", kind="date"), grain=grain) == text


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2025, 1, 1), date(2026, 1, 1), "2025"),
        (date(2025, 7, 1), date(2025, 10, 1), "Q3 2025"),
        (date(2025, 7, 1), date(2025, 8, 1), "July 2025"),
        (date(2025, 1, 1), date(2025, 7, 16), "1 Jan – 15 Jul 2025"),
        (date(2024, 12, 1), date(2025, 2, 10), "1 Dec 2024 – 9 Feb 2025"),
        (date(2025, 7, 15), date(2025, 7, 16), "15 Jul 2025"),
    ],
)
def test_spans_read_as_their_shape(start: date, end: date, text: str) -> None:
    assert format_span(start, end) == text


def test_codes_show_the_semantic_models_labels() -> None:
    assert value_label("payment_method_type", "bacs_debit") == "Bacs Direct Debit"
    assert value_label("tax_type", "sales_tax") == "Sales tax"
    assert value_label("tax_type", "vat") == "VAT"
    assert value_label("tax_country", "DE") == "Germany"
    assert value_label("tax_state", "WA") == "Washington"
    assert value_label("currency", "eur") == "EUR"
    assert value_label("customer", "acme_corp") == "acme_corp"  # data, not a code: as stored
    assert value_label("tax_type", "new_kind") == "new_kind"  # a code without a label: as stored
    col = Column(name="payment_method_type", kind="label", label="Payment method type")
    assert format_value("us_bank_account", col) == "US bank account (ACH)"


def test_every_listed_code_has_a_label_where_a_dimension_has_labels() -> None:
    for dim in semantic_model().dimensions.values():
        if dim.value_labels and isinstance(dim.values, dict):
            assert set(dim.values) <= set(dim.value_labels), dim.name


def test_plurals_agree_with_their_number() -> None:
    assert plural(1, "row") == "1 row" and plural(12, "row") == "12 rows"
    assert plural(1_200, "period") == "1,200 periods"
    assert dimension_plural("plan", "Plan / price") == "plans / prices"
    assert dimension_plural("customer_state", "US state / region") == "US states / regions"
    assert dimension_plural("customer_country", "Customer country") == "customer countries"
    assert dimension_plural("dispute_status", "Dispute status") == "dispute statuses"
    assert dimension_plural("ar_aging", "Days past due") == "aging buckets"  # from the YAML


def test_breakdown_prose_names_labels_and_agrees_in_number() -> None:
    cols = [
        Column(name="plan", kind="label", label="Plan / price"),
        Column(name="mrr", kind="money", currency="usd", label="MRR"),
    ]
    rows = [["Business monthly", Decimal("8450.40")], ["Pro monthly", Decimal("5659.26")]]
    ex = explain(cols, rows, metric_labels={"mrr": "MRR"}, period=None, truncated=False)
    assert "across 2 plans / prices; Business monthly leads" in ex.explanation
    one = explain(cols, rows[:1], metric_labels={"mrr": "MRR"}, period=None, truncated=False)
    assert "across 1 plan / price;" in one.explanation
    methods = [
        Column(name="payment_method_type", kind="label", label="Payment method type"),
        Column(name="gross_volume", kind="money", currency="usd", label="Gross volume"),
    ]
    ex = explain(
        methods,
        [["bacs_debit", Decimal("-1253.19")], ["card", Decimal("-20")]],
        metric_labels={},
        period=None,
        truncated=False,
        rule=Summing({"gross_volume": ""}),
    )
    # The headline is the whole answer's figure, no longer its first row (issue 14).
    assert ex.headline == "Total: −$1,273.19 across 2 payment method types"
    assert "Bacs Direct Debit leads with −$1,253.19" in ex.explanation and ex.numbers_verified
    assert ex.shares == []  # no share of a total of negative rows


def test_a_monthly_series_names_its_months() -> None:
    cols = [
        Column(name="period", kind="date", label="Month"),
        Column(name="mrr", kind="money", currency="usd", label="MRR"),
    ]
    rows = [[date(2025, 1, 1), Decimal("10")], [date(2025, 2, 1), Decimal("12")]]
    ex = explain(cols, rows, metric_labels={}, period=None, truncated=False, grain="month")
    assert "latest $12.00 (February 2025); highest $12.00 (February 2025)" in ex.explanation
    assert "lowest $10.00 (January 2025)" in ex.explanation and ex.numbers_verified
    one = explain(
        cols[1:],
        [[Decimal("1")], [Decimal("2")]],
        metric_labels={},
        period=None,
        truncated=False,
        listing=True,
    )
    assert one.headline == "2 rows"


def test_csv_cells_stay_exact() -> None:
    assert csv_cell(Decimal("-1253.19")) == "-1253.19"  # no symbol, ASCII minus: a number
    assert csv_cell(date(2025, 1, 1)) == "2025-01-01"
    assert csv_cell("bacs_debit") == "bacs_debit"  # codes as stored
    assert csv_cell("=1+1") == "'=1+1" and csv_cell(None) == ""


def test_an_llm_answer_says_what_the_model_did_and_what_the_cache_saved() -> None:
    from app.core.answer import LlmUsage
    from app.semantic.format import llm_usage_text

    usage = LlmUsage(
        model="qwen2.5-coder-1.5b",
        calls=3,
        prompt_tokens=7381,
        completion_tokens=181,
        cached_tokens=4762,
        tool_mode="json (auto: the base URL is on this machine)",
    )
    assert llm_usage_text(usage) == (
        "qwen2.5-coder-1.5b · 3 calls · 7,381 prompt tokens (4,762 from the prompt cache) · "
        "181 generated · json mode"
    )
    plain = usage.model_copy(update={"cached_tokens": 0, "tool_mode": "", "calls": 1})
    assert (
        llm_usage_text(plain) == "qwen2.5-coder-1.5b · 1 call · 7,381 prompt tokens · 181 generated"
    )
