"""Calendar arithmetic: month shifts, period starts, fiscal years, labelled ranges and notes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from app.core.plan import Grain, TimeRange

Unit = Literal["day", "week", "month", "quarter", "half", "year"]

DAY: Final = timedelta(days=1)
_MONTHS_PER: Final[dict[str, int]] = {"month": 1, "quarter": 3, "half": 6, "year": 12}
MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GRAIN_OF: Final[dict[str, Grain]] = {
    "day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year",
}  # fmt: skip


@dataclass(frozen=True)
class Ctx:
    """The reference points of one parse: as_of (today), fiscal-year start month, week start."""

    as_of: date
    fy_start: int
    week_start: int

    @property
    def end(self) -> date:
        """The exclusive end of a range that runs to as_of inclusive."""
        return self.as_of + DAY


def add_months(d: date, n: int) -> date:
    """Shift ``d`` by ``n`` months, clamping the day to the target month's length."""
    y, m0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m0 + 1, min(d.day, calendar.monthrange(y, m0 + 1)[1]))


def shift(d: date, unit: Unit, n: int) -> date:
    """Shift ``d`` by ``n`` units."""
    if unit == "day":
        return d + timedelta(days=n)
    if unit == "week":
        return d + timedelta(weeks=n)
    return add_months(d, n * _MONTHS_PER[unit])


def start_of(d: date, unit: Unit, ctx: Ctx, fiscal: bool = False) -> date:
    """The first day of the (calendar or fiscal) ``unit`` holding ``d``."""
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=(d.weekday() - ctx.week_start) % 7)
    idx = d.year * 12 + d.month - 1
    idx -= (idx - (ctx.fy_start - 1 if fiscal else 0)) % _MONTHS_PER[unit]
    return date(idx // 12, idx % 12 + 1, 1)


def fy_of(d: date, ctx: Ctx) -> int:
    """The fiscal year holding ``d``, named by the calendar year in which it ends."""
    return d.year + (1 if ctx.fy_start != 1 and d.month >= ctx.fy_start else 0)


def _year_first(y: int, fiscal: bool, ctx: Ctx) -> date:
    if fiscal and ctx.fy_start != 1:
        return date(y - 1, ctx.fy_start, 1)
    return date(y, 1, 1)


def cal_year(y: int, month: int, fiscal: bool, ctx: Ctx) -> int:
    """The calendar year of ``month`` in (fiscal) year ``y``."""
    return y - 1 if fiscal and ctx.fy_start != 1 and month >= ctx.fy_start else y


def time_range(start: date, end: date, label: str) -> TimeRange:
    """A labelled half-open range ``[start, end)``."""
    return TimeRange(start=start, end=end, label=label)


def day_range(d: date, label: str = "") -> TimeRange:
    """The one-day range of ``d``."""
    return time_range(d, d + DAY, label or d.isoformat())


def month_range(y: int, m: int) -> TimeRange:
    """The calendar month ``m`` of year ``y``."""
    s = date(y, m, 1)
    return time_range(s, add_months(s, 1), f"{MONTH_NAMES[m - 1]} {y}")


def part_range(y: int, fiscal: bool, unit: Unit, idx: int, ctx: Ctx) -> TimeRange:
    """Quarter/half ``idx`` (1-based) or the whole year of calendar or fiscal year ``y``."""
    s = add_months(_year_first(y, fiscal, ctx), (idx - 1) * _MONTHS_PER[unit])
    name = f"FY{y}" if fiscal else str(y)
    label = {"quarter": f"Q{idx} {name}", "half": f"H{idx} {name}"}.get(unit, name)
    return time_range(s, shift(s, unit, 1), label)


def last_day(r: TimeRange) -> date:
    """The last day inside ``r``."""
    return r.end - DAY


def covers(r: TimeRange) -> str:
    """The assumption text naming the first and last day of ``r``."""
    return f"'{r.label}' covers {r.start} to {last_day(r)}"


def fiscal_note(ctx: Ctx) -> tuple[str, ...]:
    """The assumption explaining fiscal years, when they are not calendar years."""
    if ctx.fy_start == 1:
        return ()
    return (
        f"fiscal years start on {MONTH_NAMES[ctx.fy_start - 1]} 1 and are named by the "
        "calendar year in which they end",
    )


def calendar_note(label: str, unit: Unit, ctx: Ctx) -> tuple[str, ...]:
    """The assumption that a plain quarter/half/year is a calendar one, when fiscal years differ."""
    if ctx.fy_start == 1 or unit not in ("quarter", "half", "year"):
        return ()
    month = MONTH_NAMES[ctx.fy_start - 1]
    return (f"'{label}' is a calendar {unit}; the fiscal year starts in {month}",)
