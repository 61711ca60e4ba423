"""Model-written text checked against the answer: numbers, dates and names (app.explain.claims)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.core.answer import Answer, Column, Period
from app.explain.claims import unsupported

LONGEST = Answer(
    status="answered",
    question="Which customer has had the longest uninterrupted subscription, and since when?",
    as_of=date(2025, 12, 31),
    headline="Aurora Data Ltd: 1",
    columns=[
        Column(name="customer", kind="label"),
        Column(name="since", kind="date"),
        Column(name="days", kind="count"),
    ],
    rows=[["Aurora Data Ltd", date(2023, 3, 14), 1023], ["Birch & Co", datetime(2024, 1, 2, 9), 7]],
)
YEAR = Answer(
    status="answered",
    question="Gross volume in 2025",
    as_of=date(2025, 12, 31),
    columns=[Column(name="gross_volume", kind="money")],
    rows=[[Decimal("1234.50")]],
    period=Period(start=date(2025, 1, 1), end=date(2026, 1, 1), timezone="UTC", label="2025"),
)


@pytest.mark.parametrize(
    "text",
    [
        "Aurora Data Ltd has had the longest subscription, since 2023-03-14 (1,023 days).",
        "Birch & Co started on 2024-01-02.",
        "Aurora Data Ltd has subscribed since March 2023.",
        "The longest subscription belongs to Aurora Data Ltd.",
    ],
)
def test_claims_in_the_result_are_supported(text: str) -> None:
    assert unsupported(text, LONGEST) == []


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Maya Tremblay has had it since 2025-12-31.", "Maya Tremblay"),  # the case
        ("Aurora Data Ltd has subscribed since 2023-03-15.", "2023-03-15"),
        ("Aurora Data Ltd has subscribed since 14 March 2022.", "14 March 2022"),
        ("It began in June 2021.", "June 2021"),
        ("Aurora Data Ltd has 1,024 days.", "a number not in the result"),
    ],
)
def test_claims_not_in_the_result_are_named(text: str, claim: str) -> None:
    assert claim in unsupported(text, LONGEST)


def test_dates_and_months_inside_the_period_are_supported() -> None:
    assert unsupported("Gross volume was 1,234.50 USD from 2025-01-01 to 2025-12-31.", YEAR) == []
    assert unsupported("In March 2025 gross volume was 1,234.50 USD.", YEAR) == []
    assert unsupported("In March 2024 gross volume was 1,234.50 USD.", YEAR) == ["March 2024"]


def test_sentence_openers_and_currency_codes_are_not_names() -> None:
    assert unsupported("Gross volume in 2025 was 1,234.50 USD. However it rose.", YEAR) == []
    assert unsupported("Visa cards brought 1,234.50 USD.", YEAR) == []  # a sentence's first word
    assert unsupported("Most came from Visa cards.", YEAR) == ["Visa"]


def test_a_refusal_reason_may_repeat_the_question_but_not_add_figures() -> None:
    empty = Answer(status="refused", question="How many employees did we have in 2025?")
    assert unsupported("There is no headcount data for 2025.", empty) == []
    assert unsupported("Headcount was 1,234 in 2025.", empty) == ["a number not in the result"]


def test_model_prose_may_quote_the_breakdowns_total_and_shares_but_no_other_sum() -> None:
    by_brand = Answer(
        status="answered",
        question="Gross volume by card brand in 2025",
        as_of=date(2025, 12, 31),
        columns=[
            Column(name="card_brand", kind="label"),
            Column(name="gross_volume", kind="money"),
        ],
        rows=[["Visa", Decimal("300.00")], ["Amex", Decimal("100.00")]],
        total=["Total", Decimal("400.00")],
        shares=[Decimal("0.75"), Decimal("0.25")],
    )
    assert unsupported("Gross volume was $400.00 in total; Visa took 75% of it.", by_brand) == []
    assert unsupported("Gross volume was $500.00 in total.", by_brand) != []
