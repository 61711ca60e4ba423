"""Time phrases in finance questions -> half-open date ranges, series grains and points in time.

Everything is relative to an explicit ``as_of`` date ("today"); the clock is never read.
Ranges are half-open ``[start, end)`` of local calendar dates; "to date" ranges end at
``as_of + 1 day``.  Weeks start on Monday (ISO) unless ``week_start`` (0 = Monday ... 6 = Sunday)
says otherwise.  Decisions for ambiguous phrases:

* "this week|month|quarter|year" is the whole calendar period ``[start, next start)`` (it may reach
  past as_of; an assumption says so); "WTD/MTD/QTD/YTD", "year to date", "so far this year",
  "since the start of the year" end at as_of + 1 day.  "this fiscal year" is likewise the whole
  fiscal year.
* "last|previous|prior|past <unit>" is the previous complete period ("last week" = the previous
  complete Monday-Sunday week); "the <unit> before last", "next-to-last <unit>" go two back;
  "N <units> ago" is the whole calendar period N back ("3 days ago" is one day).
* "last|past|previous|trailing|rolling N days" = ``[as_of - N + 1, as_of + 1)``, today included;
  "last N weeks|months|quarters|years" = the N complete periods before the current one (the
  current partial period is excluded); TTM/LTM = "last 12 months".
* "over the last N <units>" (N >= 2) also asks for a series at that grain; an explicit grain word
  ("monthly", "by week") wins over it.
* A month, quarter, half or day without a year is the most recent one that has started on or
  before as_of (it may be the current, incomplete one); "last March" is the most recent March
  that ended before as_of; "this March" is March of the current year.  In "from/between A
  to/and B" a missing year is taken from the other end, and in a list ("Q1 and Q2 2024",
  "January, February and March 2024") from the first item that has one.  A bare "May" needs a
  preposition ("in May") or a day/year.
* Plain quarters, halves and years ("Q3 2025", "this year") are calendar periods; fiscal ones need
  "fiscal", "FY" or "FQ".  A fiscal year starts on the first of ``fiscal_year_start_month`` and is
  named by the calendar year in which it ENDS (start month 4: FY2025 = 2024-04-01 .. 2025-03-31;
  "FY 2024/25" is FY2025).
* "since X" / "from X" (no end) = ``[start of X, as_of + 1)``; ranges include their end period
  ("Jan-Apr 2025" ends 2025-05-01; "to 2025-02-10" ends 2025-02-11); "the 3 months to June 2025"
  = the 3 months ending with June 2025; "the week of June 2" = the week containing that day.
* Points in time (end-of-day state): "as of X" -> the last day of X, but not after as_of when X
  is the current period; "end of X" -> the last day of X; a yearless X is the most recent one
  ended by as_of; "year end", "end of the quarter", "EOM" -> the most recent such end on or
  before as_of; any single day ("2025-06-30", "on June 30", "today", "yesterday", "currently")
  is also a point.  Point ranges are ``[day, day + 1)``.
* Grains: "by/per/each/every <unit>", "daily ... annually", "month by month", "month over month",
  "MoM", "QoQ", "WoW".  "year over year"/"YoY" (a comparison), "over time" and "trend" set no
  grain and are left in the text.  "monthly/annual" describing billing ("monthly plans", "billed
  annually", "monthly recurring revenue") is not a grain.
* Unmatched on purpose: "to date" alone, open-ended "before/until/after X", future phrases
  ("next month", "upcoming quarter", "tomorrow"), bare numbers ("top 10"), years outside
  2000-2099, and numbers that look like amounts or counts ("over 2000 invoices", "$2,024").
* Spans include a leading "in/during/for/over/within/throughout/on/of" and "the" so that removing
  them leaves a clean question.  Slash dates are M/D/YYYY unless the first number is above 12.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import cast

from app.core.plan import Grain, TimeRange
from app.understand.time.atoms import safe
from app.understand.time.dates import (
    DAY,
    Ctx,
    Unit,
    add_months,
    covers,
    month_range,
    part_range,
    shift,
    start_of,
    time_range,
)
from app.understand.time.hits import Hit
from app.understand.time.rules import rules


@dataclass(frozen=True)
class TimeMatch:
    """What ``parse_time`` found: first range, grain, point in time, spans, label, assumptions."""

    range: TimeRange | None = None
    grain: Grain | None = None
    point_in_time: date | None = None
    spans: tuple[tuple[int, int], ...] = ()
    label: str = ""
    assumptions: tuple[str, ...] = ()
    all_ranges: tuple[TimeRange, ...] = ()
    grain_implied: bool = False  # the grain only comes from "over the last N <units>"


def parse_time(
    text: str,
    as_of: date,
    *,
    fiscal_year_start_month: int = 1,
    week_start: int = 0,
    previous: TimeRange | None = None,
) -> TimeMatch:
    """Find the time phrases in ``text`` relative to ``as_of`` (see the module docstring).

    ``previous`` is the period of the question before (a follow-up's "the month before").
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, got {fiscal_year_start_month}")
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) .. 6 (Sunday), got {week_start}")
    ctx = Ctx(as_of, fiscal_year_start_month, week_start)
    return _assemble(_to_date_as_of(_select(_candidates(text, ctx)), text, ctx), ctx, previous)


def previous_period(r: TimeRange) -> TimeRange:
    """Return the period of the same length just before ``r`` (whole months shift by months)."""
    if r.start.day == 1 and r.end.day == 1:
        months = (r.end.year - r.start.year) * 12 + r.end.month - r.start.month
        start = add_months(r.start, -months)
    else:
        start = r.start - (r.end - r.start)
    return TimeRange(start=start, end=r.start, label=f"period before {r.label or 'the range'}")


def same_period_last_year(r: TimeRange) -> TimeRange:
    """Return ``r`` shifted back one year (Feb 29 -> Feb 28; month-aligned ends stay aligned)."""
    end = add_months(r.end, -12) if r.end.day == 1 else add_months(r.end - DAY, -12) + DAY
    label = f"{r.label or 'the range'}, a year earlier"
    return TimeRange(start=add_months(r.start, -12), end=end, label=label)


def default_range(as_of: date) -> TimeRange:
    """Return the range used when a question names no time: the year to date, as_of included."""
    return TimeRange(start=date(as_of.year, 1, 1), end=as_of + DAY, label="year to date")


def _candidates(text: str, ctx: Ctx) -> Iterator[tuple[int, int, int, Hit]]:
    """Every accepted match of every rule as (start, -length, rule priority, hit)."""
    lowered, gates = text.lower(), dict[str, bool]()
    for priority, rule in enumerate(rules()):
        opened = gates.get(rule.gate)
        if opened is None:
            opened = gates[rule.gate] = rule.may_match(text, lowered)
        if not opened:
            continue
        pos = 0
        while (m := rule.regex.search(text, pos)) is not None:
            hit = safe(rule.handle, m, ctx)
            if hit is None:
                pos = m.start() + 1
                continue
            yield m.start(), m.start() - m.end(), priority, replace(hit, span=m.span())
            pos = max(m.end(), m.start() + 1)


def _select(candidates: Iterator[tuple[int, int, int, Hit]]) -> list[Hit]:
    """Leftmost-longest non-overlapping matches (ties: earlier rule)."""
    chosen: list[Hit] = []
    last_end = 0
    for start, _neg_len, _prio, hit in sorted(candidates, key=lambda c: c[:3]):
        if start >= last_end:
            chosen.append(hit)
            last_end = hit.span[1]
    return [h for h in chosen if not h.blocked]


def _to_date_as_of(hits: list[Hit], text: str, ctx: Ctx) -> list[Hit]:
    """'Year-to-date as of 2025-06-30': the to-date period runs to the day said, not to as_of.

    The "as of" day becomes the to-date range's today; it is no point in time of its own.
    """
    points = [h for h in hits if h.point is not None and not h.to_date]
    if len(points) != 1 or not any(h.to_date for h in hits):
        return hits
    day = points[0].point
    assert day is not None
    if day >= ctx.as_of:
        return hits
    moved = Ctx(day, ctx.fy_start, ctx.week_start)
    again = {h.span: _said_day(h, day) for h in _select(_candidates(text, moved)) if h.to_date}
    said = Hit(span=points[0].span)
    return [said if h is points[0] else again.get(h.span, h) if h.to_date else h for h in hits]


def _said_day(hit: Hit, day: date) -> Hit:
    """A to-date hit resolved up to ``day``, its label and notes naming that day."""
    assert hit.range is not None
    r = hit.range.model_copy(update={"label": f"{hit.range.label} as of {day}"})
    notes = tuple(n.replace("(as_of, inclusive)", "(inclusive)") for n in hit.notes)
    return replace(hit, range=r, notes=notes)


def _resolve_anaphor(hit: Hit, previous: TimeRange | None, ctx: Ctx) -> Hit | None:
    if previous is None:
        return None
    r, label = previous_period(previous), f"the one before {previous.label}"
    said = hit.anaphor.split()[1]  # "the month before": month
    if said != "one":
        unit = cast(Unit, said)
        if shift(previous.start, unit, 1) >= previous.end:  # June, then "the year before": June
            r = TimeRange(start=shift(previous.start, unit, -1), end=shift(previous.end, unit, -1))
        else:  # Q2, then "the month before": March
            start = start_of(previous.start, unit, ctx)
            r = TimeRange(start=shift(start, unit, -1), end=start)
        label = _name_of(r, ctx) or f"the {said} before {previous.label}"
    elif hit.anaphor.endswith("last") and previous.end > ctx.end:
        r, label = previous_period(r), f"two before {previous.label}"  # "this quarter ... "
    r = time_range(r.start, r.end, label)
    return replace(hit, range=r, notes=(covers(r),))


def _name_of(r: TimeRange, ctx: Ctx) -> str | None:
    """The calendar name of a whole month, quarter or year ("May 2025", "Q1 2025"), if it is one."""
    if r.start.day != 1:
        return None
    if r.end == add_months(r.start, 1):
        return month_range(r.start.year, r.start.month).label
    units: tuple[tuple[Unit, int], ...] = (("quarter", 3), ("year", 12))
    for unit, months in units:
        if r.end == add_months(r.start, months) and (r.start.month - 1) % months == 0:
            return part_range(
                r.start.year, False, unit, (r.start.month - 1) // months + 1, ctx
            ).label
    return None


def _assemble(hits: list[Hit], ctx: Ctx, previous: TimeRange | None = None) -> TimeMatch:
    ranges: list[TimeRange] = []
    notes: list[str] = []
    spans: list[tuple[int, int]] = []
    grains: list[tuple[bool, Grain]] = []
    point: date | None = None
    for hit in hits:
        if hit.anaphor:
            resolved = _resolve_anaphor(hit, ranges[-1] if ranges else previous, ctx)
            if resolved is None:
                continue
            hit = resolved
        spans.append(hit.span)
        notes.extend(hit.notes)
        if hit.grain is not None:
            grains.append((hit.implied, hit.grain))
        if point is None:
            point = hit.point
        if hit.range is not None:
            ranges.append(hit.range)
            notes.extend(_progress_notes(hit.range, ctx))
    grain = min(grains, key=lambda g: g[0])[1] if grains else None
    label = "; ".join(r.label for r in ranges)
    if grain is not None:
        label = f"{label}, by {grain}" if label else f"by {grain}"
    return TimeMatch(
        range=ranges[0] if ranges else None,
        grain=grain,
        point_in_time=point,
        spans=tuple(spans),
        label=label,
        assumptions=tuple(dict.fromkeys(notes)),
        all_ranges=tuple(ranges),
        grain_implied=bool(grains) and all(implied for implied, _ in grains),
    )


def _progress_notes(r: TimeRange, ctx: Ctx) -> tuple[str, ...]:
    if r.start > ctx.as_of:
        return (f"'{r.label}' starts after as_of ({ctx.as_of}): there is no data for it yet",)
    if r.end > ctx.end:
        return (f"'{r.label}' is not over yet: data only runs to {ctx.as_of} (as_of)",)
    return ()
