"""Issue 17 time phrases: the last completed period, the Nth month of a year, each period end."""

from __future__ import annotations

from datetime import date

import pytest

from app.understand.time import parse_time

MID_DECEMBER = date(2025, 12, 15)


def _range(text: str, as_of: date = MID_DECEMBER, fy: int = 1) -> tuple[date, date]:
    found = parse_time(text, as_of, fiscal_year_start_month=fy)
    assert found.range is not None, text
    return found.range.start, found.range.end


@pytest.mark.parametrize("said", ["last completed month", "last full month", "last complete month"])
def test_last_completed_month_is_not_this_month_mid_month(said: str) -> None:
    assert _range(f"MRR {said}") == (date(2025, 11, 1), date(2025, 12, 1))
    assert _range("MRR this month") == (date(2025, 12, 1), date(2026, 1, 1))


def test_the_month_holding_as_of_is_never_complete() -> None:
    # On the last day of December the month is not over yet: its data is still arriving.
    assert _range("last completed month", date(2025, 12, 31)) == (
        date(2025, 11, 1),
        date(2025, 12, 1),
    )
    assert _range("last completed month", date(2026, 1, 1)) == (date(2025, 12, 1), date(2026, 1, 1))


def test_last_complete_quarter_and_year() -> None:
    assert _range("last complete quarter") == (date(2025, 7, 1), date(2025, 10, 1))
    assert _range("the last full year") == (date(2024, 1, 1), date(2025, 1, 1))
    assert _range("last full fiscal year", fy=4) == (date(2024, 4, 1), date(2025, 4, 1))


def test_completed_period_states_its_dates_and_span() -> None:
    text = "MRR for the last completed month"
    found = parse_time(text, MID_DECEMBER)
    assert found.range is not None and found.range.label == "last completed month"
    assert any("2025-11-01 to 2025-11-30" in a for a in found.assumptions)
    assert [text[s:e] for s, e in found.spans] == ["for the last completed month"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Revenue in the last month of the year 2025", (date(2025, 12, 1), date(2026, 1, 1))),
        ("revenue in the final month of 2024", (date(2024, 12, 1), date(2025, 1, 1))),
        ("the last month of last year", (date(2024, 12, 1), date(2025, 1, 1))),
        ("the twelfth month of 2023", (date(2023, 12, 1), date(2024, 1, 1))),
        ("the second month of this year", (date(2025, 2, 1), date(2025, 3, 1))),
    ],
)
def test_nth_month_of_a_year_is_that_month_not_last_month(
    text: str, expected: tuple[date, date]
) -> None:
    found = parse_time(text, MID_DECEMBER)
    assert found.range is not None
    assert (found.range.start, found.range.end) == expected
    assert len(found.all_ranges) == 1  # one period, not "last month" plus the year


def test_nth_month_of_a_fiscal_year() -> None:
    assert _range("the last month of FY2025", fy=4) == (date(2025, 3, 1), date(2025, 4, 1))
    assert _range("the first month of the fiscal year", date(2025, 6, 15), fy=4) == (
        date(2025, 4, 1),
        date(2025, 5, 1),
    )


def test_nth_month_of_the_year_without_a_number_is_the_latest_started() -> None:
    assert _range("the last month of the year", date(2025, 6, 15)) == (
        date(2024, 12, 1),
        date(2025, 1, 1),
    )


def test_ordinal_months_work_as_range_endpoints() -> None:
    assert _range("since the last month of 2024", date(2025, 6, 1)) == (
        date(2024, 12, 1),
        date(2025, 6, 2),
    )
    found = parse_time("MRR at the end of the last completed quarter", MID_DECEMBER)
    assert found.point_in_time == date(2025, 9, 30)


@pytest.mark.parametrize(
    ("text", "grain"),
    [
        ("ARR at each year end", "year"),
        ("ARR at every year-end", "year"),
        ("MRR at the end of each month", "month"),
        ("active customers at each quarter end", "quarter"),
    ],
)
def test_each_period_end_is_a_series_and_consumes_the_whole_phrase(text: str, grain: str) -> None:
    found = parse_time(text, MID_DECEMBER)
    assert found.grain == grain
    assert found.range is None
    rest = text
    for s, e in found.spans:
        rest = rest[:s] + " " * (e - s) + rest[e:]
    assert "end" not in rest and "each" not in rest and "every" not in rest
