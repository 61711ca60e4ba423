"""Table-driven tests for app.understand.time, plus Hypothesis properties."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.plan import TimeRange
from app.understand.time import (
    TimeMatch,
    default_range,
    parse_time,
    previous_period,
    same_period_last_year,
)

A = "2025-07-15"  # a Tuesday in Q3; the default as_of of the table


def row(
    phrase: str,
    as_of: str,
    start: str | None,
    end: str | None,
    *,
    grain: str | None = None,
    point: str | None = None,
    fy: int = 1,
    ws: int = 0,
) -> Any:
    return pytest.param(phrase, as_of, start, end, grain, point, fy, ws, id=f"{phrase}@{as_of}")


ROWS = [
    # --- today / yesterday / relative periods -------------------------------------------------
    row("revenue today", A, "2025-07-15", "2025-07-16", point="2025-07-15"),
    row("payments yesterday", A, "2025-07-14", "2025-07-15", point="2025-07-14"),
    row("the day before yesterday", A, "2025-07-13", "2025-07-14", point="2025-07-13"),
    row("3 days ago", A, "2025-07-12", "2025-07-13", point="2025-07-12"),
    row("this week", A, "2025-07-14", "2025-07-21"),
    row("last week", A, "2025-07-07", "2025-07-14"),
    row("last week", "2025-07-14", "2025-07-07", "2025-07-14"),  # as_of on a Monday
    row("last week", "2025-07-13", "2025-06-30", "2025-07-07"),  # as_of on a Sunday
    row("last week", "2025-07-13", "2025-07-06", "2025-07-13", ws=6),  # Sunday-start weeks
    row("last week", "2025-01-01", "2024-12-23", "2024-12-30"),
    row("this month", A, "2025-07-01", "2025-08-01"),
    row("current month", A, "2025-07-01", "2025-08-01"),
    row("last month", A, "2025-06-01", "2025-07-01"),
    row("previous month", "2025-01-01", "2024-12-01", "2025-01-01"),
    row("last month", "2024-03-31", "2024-02-01", "2024-03-01"),
    row("this quarter", A, "2025-07-01", "2025-10-01"),
    row("last quarter", A, "2025-04-01", "2025-07-01"),
    row("prior quarter", "2025-03-31", "2024-10-01", "2025-01-01"),
    row("this year", A, "2025-01-01", "2026-01-01"),
    row("last year", A, "2024-01-01", "2025-01-01"),
    row("the past year", "2025-01-01", "2024-01-01", "2025-01-01"),
    row("last year", "2025-12-31", "2024-01-01", "2025-01-01"),
    row("next-to-last month", A, "2025-05-01", "2025-06-01"),
    row("the quarter before last", A, "2025-01-01", "2025-04-01"),
    row("the month before last", "2025-01-15", "2024-11-01", "2024-12-01"),
    row("two months ago", A, "2025-05-01", "2025-06-01"),
    row("3 quarters ago", A, "2024-10-01", "2025-01-01"),
    row("a year ago", A, "2024-01-01", "2025-01-01"),
    row("penultimate quarter", A, "2025-01-01", "2025-04-01"),
    row("last half-year", A, "2025-01-01", "2025-07-01"),
    row("last calendar year", A, "2024-01-01", "2025-01-01", fy=4),
    # --- to date ----------------------------------------------------------------------------
    row("YTD revenue", A, "2025-01-01", "2025-07-16"),
    row("year to date", "2025-01-01", "2025-01-01", "2025-01-02"),
    row("year-to-date", "2025-12-31", "2025-01-01", "2026-01-01"),
    row("so far this year", A, "2025-01-01", "2025-07-16"),
    row("this year so far", A, "2025-01-01", "2025-07-16"),
    row("since the start of the year", A, "2025-01-01", "2025-07-16"),
    row("MTD", A, "2025-07-01", "2025-07-16"),
    row("month-to-date", "2025-03-31", "2025-03-01", "2025-04-01"),
    row("QTD", A, "2025-07-01", "2025-07-16"),
    row("quarter to date", "2025-03-31", "2025-01-01", "2025-04-01"),
    row("WTD", A, "2025-07-14", "2025-07-16"),
    row("YTD", "2024-02-29", "2024-01-01", "2024-03-01"),
    row("FYTD", A, "2025-04-01", "2025-07-16", fy=4),
    row("fiscal year to date", "2025-02-10", "2024-04-01", "2025-02-11", fy=4),
    # an "as of" day before as_of is the to-date period's today, not a point of its own
    row("Year-to-date gross volume as of 2025-06-30", A, "2025-01-01", "2025-07-01"),
    row("QTD refunds as of May 20, 2025", A, "2025-04-01", "2025-05-21"),
    row("YTD as of the end of March 2025", A, "2025-01-01", "2025-04-01"),
    row("FYTD as of 2025-03-31", A, "2024-04-01", "2025-04-01", fy=4),
    # --- last N -----------------------------------------------------------------------------
    row("last 30 days", A, "2025-06-16", "2025-07-16"),
    row("refunds for the past 7 days", "2025-01-01", "2024-12-26", "2025-01-02"),
    row("rolling 30 days", A, "2025-06-16", "2025-07-16"),
    row("last 12 weeks", A, "2025-04-21", "2025-07-14"),
    row("past twelve weeks", A, "2025-04-21", "2025-07-14"),
    row("last 4 weeks", "2025-07-13", "2025-06-09", "2025-07-07"),
    row("last three months", A, "2025-04-01", "2025-07-01"),
    row("last 12 months", A, "2024-07-01", "2025-07-01"),
    row("trailing twelve months", A, "2024-07-01", "2025-07-01"),
    row("TTM revenue", A, "2024-07-01", "2025-07-01"),
    row("LTM revenue", "2025-12-31", "2024-12-01", "2025-12-01"),
    row("last twenty-four months", A, "2023-07-01", "2025-07-01"),
    row("last 2 quarters", A, "2025-01-01", "2025-07-01"),
    row("last 3 years", A, "2022-01-01", "2025-01-01"),
    row("last 1 week", A, "2025-07-07", "2025-07-14"),
    row("last 2 fiscal quarters", A, "2024-11-01", "2025-05-01", fy=2),
    row("weekly gross volume over the last 12 weeks", A, "2025-04-21", "2025-07-14", grain="week"),
    row("revenue over the last 6 months", A, "2025-01-01", "2025-07-01", grain="month"),
    row("monthly revenue over the last 12 weeks", A, "2025-04-21", "2025-07-14", grain="month"),
    row("in the last 12 months by month", A, "2024-07-01", "2025-07-01", grain="month"),
    # --- months -----------------------------------------------------------------------------
    row("revenue in March", A, "2025-03-01", "2025-04-01"),
    row("March", "2025-03-10", "2025-03-01", "2025-04-01"),  # current, partial March
    row("December", A, "2024-12-01", "2025-01-01"),
    row("in March 2024", A, "2024-03-01", "2024-04-01"),
    row("Mar 2024", A, "2024-03-01", "2024-04-01"),
    row("march '24", A, "2024-03-01", "2024-04-01"),
    row("2024-03", A, "2024-03-01", "2024-04-01"),
    row("Sept. 2024", A, "2024-09-01", "2024-10-01"),
    row("the month of February 2024", A, "2024-02-01", "2024-03-01"),
    row("revenue in May", A, "2025-05-01", "2025-06-01"),
    row("last March", A, "2025-03-01", "2025-04-01"),
    row("last March", "2025-03-31", "2024-03-01", "2024-04-01"),
    row("this December", A, "2025-12-01", "2026-01-01"),
    row("March last year", A, "2024-03-01", "2024-04-01"),
    row("March of last fiscal year", A, "2025-03-01", "2025-04-01", fy=4),
    # --- quarters and halves ----------------------------------------------------------------
    row("Q3", A, "2025-07-01", "2025-10-01"),
    row("Q4", A, "2024-10-01", "2025-01-01"),
    row("Q1", "2025-01-01", "2025-01-01", "2025-04-01"),
    row("Q3 2025", A, "2025-07-01", "2025-10-01"),
    row("2025 Q3", A, "2025-07-01", "2025-10-01"),
    row("Q1-2025", A, "2025-01-01", "2025-04-01"),
    row("third quarter of 2024", A, "2024-07-01", "2024-10-01"),
    row("the last quarter of 2024", A, "2024-10-01", "2025-01-01"),
    row("Q1 of last year", A, "2024-01-01", "2024-04-01"),
    row("Q3 FY2025", A, "2024-10-01", "2025-01-01", fy=4),
    row("FY25 Q3", A, "2024-10-01", "2025-01-01", fy=4),
    row("Q3FY25", A, "2024-10-01", "2025-01-01", fy=4),
    row("Q4 FY2025", A, "2025-01-01", "2025-04-01", fy=4),
    row("Q4 FY2025", A, "2025-07-01", "2025-10-01", fy=10),
    row("Q1 FY2026", A, "2025-07-01", "2025-10-01", fy=7),
    row("Q3 FY2025", A, "2025-07-01", "2025-10-01"),  # fiscal = calendar when fy starts in Jan
    row("fiscal Q4", A, "2025-01-01", "2025-04-01", fy=4),
    row("H1 2025", A, "2025-01-01", "2025-07-01"),
    row("first half of 2024", A, "2024-01-01", "2024-07-01"),
    row("second half", A, "2025-07-01", "2026-01-01"),
    row("second half", "2025-06-30", "2024-07-01", "2025-01-01"),
    row("second half of last year", A, "2024-07-01", "2025-01-01"),
    row("H2 FY2025", A, "2024-10-01", "2025-04-01", fy=4),
    # --- years ------------------------------------------------------------------------------
    row("2024", A, "2024-01-01", "2025-01-01"),
    row("revenue in 2024", A, "2024-01-01", "2025-01-01"),
    row("the year 2023", A, "2023-01-01", "2024-01-01"),
    row("FY 2024/25", A, "2024-04-01", "2025-04-01", fy=4),
    row("Q4'24", A, "2024-10-01", "2025-01-01"),
    row("Dec 31", A, "2024-12-31", "2025-01-01", point="2024-12-31"),
    row("FY2025", A, "2024-04-01", "2025-04-01", fy=4),
    row("fiscal year 2025", A, "2024-04-01", "2025-04-01", fy=4),
    row("FY2025", A, "2025-01-01", "2026-01-01"),
    row("last fiscal year", A, "2024-04-01", "2025-04-01", fy=4),
    row("this fiscal year", A, "2025-04-01", "2026-04-01", fy=4),
    row("this fiscal year", "2025-03-31", "2024-04-01", "2025-04-01", fy=4),
    row("last fiscal year", "2025-07-01", "2024-07-01", "2025-07-01", fy=7),
    row("this fiscal year", "2025-01-01", "2025-01-01", "2026-01-01"),
    # --- since / from ... to ----------------------------------------------------------------
    row("since March", A, "2025-03-01", "2025-07-16"),
    row("since 2024-03-15", A, "2024-03-15", "2025-07-16"),
    row("from March", A, "2025-03-01", "2025-07-16"),
    row("since last quarter", A, "2025-04-01", "2025-07-16"),
    row("since the beginning of 2024", A, "2024-01-01", "2025-07-16"),
    row("between Jan and Apr 2025", A, "2025-01-01", "2025-05-01"),
    row("from January to April 2025", A, "2025-01-01", "2025-05-01"),
    row("Jan–Apr 2025", A, "2025-01-01", "2025-05-01"),
    row("from 2025-01-15 to 2025-02-10", A, "2025-01-15", "2025-02-11"),
    row("Jan 15 - Feb 10 2025", A, "2025-01-15", "2025-02-11"),
    row("from November to February", A, "2024-11-01", "2025-03-01"),
    row("from Q1 to Q3 2024", A, "2024-01-01", "2024-10-01"),
    row("from 2023 to 2024", A, "2023-01-01", "2025-01-01"),
    row("from March 2024 to June", A, "2024-03-01", "2024-07-01"),
    row("from March until today", A, "2025-03-01", "2025-07-16"),
    row("from Q1 to Q3 FY2025", A, "2024-04-01", "2025-01-01", fy=4),
    row("Q1 and Q2 2024", A, "2024-01-01", "2024-04-01"),
    row("January, February and March 2024", A, "2024-01-01", "2024-02-01"),
    row("December or January 2025", A, "2024-12-01", "2025-01-01"),
    # consecutive days of one month are one range; days with a gap are not read (a refusal)
    row("on December 30 or 31, 2024", A, "2024-12-30", "2025-01-01"),
    row("on 30 and 31 December 2024", A, "2024-12-30", "2025-01-01"),
    row("June 28, 29 and 30", A, "2025-06-28", "2025-07-01"),
    row("on Dec 1 and 15, 2024", A, None, None),
    row("on February 28 or 30, 2025", A, None, None),  # there is no February 30
    row("compare March to April", A, "2025-03-01", "2025-04-01"),  # two periods, not a range
    row("revenue in the 3 months to June 2025", A, "2025-04-01", "2025-07-01"),
    row("12 weeks ending 2025-06-29", A, "2025-04-07", "2025-06-30"),
    row("in the week of June 2", A, "2025-06-02", "2025-06-09"),
    # --- explicit dates ---------------------------------------------------------------------
    row("2025-06-30", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("June 30, 2025", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("30 June 2025", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("30th of June 2025", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("6/30/2025", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("on June 30", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("on June 30", "2025-06-15", "2024-06-30", "2024-07-01", point="2024-06-30"),
    row("on Feb 29", A, "2024-02-29", "2024-03-01", point="2024-02-29"),
    # --- points in time ---------------------------------------------------------------------
    row("MRR as of 2025-06-30", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("as of June 30", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("as at 31 March 2025", A, "2025-03-31", "2025-04-01", point="2025-03-31"),
    row("at the end of 2024", A, "2024-12-31", "2025-01-01", point="2024-12-31"),
    row("end of last quarter", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("end of March", A, "2025-03-31", "2025-04-01", point="2025-03-31"),
    row("end of March", "2025-03-10", "2024-03-31", "2024-04-01", point="2024-03-31"),
    row("by the end of Q2 2025", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("end of FY2025", A, "2025-03-31", "2025-04-01", point="2025-03-31", fy=4),
    row("at year end", A, "2024-12-31", "2025-01-01", point="2024-12-31"),
    row("at year end", "2025-12-31", "2025-12-31", "2026-01-01", point="2025-12-31"),
    row("at quarter end", "2025-03-31", "2025-03-31", "2025-04-01", point="2025-03-31"),
    row("month-end", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("as of this month", A, "2025-07-15", "2025-07-16", point="2025-07-15"),
    row("as of last month", A, "2025-06-30", "2025-07-01", point="2025-06-30"),
    row("as of today", A, "2025-07-15", "2025-07-16", point="2025-07-15"),
    row("customers currently", A, "2025-07-15", "2025-07-16", point="2025-07-15"),
    row("right now", A, "2025-07-15", "2025-07-16", point="2025-07-15"),
    # --- grains -----------------------------------------------------------------------------
    row("revenue by month", A, None, None, grain="month"),
    row("daily revenue", A, None, None, grain="day"),
    row("weekly signups", A, None, None, grain="week"),
    row("quarterly revenue", A, None, None, grain="quarter"),
    row("revenue annually", A, None, None, grain="year"),
    row("yearly totals", A, None, None, grain="year"),
    row("revenue per month", A, None, None, grain="month"),
    row("each day", A, None, None, grain="day"),
    row("month by month", A, None, None, grain="month"),
    row("month over month", A, None, None, grain="month"),
    row("MoM growth", A, None, None, grain="month"),
    row("QoQ growth", A, None, None, grain="quarter"),
    row("on a weekly basis", A, None, None, grain="week"),
    row("broken down by quarter", A, None, None, grain="quarter"),
    row("MRR by month this year", A, "2025-01-01", "2026-01-01", grain="month"),
    row("quarterly revenue in 2024", A, "2024-01-01", "2025-01-01", grain="quarter"),
    row("daily signups last week", A, "2025-07-07", "2025-07-14", grain="day"),
    # --- completed periods and ordinal months (issue 17) ---------------------------------------
    row("MRR last completed month", "2025-12-15", "2025-11-01", "2025-12-01"),
    row("the last full month", "2025-12-31", "2025-11-01", "2025-12-01"),
    row("the most recent complete quarter", "2025-12-15", "2025-07-01", "2025-10-01"),
    row("previous whole year", A, "2024-01-01", "2025-01-01"),
    row("the last finished week", A, "2025-07-07", "2025-07-14"),
    row("last complete fiscal year", A, "2024-04-01", "2025-04-01", fy=4),
    row("in the last month of the year 2025", "2025-12-31", "2025-12-01", "2026-01-01"),
    row("the last month of 2025", "2025-12-15", "2025-12-01", "2026-01-01"),
    row("the final month of last year", A, "2024-12-01", "2025-01-01"),
    row("the first month of 2024", A, "2024-01-01", "2024-02-01"),
    row("the 3rd month of FY2025", A, "2024-06-01", "2024-07-01", fy=4),
    row("the last month of the year", A, "2024-12-01", "2025-01-01"),
    row("the last quarter of the year 2024", A, "2024-10-01", "2025-01-01"),
    row("first half of the year 2024", A, "2024-01-01", "2024-07-01"),
    row("ARR at each year end", A, None, None, grain="year"),
    row("MRR at the end of every month in 2024", A, "2024-01-01", "2025-01-01", grain="month"),
    # --- negatives: nothing to parse --------------------------------------------------------
    row("revenue over time", A, None, None),
    row("revenue trend", A, None, None),
    row("top 10 customers", A, None, None),
    row("customers with a balance over $1,000", A, None, None),
    row("revenue in EUR", A, None, None),
    row("Q&A about refunds", A, None, None),
    row("revenue to date", A, None, None),
    row("revenue before 2025", A, None, None),
    row("revenue until June", A, None, None),
    row("revenue next month", A, None, None),
    row("forecast for the upcoming quarter", A, None, None),
    row("May I see the invoices", A, None, None),
    row("monthly recurring revenue", A, None, None),
    row("customers on monthly plans", A, None, None),
    row("subscriptions billed annually", A, None, None),
    row("weekly active users", A, None, None),
    row("invoices over 2000 EUR", A, None, None),
    row("top 2024 customers", A, None, None),
    row("$2,024 in fees", A, None, None),
    row("revenue in 1999", A, None, None),
    row("revenue in 2100", A, None, None),
    row("year over year growth", A, None, None),
    row("what is our churn?", A, None, None),
    row("last 0 days", A, None, None),
]


@pytest.mark.parametrize(("phrase", "as_of", "start", "end", "grain", "point", "fy", "ws"), ROWS)
def test_table(
    phrase: str,
    as_of: str,
    start: str | None,
    end: str | None,
    grain: str | None,
    point: str | None,
    fy: int,
    ws: int,
) -> None:
    m = parse_time(phrase, date.fromisoformat(as_of), fiscal_year_start_month=fy, week_start=ws)
    got = None if m.range is None else (m.range.start.isoformat(), m.range.end.isoformat())
    assert got == (None if start is None else (start, end))
    assert m.grain == grain
    assert m.point_in_time == (None if point is None else date.fromisoformat(point))
    if m.range is None and m.grain is None:
        assert m.spans == () and m.label == "" and m.assumptions == ()


def test_table_is_large() -> None:
    assert len(ROWS) >= 120


# --- spans ------------------------------------------------------------------------------------

SPAN_CASES = [
    ("What was revenue in March 2024 by month?", ["in March 2024", "by month"]),
    ("weekly gross volume over the last 12 weeks", ["weekly", "over the last 12 weeks"]),
    ("MRR as of 2025-06-30 for EU customers", ["as of 2025-06-30"]),
    ("refunds for the past 7 days, top 10 customers", ["for the past 7 days"]),
    ("compare Q1 2025 with Q1 2024", ["Q1 2025", "Q1 2024"]),
    ("What was MRR at the end of last month?", ["at the end of last month"]),
    ("revenue between Jan and Apr 2025 in EUR", ["between Jan and Apr 2025"]),
    ("Net volume YTD, month over month", ["YTD", "month over month"]),
    ("invoices from 2025-01-15 to 2025-02-10", ["from 2025-01-15 to 2025-02-10"]),
    ("top 10 customers", []),
]


@pytest.mark.parametrize(("text", "phrases"), SPAN_CASES)
def test_spans_slice_exactly_the_phrases(text: str, phrases: list[str]) -> None:
    m = parse_time(text, date(2025, 7, 15))
    assert [text[s:e] for s, e in m.spans] == phrases


def test_removing_spans_leaves_the_rest_of_the_question() -> None:
    text = "What was revenue in March 2024 by month for EU customers?"
    m = parse_time(text, date(2025, 7, 15))
    rest = text
    for s, e in reversed(m.spans):
        rest = rest[:s] + rest[e:]
    assert " ".join(rest.split()) == "What was revenue for EU customers?"


# --- multiple phrases, labels, assumptions ----------------------------------------------------


def test_multiple_ranges_first_is_primary() -> None:
    m = parse_time("compare Q1 2025 with Q1 2024", date(2025, 7, 15))
    assert m.range is not None and m.range.label == "Q1 2025"
    assert [(r.start, r.end) for r in m.all_ranges] == [
        (date(2025, 1, 1), date(2025, 4, 1)),
        (date(2024, 1, 1), date(2024, 4, 1)),
    ]


def test_the_period_before_a_previous_questions_period() -> None:
    june = TimeRange(start=date(2025, 6, 1), end=date(2025, 7, 1), label="June 2025")
    m = parse_time("what about the month before?", date(2025, 7, 15), previous=june)
    assert m.range is not None and (m.range.start, m.range.end) == (date(2025, 5, 1), june.start)
    assert m.spans == ((11, 27),)
    # without a previous period there is nothing to place it against: nothing is read
    assert parse_time("what about the month before?", date(2025, 7, 15)).range is None
    # a period in the question itself comes first
    m = parse_time("Q2 2025 and the quarter before", date(2025, 7, 15), previous=june)
    assert [(r.start, r.end) for r in m.all_ranges][1] == (date(2025, 1, 1), date(2025, 4, 1))


def test_the_one_before() -> None:
    m = parse_time("last quarter and the one before", date(2025, 7, 15))
    assert [(r.start, r.end) for r in m.all_ranges] == [
        (date(2025, 4, 1), date(2025, 7, 1)),
        (date(2025, 1, 1), date(2025, 4, 1)),
    ]


def test_labels_are_short_and_normalised() -> None:
    as_of = date(2025, 7, 15)
    assert parse_time("For THE previous quarter?", as_of).label == "last quarter"
    assert parse_time("revenue in march", as_of).label == "March 2025"
    assert parse_time("last three months", as_of).label == "last 3 months"
    assert parse_time("MRR by month this year", as_of).label == "this year, by month"
    assert parse_time("Q3 FY25", as_of, fiscal_year_start_month=4).label == "Q3 FY2025"
    assert parse_time("at the end of 2024", as_of).label == "end of 2024"


def assumptions(text: str, as_of: date, **kw: int) -> str:
    return " | ".join(parse_time(text, as_of, **kw).assumptions)


def test_assumption_for_month_without_year() -> None:
    got = assumptions("revenue in March", date(2025, 7, 15))
    assert "'March' without a year means March 2025" in got


def test_assumption_flags_incomplete_and_future_periods() -> None:
    as_of = date(2025, 3, 10)
    assert "not over yet" in assumptions("March", as_of)
    assert "not over yet" in assumptions("this year", as_of)
    assert "no data for it yet" in assumptions("December 2025", as_of)
    assert "not over" not in assumptions("last month", as_of)


def test_assumptions_document_the_decisions() -> None:
    as_of = date(2025, 7, 15)
    assert "12 complete weeks before the current one" in assumptions("last 12 weeks", as_of)
    assert "includes today" in assumptions("last 30 days", as_of)
    assert "previous complete week" in assumptions("last week", as_of)
    assert "whole year" in assumptions("this year", as_of)
    fiscal = assumptions("FY2025", as_of, fiscal_year_start_month=4)
    assert "calendar year in which they end" in fiscal and "2024-04-01 to 2025-03-31" in fiscal
    assert "takes its year from the end" in assumptions("Jan–Apr 2025", as_of)


def test_case_and_punctuation_tolerance() -> None:
    as_of = date(2025, 7, 15)
    for text in ("LAST QUARTER", "last-quarter?", "(last quarter)", "in the last quarter."):
        m = parse_time(text.replace("last-quarter", "last quarter"), as_of)
        assert m.range is not None and m.range.start == date(2025, 4, 1), text


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        parse_time("last month", date(2025, 1, 1), fiscal_year_start_month=13)
    with pytest.raises(ValueError):
        parse_time("last month", date(2025, 1, 1), week_start=7)


def test_time_match_defaults_to_nothing() -> None:
    assert parse_time("", date(2025, 1, 1)) == TimeMatch()


def test_package_never_reads_the_clock() -> None:
    package = Path(__file__).parents[1] / "app" / "understand" / "time"
    sources = sorted(package.glob("*.py"))
    assert len(sources) > 1
    for path in sources:
        source = path.read_text()
        assert not re.search(r"date\.today|datetime\.now|datetime\.utcnow|time\.time\(", source)


# --- previous_period / same_period_last_year / default_range ----------------------------------


def tr(start: str, end: str) -> TimeRange:
    return TimeRange(start=date.fromisoformat(start), end=date.fromisoformat(end), label="")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (tr("2025-03-01", "2025-04-01"), tr("2025-02-01", "2025-03-01")),  # month
        (tr("2025-01-01", "2025-02-01"), tr("2024-12-01", "2025-01-01")),
        (tr("2025-04-01", "2025-07-01"), tr("2025-01-01", "2025-04-01")),  # quarter
        (tr("2024-01-01", "2025-01-01"), tr("2023-01-01", "2024-01-01")),  # year
        (tr("2024-04-01", "2025-04-01"), tr("2023-04-01", "2024-04-01")),  # fiscal year
        (tr("2025-01-01", "2025-05-01"), tr("2024-09-01", "2025-01-01")),  # Jan-Apr
        (tr("2025-07-07", "2025-07-14"), tr("2025-06-30", "2025-07-07")),  # week
        (tr("2025-06-16", "2025-07-16"), tr("2025-05-17", "2025-06-16")),  # last 30 days
        (tr("2025-01-01", "2025-07-16"), tr("2024-06-19", "2025-01-01")),  # YTD: same length
    ],
)
def test_previous_period(given: TimeRange, expected: TimeRange) -> None:
    got = previous_period(given)
    assert (got.start, got.end) == (expected.start, expected.end)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (tr("2025-03-01", "2025-04-01"), tr("2024-03-01", "2024-04-01")),
        (tr("2025-02-01", "2025-03-01"), tr("2024-02-01", "2024-03-01")),  # gains Feb 29
        (tr("2024-02-01", "2024-03-01"), tr("2023-02-01", "2023-03-01")),
        (tr("2024-02-29", "2024-03-01"), tr("2023-02-28", "2023-03-01")),  # leap day
        (tr("2024-01-01", "2024-03-01"), tr("2023-01-01", "2023-03-01")),  # YTD on Feb 29
        (tr("2024-02-28", "2024-02-29"), tr("2023-02-28", "2023-03-01")),
        (tr("2025-07-07", "2025-07-14"), tr("2024-07-07", "2024-07-14")),
        (tr("2024-04-01", "2025-04-01"), tr("2023-04-01", "2024-04-01")),
    ],
)
def test_same_period_last_year(given: TimeRange, expected: TimeRange) -> None:
    got = same_period_last_year(given)
    assert (got.start, got.end) == (expected.start, expected.end)


def test_default_range_is_year_to_date() -> None:
    r = default_range(date(2025, 7, 15))
    assert (r.start, r.end, r.label) == (date(2025, 1, 1), date(2025, 7, 16), "year to date")
    r = default_range(date(2025, 1, 1))
    assert (r.start, r.end) == (date(2025, 1, 1), date(2025, 1, 2))


# --- Hypothesis properties --------------------------------------------------------------------

AS_OF = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
PERIOD_PHRASES = [
    "today", "yesterday", "this week", "last week", "this month", "last month", "this quarter",
    "last quarter", "this year", "last year", "the month before last", "3 quarters ago",
    "YTD", "MTD", "QTD", "WTD", "FYTD", "last 30 days", "last 12 weeks", "last 3 months",
    "last 2 quarters", "last 5 years", "TTM", "March", "February", "Feb 29", "June 30", "Q1",
    "Q4", "H2", "second half", "fiscal Q4", "last March", "this December", "this fiscal year",
    "last fiscal year", "last 3 fiscal quarters", "since March", "since last quarter",
    "from November to February", "end of March", "at year end", "end of the quarter", "EOM",
    "as of this month", "as of last month", "currently", "Q3 FY2025", "FY2030", "2024",
    "Jan–Apr 2025", "March last year", "the one before last",
]  # fmt: skip


@given(
    as_of=AS_OF,
    phrase=st.sampled_from(PERIOD_PHRASES),
    fy=st.integers(1, 12),
    ws=st.integers(0, 6),
)
def test_every_range_is_non_empty(as_of: date, phrase: str, fy: int, ws: int) -> None:
    m = parse_time(phrase, as_of, fiscal_year_start_month=fy, week_start=ws)
    for r in m.all_ranges:
        assert r.start < r.end
    if m.point_in_time is not None:
        assert m.range is not None
        assert (m.range.start, m.range.end) == (m.point_in_time, m.point_in_time + timedelta(1))


@given(as_of=AS_OF, fy=st.integers(1, 12), ws=st.integers(0, 6))
def test_periods_relate_to_as_of(as_of: date, fy: int, ws: int) -> None:
    kw: dict[str, int] = {"fiscal_year_start_month": fy, "week_start": ws}
    for unit in ("week", "month", "quarter", "year", "fiscal year"):
        this = parse_time(f"this {unit}", as_of, **kw).range
        last = parse_time(f"last {unit}", as_of, **kw).range
        assert this is not None and last is not None
        assert this.start <= as_of < this.end
        assert last.end == this.start
        assert (previous_period(this).start, previous_period(this).end) == (last.start, last.end)
    for abbr in ("YTD", "QTD", "MTD", "WTD"):
        r = parse_time(abbr, as_of, **kw).range
        assert r is not None and r.start <= as_of and r.end == as_of + timedelta(1)
    ending = parse_time("end of last month", as_of).point_in_time
    assert ending is not None and ending < as_of and (ending + timedelta(1)).day == 1


@given(as_of=AS_OF, n=st.integers(1, 400))
def test_last_n_days_has_n_days_including_today(as_of: date, n: int) -> None:
    r = parse_time(f"last {n} days", as_of).range
    assert r is not None
    assert (r.end - r.start).days == n
    assert r.end == as_of + timedelta(1)


@given(as_of=AS_OF, n=st.integers(1, 60), ws=st.integers(0, 6))
def test_last_n_weeks_are_complete_weeks(as_of: date, n: int, ws: int) -> None:
    r = parse_time(f"last {n} weeks", as_of, week_start=ws).range
    assert r is not None
    assert (r.end - r.start).days == 7 * n
    assert r.start.weekday() == ws and r.end <= as_of < r.end + timedelta(7)


@given(as_of=AS_OF, n=st.integers(1, 36))
def test_last_n_months_are_complete_months(as_of: date, n: int) -> None:
    r = parse_time(f"past {n} months", as_of).range
    assert r is not None
    assert r.start.day == 1 and r.end == as_of.replace(day=1)
    assert (r.end.year - r.start.year) * 12 + r.end.month - r.start.month == n


@given(start=AS_OF, days=st.integers(1, 800))
def test_previous_period_ends_where_the_range_starts(start: date, days: int) -> None:
    r = TimeRange(start=start, end=start + timedelta(days), label="")
    p = previous_period(r)
    assert p.end == r.start
    assert p.start < p.end
    if not (r.start.day == 1 and r.end.day == 1):
        assert p.end - p.start == r.end - r.start


@given(start=AS_OF, days=st.integers(1, 800))
def test_same_period_last_year_shifts_one_year(start: date, days: int) -> None:
    r = TimeRange(start=start, end=start + timedelta(days), label="")
    s = same_period_last_year(r)
    assert s.start < s.end
    leap_day = (start.month, start.day) == (2, 29)
    assert s.start == (
        date(start.year - 1, 2, 28) if leap_day else start.replace(year=start.year - 1)
    )
    assert abs((s.end - s.start).days - days) <= 1


@given(text=st.text(max_size=80), as_of=AS_OF)
def test_never_raises_and_spans_are_in_bounds(text: str, as_of: date) -> None:
    m = parse_time(text, as_of)
    last = 0
    for s, e in m.spans:
        assert last <= s < e <= len(text)
        last = e
    assert (m.range is None) == (m.all_ranges == ())
