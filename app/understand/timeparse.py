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

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final, Literal, TypeVar

from app.core.plan import Grain, TimeRange

__all__ = ["TimeMatch", "default_range", "parse_time", "previous_period", "same_period_last_year"]

_Unit = Literal["day", "week", "month", "quarter", "half", "year"]
_T = TypeVar("_T")

_DAY: Final = timedelta(days=1)
_MONTHS_PER: Final[dict[str, int]] = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_GRAIN_OF: Final[dict[str, Grain]] = {
    "day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year",
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


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


def parse_time(
    text: str, as_of: date, *, fiscal_year_start_month: int = 1, week_start: int = 0
) -> TimeMatch:
    """Find the time phrases in ``text`` relative to ``as_of`` (see the module docstring)."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, got {fiscal_year_start_month}")
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) .. 6 (Sunday), got {week_start}")
    ctx = _Ctx(as_of, fiscal_year_start_month, week_start)
    return _assemble(_select(_candidates(text, ctx)), ctx)


def previous_period(r: TimeRange) -> TimeRange:
    """Return the period of the same length just before ``r`` (whole months shift by months)."""
    if r.start.day == 1 and r.end.day == 1:
        months = (r.end.year - r.start.year) * 12 + r.end.month - r.start.month
        start = _add_months(r.start, -months)
    else:
        start = r.start - (r.end - r.start)
    return TimeRange(start=start, end=r.start, label=f"period before {r.label or 'the range'}")


def same_period_last_year(r: TimeRange) -> TimeRange:
    """Return ``r`` shifted back one year (Feb 29 -> Feb 28; month-aligned ends stay aligned)."""
    end = _add_months(r.end, -12) if r.end.day == 1 else _add_months(r.end - _DAY, -12) + _DAY
    label = f"{r.label or 'the range'}, a year earlier"
    return TimeRange(start=_add_months(r.start, -12), end=end, label=label)


def default_range(as_of: date) -> TimeRange:
    """Return the range used when a question names no time: the year to date, as_of included."""
    return TimeRange(start=date(as_of.year, 1, 1), end=as_of + _DAY, label="year to date")


# ---------------------------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    as_of: date
    fy_start: int
    week_start: int

    @property
    def end(self) -> date:
        return self.as_of + _DAY


def _add_months(d: date, n: int) -> date:
    y, m0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m0 + 1, min(d.day, calendar.monthrange(y, m0 + 1)[1]))


def _shift(d: date, unit: _Unit, n: int) -> date:
    if unit == "day":
        return d + timedelta(days=n)
    if unit == "week":
        return d + timedelta(weeks=n)
    return _add_months(d, n * _MONTHS_PER[unit])


def _start_of(d: date, unit: _Unit, ctx: _Ctx, fiscal: bool = False) -> date:
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=(d.weekday() - ctx.week_start) % 7)
    idx = d.year * 12 + d.month - 1
    idx -= (idx - (ctx.fy_start - 1 if fiscal else 0)) % _MONTHS_PER[unit]
    return date(idx // 12, idx % 12 + 1, 1)


def _fy_of(d: date, ctx: _Ctx) -> int:
    return d.year + (1 if ctx.fy_start != 1 and d.month >= ctx.fy_start else 0)


def _year_first(y: int, fiscal: bool, ctx: _Ctx) -> date:
    if fiscal and ctx.fy_start != 1:
        return date(y - 1, ctx.fy_start, 1)
    return date(y, 1, 1)


def _cal_year(y: int, month: int, fiscal: bool, ctx: _Ctx) -> int:
    return y - 1 if fiscal and ctx.fy_start != 1 and month >= ctx.fy_start else y


def _tr(start: date, end: date, label: str) -> TimeRange:
    return TimeRange(start=start, end=end, label=label)


def _day_range(d: date, label: str = "") -> TimeRange:
    return _tr(d, d + _DAY, label or d.isoformat())


def _month_range(y: int, m: int) -> TimeRange:
    s = date(y, m, 1)
    return _tr(s, _add_months(s, 1), f"{_MONTH_NAMES[m - 1]} {y}")


def _part_range(y: int, fiscal: bool, unit: _Unit, idx: int, ctx: _Ctx) -> TimeRange:
    """Quarter/half ``idx`` (1-based) or the whole year of calendar or fiscal year ``y``."""
    s = _add_months(_year_first(y, fiscal, ctx), (idx - 1) * _MONTHS_PER[unit])
    name = f"FY{y}" if fiscal else str(y)
    label = {"quarter": f"Q{idx} {name}", "half": f"H{idx} {name}"}.get(unit, name)
    return _tr(s, _shift(s, unit, 1), label)


def _last_day(r: TimeRange) -> date:
    return r.end - _DAY


def _covers(r: TimeRange) -> str:
    return f"'{r.label}' covers {r.start} to {_last_day(r)}"


def _fiscal_note(ctx: _Ctx) -> tuple[str, ...]:
    if ctx.fy_start == 1:
        return ()
    return (
        f"fiscal years start on {_MONTH_NAMES[ctx.fy_start - 1]} 1 and are named by the "
        "calendar year in which they end",
    )


def _calendar_note(label: str, unit: _Unit, ctx: _Ctx) -> tuple[str, ...]:
    if ctx.fy_start == 1 or unit not in ("quarter", "half", "year"):
        return ()
    month = _MONTH_NAMES[ctx.fy_start - 1]
    return (f"'{label}' is a calendar {unit}; the fiscal year starts in {month}",)


# ---------------------------------------------------------------------------------------------
# Periods: what an atom (a self-contained period phrase) resolves to
# ---------------------------------------------------------------------------------------------

_Make = Callable[[int, bool], TimeRange | None]


@dataclass(frozen=True)
class _Period:
    range: TimeRange
    day: bool = False
    make: _Make | None = None  # yearless phrases: the occurrence in (calendar|fiscal) year y
    fiscal: bool = False
    said: str = ""
    notes: tuple[str, ...] = ()
    fy: int | None = None  # the fiscal year an explicitly fiscal period belongs to


def _latest(p: _Period, ctx: _Ctx, before: date, *, ended: date | None = None) -> TimeRange | None:
    """Most recent occurrence of a yearless period starting by ``before`` (ending by ``ended``)."""
    assert p.make is not None
    base = _fy_of(before, ctx) if p.fiscal else before.year
    for y in range(base + 1, base - 9, -1):
        r = p.make(y, p.fiscal)
        if r is not None and (r.start <= before if ended is None else r.end <= ended):
            return r
    return None


def _earliest(p: _Period, ctx: _Ctx, after: date) -> TimeRange | None:
    """First occurrence of a yearless period that starts on or after ``after``."""
    assert p.make is not None
    base = _fy_of(after, ctx) if p.fiscal else after.year
    for y in range(base - 1, base + 9):
        r = p.make(y, p.fiscal)
        if r is not None and r.start >= after:
            return r
    return None


def _yearless(said: str, make: _Make, fiscal: bool, ctx: _Ctx, *, day: bool = False) -> _Period:
    p = _Period(_day_range(ctx.as_of), day=day, make=make, fiscal=fiscal, said=said)
    r = _latest(p, ctx, ctx.as_of)
    if r is None:
        raise ValueError(said)
    when = "not after" if day else "that started on or before"
    note = f"'{said}' without a year means {r.label}, the most recent {said} {when} {ctx.as_of}"
    return replace(p, range=r, notes=(note, *(_fiscal_note(ctx) if fiscal else ())))


def _maker(fn: Callable[[int, bool], TimeRange]) -> _Make:
    def make(y: int, fiscal: bool) -> TimeRange | None:
        try:
            return fn(y, fiscal)
        except ValueError:
            return None

    return make


# ---------------------------------------------------------------------------------------------
# Regex building blocks
# ---------------------------------------------------------------------------------------------


def _words_list(text: str) -> list[str]:
    return text.split()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MON_ABBR: Final = tuple(name[:3].lower() for name in _MONTH_NAMES)
_SMALL: Final[dict[str, int]] = {
    w: i
    for i, w in enumerate(
        _words_list(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen"
        )
    )
    if i
}
_TENS: Final[dict[str, int]] = {
    w: 10 * i
    for i, w in enumerate(_words_list("twenty thirty forty fifty sixty seventy eighty ninety"), 2)
}
_ONES_RX = "|".join(w for w, v in _SMALL.items() if v < 10)
_NUM = (
    r"(?:\d{1,4}(?!\d)|(?:"
    + "|".join(_TENS)
    + r")(?:[\s-]+(?:"
    + _ONES_RX
    + r"))?|"
    + "|".join(sorted(_SMALL, key=len, reverse=True))
    + r")(?![a-z])"
)
_UNITS = (
    r"(?:days?|weeks?|wks?|months?|mos?|mths?|quarters?|qtrs?|half[\s-]+years?|halves|years?|yrs?)"
)
_UNIT1 = r"(?:week|wk|month|mth|mo|quarter|qtr|half[\s-]+year|half|year|yr|fy)"
_PERIOD_UNIT = r"(?:year|quarter|month|week)"
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])(?:\.(?=\s*\d))?"
)
_YEAR_AFTER = r"(?:,?\s*(?P<y>20\d\d)(?!\d)|\s*['’](?P<yy>\d\d)(?!\d))"
_DD = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d])"
_YS = (
    r"(?:(?:cy\s*|calendar\s+(?:year\s+)?)?(?P<cy>20\d\d)(?!\d)|['’](?P<yy>\d\d)(?!\d)"
    r"|(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d)(?!\d)"
    r"|(?P<rel>this|current|last|previous|prior)\s+(?P<relf>fiscal\s+|calendar\s+)?"
    r"(?:year|(?P<relfy>fy))(?!\w))"
)
_YS_REL = (
    r"(?P<rel>this|current|last|previous|prior)\s+(?P<relf>fiscal\s+|calendar\s+)?"
    r"(?:year|(?P<relfy>fy))(?!\w)"
)
_QTOK = (
    r"(?P<fpre>fiscal\s+)?(?:(?P<fq>f)?q(?P<q>[1-4])(?=fy|[^\w&]|$)"
    r"|(?P<qo>first|second|third|fourth|last|final|1st|2nd|3rd|4th)\s+(?P<qf>fiscal\s+)?"
    r"(?:quarter|qtr)(?!\w))"
)
_HTOK = (
    r"(?P<fpre>fiscal\s+)?(?:h(?P<h>[12])(?=fy|[^\w&]|$)"
    r"|(?P<ho>first|second|last|1st|2nd)\s+(?P<hf>fiscal\s+)?half"
    r"(?:[\s-]+(?:of\s+(?:the\s+)?)?year(?!\s*(?:20\d\d|['’]\d\d)))?(?!\w))"
)
_YS_SEP = r"(?:\s*[,/-]\s*|\s+(?:of\s+)?(?:the\s+)?|\s*)"
_ORDINALS: Final[dict[str, int]] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "last": 4, "final": 4,
}  # fmt: skip
_COUNT_WORDS: Final = _words(
    "top bottom than least most exceeding exceeds exceed largest biggest smallest best worst "
    "first last next"
)
_AMOUNT_AFTER = re.compile(
    r"\s*(?:%|percent\b|[kmb]\b|bn\b|(?:usd|eur|gbp|chf|jpy|cad|aud|dollars?|euros?|pounds?)\b"
    r"|(?:customers?|invoices?|users?|subscriptions?|subscribers?|accounts?|charges?|payments?"
    r"|orders?|units?|rows?|records?|transactions?|refunds?|disputes?|seats?|items?|products?)\b)",
    re.IGNORECASE,
)
_MAY_OK_BEFORE: Final = _words(
    "in since from during for of until till to through between and last this early mid late end "
    "before after on vs versus with or"
)
_PRONOUNS: Final = _words("i we you they he she it which that who this")
_MAY_VERBS: Final = _words("be have not also need want still well show help")
_WORD_BEFORE = re.compile(r"([a-z]+)[^a-z0-9]*$", re.IGNORECASE)
_WORD_AFTER = re.compile(r"[^a-z0-9]*([a-z]+)", re.IGNORECASE)


def _word_before(text: str, i: int) -> str:
    m = _WORD_BEFORE.search(text, max(0, i - 40), i)
    return m.group(1).lower() if m else ""


def _word_after(text: str, i: int) -> str:
    m = _WORD_AFTER.match(text, i)
    return m.group(1).lower() if m else ""


def _unnamed(rx: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", rx)


def _num(word: str) -> int:
    w = word.lower()
    if w.isdigit():
        return int(w)
    if w in ("a", "an"):
        return 1
    return sum(_TENS.get(p, _SMALL.get(p, 0)) for p in re.split(r"[\s-]+", w))


def _unit_of(word: str) -> _Unit:
    w = word.lower()
    for prefix, unit in (("d", "day"), ("w", "week"), ("m", "month"), ("q", "quarter")):
        if w.startswith(prefix):
            return unit  # type: ignore[return-value]
    return "half" if w.startswith("h") else "year"


def _month_of(m: re.Match[str]) -> int:
    return _MON_ABBR.index(m["mon"][:3].lower()) + 1


def _year_of(m: re.Match[str]) -> int | None:
    if m["y"]:
        return int(m["y"])
    return 2000 + int(m["yy"]) if m["yy"] else None


def _year_spec(m: re.Match[str], ctx: _Ctx) -> tuple[int, bool] | None:
    """Return the year a ``_YS`` group names, as (year, fiscal), or None."""
    g = m.groupdict()
    if g.get("cy"):
        return int(g["cy"]), False
    if g.get("yy"):
        return 2000 + int(g["yy"]), False
    if g.get("fy"):
        return int(g["fy"]) % 100 + 2000, True
    if g.get("rel"):
        fiscal = bool(g.get("relfy")) or (g.get("relf") or "").strip().lower() == "fiscal"
        base = _fy_of(ctx.as_of, ctx) if fiscal else ctx.as_of.year
        return base - (0 if g["rel"].lower() in ("this", "current") else 1), fiscal
    return None


# ---------------------------------------------------------------------------------------------
# Atoms: self-contained period phrases, usable alone or inside ranges / "since" / "as of"
# ---------------------------------------------------------------------------------------------

_Resolver = Callable[[re.Match[str], _Ctx], _Period | None]


def _day_atom(d: date) -> _Period:
    return _Period(_day_range(d), day=True)


def _r_iso(m: re.Match[str], ctx: _Ctx) -> _Period:
    return _day_atom(date(int(m["y"]), int(m["m"]), int(m["d"])))


def _r_slash(m: re.Match[str], ctx: _Ctx) -> _Period:
    a, b, y = int(m["m"]), int(m["d"]), int(m["y"]) % 100 + 2000
    return _day_atom(date(y, b, a) if a > 12 >= b else date(y, a, b))


def _r_month_day(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    month, day, year = _month_of(m), int(m["d"]), _year_of(m)
    if _word_before(m.string, min(m.start("d"), m.start("mon"))) in _COUNT_WORDS:
        return None
    if year is not None:
        return _day_atom(date(year, month, day))
    date(2000, month, day)  # validate (2000 is a leap year)

    def make(y: int, fiscal: bool) -> TimeRange:
        return _day_range(date(_cal_year(y, month, fiscal, ctx), month, day))

    return _yearless(f"{_MONTH_NAMES[month - 1]} {day}", _maker(make), False, ctx, day=True)


def _r_month_year(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    year = _year_of(m)
    return None if year is None else _Period(_month_range(year, _month_of(m)))


def _r_year_month(m: re.Match[str], ctx: _Ctx) -> _Period:
    return _Period(_month_range(int(m["y"]), int(m["m"])))


def _r_month(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    month = _month_of(m)
    if m["mon"].lower() == "may" and not _may_is_month(m):
        return None

    def make(y: int, fiscal: bool) -> TimeRange:
        return _month_range(_cal_year(y, month, fiscal, ctx), month)

    return _yearless(_MONTH_NAMES[month - 1], _maker(make), False, ctx)


def _may_is_month(m: re.Match[str]) -> bool:
    """'May' the month vs 'may' the verb: needs a preposition before it or a capital M."""
    if m.string == m.group(0):
        return True  # an endpoint inside a range/since/as-of phrase
    prev = _word_before(m.string, m.start("mon"))
    if prev in _MAY_OK_BEFORE:
        return True
    if prev in _PRONOUNS or _word_after(m.string, m.end("mon")) in _PRONOUNS | _MAY_VERBS:
        return False
    return m.string[m.start("mon")] == "M"


def _r_part(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    """Quarters and halves: 'Q3', 'Q3 2025', 'Q3 FY25', 'third quarter of 2024', 'H1', ..."""
    names = m.groupdict()
    unit: _Unit = "quarter" if names.get("q") or names.get("qo") else "half"
    word = (names.get("qo") or names.get("ho") or "").lower()
    idx = int(names.get("q") or names.get("h") or 0) or _ORDINALS[word]
    if unit == "half" and word == "last":
        idx = 2
    fiscal = any(names.get(k) for k in ("fpre", "fq", "qf", "hf"))
    spec = _year_spec(m, ctx) if "cy" in names else None
    if spec is None and names.get("fy"):
        spec = int(names["fy"]) % 100 + 2000, True
    if spec is None and names.get("y4"):
        spec = int(names["y4"]), False
    if spec is None:
        if word in ("last", "final"):
            return None  # "last quarter" / "last half" are relative periods
        said = ("fiscal " if fiscal else "") + f"{'Q' if unit == 'quarter' else 'H'}{idx}"

        def make(y: int, fisc: bool) -> TimeRange:
            return _part_range(y, fisc, unit, idx, ctx)

        return _yearless(said, _maker(make), fiscal, ctx)
    year, spec_fiscal = spec
    fiscal = fiscal or spec_fiscal
    r = _part_range(year, fiscal, unit, idx, ctx)
    notes = (_covers(r), *_fiscal_note(ctx)) if fiscal else _calendar_note(r.label, unit, ctx)
    return _Period(r, notes=notes, fy=year if fiscal else None)


def _r_year(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    raw = m["y"] or m["y1"] or m["y2"]
    if m["y"]:
        if _word_before(m.string, m.start("y")) in _COUNT_WORDS:
            return None
        if _AMOUNT_AFTER.match(m.string, m.end()):
            return None
    r = _part_range(int(raw), False, "year", 1, ctx)
    return _Period(r, notes=_calendar_note(r.label, "year", ctx))


def _r_fiscal_year(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    year = int(m["fy"]) % 100 + 2000
    if m["fy2"]:  # "FY 2024/25" names both calendar years; we name it by the one it ends in
        if int(m["fy2"]) % 100 != (year + 1) % 100:
            return None
        year += 1
    r = _part_range(year, True, "year", 1, ctx)
    notes = (_covers(r), *_fiscal_note(ctx)) if ctx.fy_start != 1 else ()
    return _Period(r, notes=notes, fy=year)


def _relative(unit: _Unit, fiscal: bool, step: int, ctx: _Ctx, label: str = "") -> _Period:
    """Return the whole period ``step`` periods from the one holding as_of (0 = current)."""
    fiscal = fiscal and unit in ("quarter", "half", "year")
    noun = ("fiscal " if fiscal else "") + ("half-year" if unit == "half" else unit)
    label = label or {0: f"this {noun}", -1: f"last {noun}", -2: f"the {noun} before last"}.get(
        step, f"{-step} {noun}s ago"
    )
    start = _shift(_start_of(ctx.as_of, unit, ctx, fiscal), unit, step)
    r = _tr(start, _shift(start, unit, 1), label)
    if unit == "day":
        return _Period(r, day=True)
    note = _covers(r)
    if unit == "week":
        last = _last_day(r)
        note += f" ({_WEEKDAYS[start.weekday()]} to {_WEEKDAYS[last.weekday()]})"
        if step == -1:
            note = f"'last week' is the previous complete week: {note.split(' covers ')[1]}"
    elif step == 0:
        note = f"'{label}' is the whole {noun}, {start} to {_last_day(r)} (not only to date)"
    extra = _fiscal_note(ctx) if fiscal else _calendar_note(label, unit, ctx)
    return _Period(r, notes=(note, *extra))


def _r_relative(m: re.Match[str], ctx: _Ctx) -> _Period:
    rel = re.sub(r"[\s-]+", " ", m["rel"].lower())
    step = {"this": 0, "current": 0}.get(
        rel, -1 if rel in ("last", "previous", "prior", "past") else -2
    )
    word = m["u"].lower()
    fiscal = word == "fy" or (m["kind"] or "").strip().lower() == "fiscal"
    return _relative(_unit_of(word) if word != "fy" else "year", fiscal, step, ctx)


def _r_before_last(m: re.Match[str], ctx: _Ctx) -> _Period:
    word = m["u"].lower()
    fiscal = word == "fy" or (m["kind"] or "").strip().lower() == "fiscal"
    return _relative(_unit_of(word) if word != "fy" else "year", fiscal, -2, ctx)


def _r_ago(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    n = _num(m["n"])
    if n < 1:
        return None
    unit = _unit_of(m["u"])
    if unit == "day":
        d = ctx.as_of - timedelta(days=n)
        return _Period(_day_range(d, f"{n} day{'s' if n > 1 else ''} ago"), day=True)
    fiscal = (m["kind"] or "").strip().lower() == "fiscal" and unit in ("quarter", "year")
    noun = ("fiscal " if fiscal else "") + unit
    return _relative(unit, fiscal, -n, ctx, f"{n} {noun}{'s' if n > 1 else ''} ago")


def _r_today(m: re.Match[str], ctx: _Ctx) -> _Period:
    word = m["w"].lower()
    back = 0 if word.startswith("today") else 1 if word.startswith("yesterday") else 2
    label = ("today", "yesterday", "the day before yesterday")[back]
    return _Period(_day_range(ctx.as_of - timedelta(days=back), label), day=True)


def _r_of_year(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    """Resolve a yearless month/day plus 'last year', 'this fiscal year' ('March last year')."""
    p = _parse_period(m["a"], ctx)
    spec = _year_spec(m, ctx)
    if p is None or p.make is None or spec is None:
        return None
    r = p.make(*spec)
    return None if r is None else _Period(r, day=p.day)


def _r_rel_yearless(m: re.Match[str], ctx: _Ctx) -> _Period | None:
    """'last March', 'this Q3', 'last H2': the most recent complete one / the current year's."""
    p = _parse_period(m["a"], ctx)
    if p is None or p.make is None:
        return None
    if m["rel"].lower() == "this":
        r = p.make(_fy_of(ctx.as_of, ctx) if p.fiscal else ctx.as_of.year, p.fiscal)
        return None if r is None else _Period(r, day=p.day)
    r = _latest(p, ctx, ctx.as_of, ended=ctx.as_of)
    if r is None:
        return None
    note = f"'last {p.said}' means {r.label}, the most recent {p.said} that ended before as_of"
    return _Period(r, day=p.day, notes=(note,))


@dataclass(frozen=True)
class _Atom:
    core: str
    resolve: _Resolver


_MONTH_DAY = _MON + r"\s+" + _DD + _YEAR_AFTER + "?"
_DAY_MONTH = r"(?<![\d.,$€£])" + _DD + r"\s+(?:of\s+)?" + _MON + _YEAR_AFTER + "?"
_MONTH_BARE = r"(?:month\s+of\s+)?" + _MON

# Order matters inside the range/since/as-of unions (first alternative that fits wins), so the
# longer forms come first.
_ATOMS: Final[tuple[_Atom, ...]] = (
    _Atom(
        r"(?P<a>" + "|".join(_unnamed(x) for x in (_MONTH_DAY, _DAY_MONTH, _MONTH_BARE)) + r")"
        r"\s*,?\s+(?:of\s+)?(?:the\s+)?" + _YS_REL,
        _r_of_year,
    ),
    _Atom(
        r"(?P<rel>last|this|previous)\s+(?P<a>"
        + "|".join(_unnamed(x) for x in (_QTOK, _HTOK, _MONTH_BARE))
        + ")",
        _r_rel_yearless,
    ),
    _Atom(r"(?P<y>20\d\d)[-/](?P<m>[01]?\d)[-/](?P<d>[0-3]?\d)(?!\d)", _r_iso),
    _Atom(r"(?<![\d/])(?P<m>[0-3]?\d)/(?P<d>[0-3]?\d)/(?P<y>20\d\d|\d\d)(?![\d/])", _r_slash),
    _Atom(_MONTH_DAY, _r_month_day),
    _Atom(_DAY_MONTH, _r_month_day),
    _Atom(r"(?:month\s+of\s+)?" + _MON + r"(?:\s+of)?" + _YEAR_AFTER, _r_month_year),
    _Atom(r"(?P<y>20\d\d)[-/](?P<m>0[1-9]|1[0-2])(?!\d|[-/]\d)", _r_year_month),
    _Atom(
        r"(?:(?P<y4>20\d\d)|(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d))\s*[-/]?\s*"
        r"(?:(?P<fq>f)?q(?P<q>[1-4])|h(?P<h>[12]))(?!\w)",
        _r_part,
    ),
    _Atom(_QTOK + r"(?:" + _YS_SEP + _YS + r")?", _r_part),
    _Atom(_HTOK + r"(?:" + _YS_SEP + _YS + r")?", _r_part),
    _Atom(
        r"(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d)(?:[/-](?P<fy2>(?:20)?\d\d))?(?!\d)",
        _r_fiscal_year,
    ),
    _Atom(
        r"(?:(?:calendar\s+)?year\s+(?P<y1>20\d\d)|cy\s*(?P<y2>20\d\d)"
        r"|(?<![\w$€£./])(?<!\d,)(?P<y>20\d\d))(?![\d%]|[.,]\d|-\d{1,2}(?!\d))",
        _r_year,
    ),
    _Atom(
        r"(?P<rel>this|current|last|previous|prior|past|next[\s-]+to[\s-]+last"
        r"|second[\s-]+to[\s-]+last|penultimate)\s+(?P<kind>fiscal\s+|calendar\s+)?(?P<u>"
        + _UNIT1
        + r")(?!\w)",
        _r_relative,
    ),
    _Atom(
        r"(?P<kind>fiscal\s+|calendar\s+)?(?P<u>" + _UNIT1 + r")\s+before\s+(?:the\s+)?last",
        _r_before_last,
    ),
    _Atom(
        r"(?P<n>" + _NUM + r"|an?)\s+(?P<kind>fiscal\s+|calendar\s+)?(?P<u>"
        r"days?|weeks?|months?|quarters?|years?)\s+ago",
        _r_ago,
    ),
    _Atom(r"(?P<w>today|yesterday|day\s+before\s+yesterday)", _r_today),
    _Atom(_MONTH_BARE, _r_month),
)
_PERIOD: Final = "(?:" + "|".join(_unnamed(a.core) for a in _ATOMS) + ")"
_ATOM_FULL: Final = tuple((re.compile(a.core, re.IGNORECASE), a.resolve) for a in _ATOMS)
_LEADING_THE = re.compile(r"^\s*(?:the\s+)?", re.IGNORECASE)


def _safe(fn: Callable[[re.Match[str], _Ctx], _T | None], m: re.Match[str], ctx: _Ctx) -> _T | None:
    try:
        return fn(m, ctx)
    except (ValueError, OverflowError, KeyError):
        return None


def _parse_period(text: str, ctx: _Ctx) -> _Period | None:
    """Resolve a sub-phrase (a range endpoint, the X of 'since X') as a single atom."""
    t = _LEADING_THE.sub("", text).strip()
    for rx, resolve in _ATOM_FULL:
        m = rx.fullmatch(t)
        if m is not None and (p := _safe(resolve, m, ctx)) is not None:
            return p
    return None


# ---------------------------------------------------------------------------------------------
# Top-level rules: atoms, composites (ranges, since, points), to-date, last N, grains, blockers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    span: tuple[int, int] = (0, 0)
    range: TimeRange | None = None
    grain: Grain | None = None
    implied: bool = False  # grain implied by "over the last N weeks"; explicit grains win
    point: date | None = None
    notes: tuple[str, ...] = ()
    blocked: bool = False  # consumed so that its parts do not match, but reported as nothing
    anaphor: str = ""  # "the one before (last)": resolved against the previous range


_Handler = Callable[[re.Match[str], _Ctx], _Hit | None]


def _period_hit(p: _Period) -> _Hit:
    return _Hit(range=p.range, point=p.range.start if p.day else None, notes=p.notes)


def _point_hit(day: date, label: str, notes: tuple[str, ...] = ()) -> _Hit:
    return _Hit(range=_day_range(day, label), point=day, notes=notes)


def _atom_handler(resolve: _Resolver) -> _Handler:
    def handle(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
        p = resolve(m, ctx)
        return None if p is None else _period_hit(p)

    return handle


def _h_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    conn = m["conn"].strip().lower()
    kw = (m["kw"] or "").lower()
    if (conn == "and" and kw != "between") or (conn in ("until", "till") and not kw):
        return None
    if not kw and _word_before(m.string, m.start("a")) in _COMPARE_WORDS:
        return None  # "compare March to April" is two periods, not a range
    a, b = _parse_period(m["a"], ctx), _parse_period(m["b"], ctx)
    if a is None or b is None:
        return None
    notes = [*a.notes, *b.notes]
    if b.make is not None and a.make is None:
        rb = _earliest(b, ctx, a.range.start) if a.fy is None else b.make(a.fy, True)
        if rb is None:
            return None
        notes = [*a.notes, f"'{b.said}' takes its year from the start of the range: {rb.label}"]
        b = replace(b, range=rb)
    elif a.make is not None:
        ra = _latest(a, ctx, b.range.start) if b.fy is None else a.make(b.fy, True)
        if ra is None:
            return None
        notes = [*b.notes, f"'{a.said}' takes its year from the end of the range: {ra.label}"]
        a = replace(a, range=ra)
    if not a.range.start <= b.range.start < b.range.end:
        return None
    label = f"{a.range.label} to {b.range.label}"
    return _Hit(range=_tr(a.range.start, b.range.end, label), notes=tuple(notes))


def _h_list_head(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """'Q1 and Q2 2024', 'January, February and March 2024': the year comes from the last item."""
    a = _parse_period(m["a"], ctx)
    if a is None or a.make is None:
        return None
    pos = m.end()
    while (nxt := _LIST_NEXT.match(m.string, pos)) is not None:
        b = _parse_period(nxt["b"], ctx)
        if b is None:
            return None
        if b.make is None:
            r = _latest(a, ctx, b.range.start) if b.fy is None else a.make(b.fy, True)
            if r is None:
                return None
            note = f"'{a.said}' takes its year from '{nxt['b']}': {r.label}"
            return _period_hit(replace(a, range=r, notes=(note,)))
        pos = nxt.end()
    return None


def _h_n_to(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Resolve 'the 3 months to June 2025', '12 weeks ending 2025-06-29': N periods up to X."""
    p, n, unit = _parse_period(m["a"], ctx), _num(m["n"]), _unit_of(m["u"])
    if p is None or n < 1:
        return None
    r = p.range
    if p.make is not None:
        r = _latest(p, ctx, ctx.as_of, ended=ctx.end) or r
    noun = "half-year" if unit == "half" else unit
    label = f"{n} {noun}{'s' if n > 1 else ''} to {r.label}"
    out = _tr(_shift(r.end, unit, -n), r.end, label)
    return _Hit(range=out, notes=(_covers(out),))


def _h_week_of(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    p = _parse_period(m["a"], ctx)
    if p is None or not p.day:
        return None
    start = _start_of(p.range.start, "week", ctx)
    r = _tr(start, start + timedelta(weeks=1), f"week of {start}")
    return _Hit(range=r, notes=(*p.notes, _covers(r)))


def _h_since(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    p = _parse_period(m["a"], ctx)
    if p is None or p.range.start > ctx.as_of:
        return None
    r = _tr(p.range.start, ctx.end, f"since {p.range.label}")
    return _Hit(range=r, notes=(*p.notes, f"'{r.label}' runs from {r.start} to {ctx.as_of}"))


def _h_point(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    p = _parse_period(m["a"], ctx)
    if p is None:
        return None
    mode = m["mode"].lower()
    as_of_mode = "end" not in mode and "close" not in mode
    if p.day:
        return _point_hit(p.range.start, f"as of {p.range.label}", p.notes)
    notes = p.notes
    r = p.range
    if p.make is not None:
        r = _latest(p, ctx, ctx.as_of, ended=ctx.end) or r
        notes = (f"'{p.said}' without a year means {r.label}, the most recent one ended by as_of",)
    day = _last_day(r)
    if as_of_mode and r.start <= ctx.as_of < day:
        notes = (*notes, f"'{r.label}' is not over: 'as of {r.label}' is taken as {ctx.as_of}")
        day = ctx.as_of
    label = ("as of " if as_of_mode else "end of ") + r.label
    return _point_hit(day, label, notes)


def _h_period_end(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if m["a"]:
        p = _parse_period(m["a"], ctx)
        if p is None or p.day:
            return None
        r = _latest(p, ctx, ctx.as_of, ended=ctx.end) if p.make else p.range
        return None if r is None else _point_hit(_last_day(r), f"end of {r.label}")
    word = (m["u1"] or m["u2"] or m["u3"]).lower()
    unit = _unit_of("month" if word == "m" else word)
    fiscal = bool(m["f1"] or m["f2"])
    current = _relative(unit, fiscal, 0, ctx).range
    day = ctx.as_of if _last_day(current) == ctx.as_of else current.start - _DAY
    noun = ("fiscal " if fiscal else "") + unit
    note = f"'{noun} end' means the most recent {noun} end on or before {ctx.as_of}: {day}"
    return _point_hit(day, f"{noun} end", (note,))


def _h_now(m: re.Match[str], ctx: _Ctx) -> _Hit:
    return _point_hit(ctx.as_of, "now")


_TO_DATE_ABBR: Final[dict[str, _Unit]] = {
    "ytd": "year", "qtd": "quarter", "mtd": "month", "wtd": "week", "fytd": "year",
}  # fmt: skip


def _h_to_date(m: re.Match[str], ctx: _Ctx) -> _Hit:
    found = {k: v.lower() for k, v in m.groupdict().items() if v and k != "pre"}
    word = next(v for k, v in found.items() if k.startswith(("u", "abbr")))
    unit = _TO_DATE_ABBR.get(word) or _unit_of(word)
    fiscal = any(k[0] == "f" for k in found) or word == "fytd"
    fiscal = fiscal and unit in ("quarter", "year")
    start = _start_of(ctx.as_of, unit, ctx, fiscal)
    label = ("fiscal " if fiscal else "") + f"{unit} to date"
    r = _tr(start, ctx.end, label)
    note = f"'{label}' runs from {start} to {ctx.as_of} (as_of, inclusive)"
    return _Hit(range=r, notes=(note, *(_fiscal_note(ctx) if fiscal else ())))


def _h_last_n(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    n = 12 if m["ttm"] else _num(m["n"])
    unit = "month" if m["ttm"] else _unit_of(m["u"])
    if n < 1:
        return None
    fiscal = (m["kind"] or "").lower() == "fiscal" and unit in ("quarter", "half", "year")
    noun = ("fiscal " if fiscal else "") + ("half-year" if unit == "half" else unit)
    label = f"last {n} {noun}{'s' if n > 1 else ''}"
    if unit == "day":
        r = _tr(ctx.as_of - timedelta(days=n - 1), ctx.end, label)
        note = f"'{label}' includes today: {r.start} to {ctx.as_of}"
    else:
        current = _start_of(ctx.as_of, unit, ctx, fiscal)
        r = _tr(_shift(current, unit, -n), current, label)
        note = (
            f"'{label}' means the {n} complete {noun}{'s' if n > 1 else ''} before the current one"
            f" ({r.start} to {_last_day(r)}); the current, partial {noun} is excluded"
        )
    grain = _GRAIN_OF.get(unit) if (m["pre"] or "").lower() == "over" and n >= 2 else None
    notes = (note, *(_fiscal_note(ctx) if fiscal else ()))
    if grain:
        adjective = "daily" if grain == "day" else f"{grain}ly"
        notes = (*notes, f"'over the {label}' is read as a {adjective} series")
    return _Hit(range=r, grain=grain, implied=True, notes=notes)


_ADJ_GRAIN: Final[dict[str, Grain]] = {
    "daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
    "yearly": "year", "annually": "year",
}  # fmt: skip
_NOT_GRAIN_AFTER: Final = re.compile(
    r"[\s-]+(?:recurring|plans?|subscriptions?|subscribers?|billing|billed|prices?|pricing"
    r"|intervals?|active|contracts?|tiers?|fees?|installments?|commitments?|cadence|renewals?)\b",
    re.IGNORECASE,
)
_NOT_GRAIN_BEFORE: Final = _words(
    "billed paid charged invoiced renewed renews renewing renew bill pay charge recurs recurring "
    "subscribed"
)


def _h_grain(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    found = m.groupdict()
    if found.get("adj"):
        if _NOT_GRAIN_AFTER.match(m.string, m.end("adj")):
            return None
        if _word_before(m.string, m.start()) in _NOT_GRAIN_BEFORE:
            return None
        return _Hit(grain=_ADJ_GRAIN[found["adj"].lower()])
    if abbr := found.get("abbr") or found.get("abbr2"):
        return _Hit(grain=_GRAIN_OF[_unit_of(abbr)])
    if found.get("conn") and found["u"].lower() == "year" and found["conn"].lower() != "by":
        return None  # "year over year" is a comparison, not a grain
    word = found["u"].lower()
    grain = _GRAIN_OF.get(_unit_of(word))
    if grain is None:
        return None
    notes: tuple[str, ...] = ()
    if (found.get("kind") or "").lower() == "fiscal" and ctx.fy_start != 1:
        notes = (f"'by fiscal {word}' is returned as grain '{grain}' (calendar buckets)",)
    return _Hit(grain=grain, notes=notes)


def _h_block(m: re.Match[str], ctx: _Ctx) -> _Hit:
    return _Hit(blocked=True)


def _h_anaphor(m: re.Match[str], ctx: _Ctx) -> _Hit:
    return _Hit(anaphor=m.group(0).lower())


_COMPARE_WORDS: Final = _words("compare compared comparing versus vs against")
_FILLER = r"(?:(?P<pre>in|during|for|over|within|throughout|on|of)\s+)?(?:the\s+)?"
_AS_OF = r"as\s+(?:of|at)"
_END_OF = r"(?:(?:" + _AS_OF + r"|at|by)\s+)?(?:the\s+)?(?:end|close)\s+of"

_LIST_SEP = r"\s*(?:,|&|\band\b|\bor\b)\s*(?:(?:and|or)\s+)?(?:the\s+)?"  # not "vs": Q1 vs Q1 2024
_LIST_NEXT: Final = re.compile(_LIST_SEP + r"(?P<b>" + _PERIOD + r")(?!\w)", re.IGNORECASE)
_YEARLESS: Final = "|".join(
    _unnamed(x) for x in (_MONTH_DAY, _DAY_MONTH, _QTOK, _HTOK, _MONTH_BARE)
)
_COMPOSITE_RULES: Final[tuple[tuple[str, _Handler], ...]] = (
    (
        r"(?P<mode>" + _AS_OF + r"(?:\s+the\s+(?:end|close)\s+of)?|" + _END_OF + r")\s+"
        r"(?:the\s+)?(?P<a>" + _PERIOD + ")",
        _h_point,
    ),
    (
        r"(?:" + _END_OF + r"\s+(?:the\s+)?(?P<f1>fiscal\s+)?(?P<u1>" + _PERIOD_UNIT + r")"
        r"|(?:(?:"
        + _AS_OF
        + r"|at|by)\s+)?(?:the\s+)?(?P<f2>fiscal\s+)?(?P<u2>"
        + _PERIOD_UNIT
        + r")[\s-]?end|eo(?P<u3>[yqm]))(?!\w)(?:\s+(?:of\s+)?(?P<a>"
        + _PERIOD
        + "))?",
        _h_period_end,
    ),
    (
        r"(?:currently|right\s+now|(?:as\s+of|at)\s+(?:right\s+)?now|as\s+of\s+the\s+present"
        r"|at\s+(?:present|the\s+moment|this\s+(?:moment|point(?:\s+in\s+time)?))"
        r"|as\s+(?:it|things)\s+stands?)",
        _h_now,
    ),
    (
        r"(?:(?P<kw>from|between)\s+(?:the\s+)?)?(?P<a>" + _PERIOD + r")(?P<conn>\s*[-–—]\s*"
        r"|\s+(?:to|through|thru|until|till|and)\s+)(?:the\s+)?(?P<b>" + _PERIOD + r")"
        r"(?:\s+inclusive)?",
        _h_range,
    ),
    (
        r"(?P<n>" + _NUM + r")\s+(?P<u>" + _UNITS + r")\s+(?:to|ending|ended|through|up\s+to)\s+"
        r"(?:the\s+)?(?:(?:end|close)\s+of\s+(?:the\s+)?)?(?P<a>" + _PERIOD + ")",
        _h_n_to,
    ),
    (
        r"week\s+(?:of|starting|beginning|commencing)\s+(?:the\s+)?(?P<a>" + _PERIOD + ")",
        _h_week_of,
    ),
    (
        r"(?:since|from|starting(?:\s+(?:from|in|on|with))?|beginning(?:\s+(?:in|on|with))?)\s+"
        r"(?:the\s+)?(?:(?:start|beginning)\s+of\s+(?:the\s+)?)?(?P<a>" + _PERIOD + r")"
        r"(?:\s+(?:onwards?|forward|on|(?:until|till|through)\s+(?:now|today)"
        r"|(?:up\s+)?to\s+(?:date|now|today|the\s+present)))?",
        _h_since,
    ),
    (
        r"(?:(?P<f1>fiscal\s+)?(?P<u1>" + _PERIOD_UNIT + r")[\s-]+to[\s-]+date"
        r"|(?P<abbr>fytd|ytd|qtd|mtd|wtd)|(?P<f2>fiscal\s+)(?P<abbr2>ytd|qtd)"
        r"|so\s+far\s+this\s+(?P<f3>fiscal\s+)?(?P<u3>" + _PERIOD_UNIT + r")"
        r"|(?:this\s+)?(?P<f4>fiscal\s+)?(?P<u4>" + _PERIOD_UNIT + r")\s+(?:so\s+far|to\s+date)"
        r"|since\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(?P<f5>fiscal\s+)?"
        r"(?P<u5>" + _PERIOD_UNIT + r"))",
        _h_to_date,
    ),
    (
        r"(?:(?:last|past|previous|prior|trailing|rolling)\s+(?P<n>" + _NUM + r")(?:\s+|-)"
        r"(?:(?P<kind>fiscal|calendar|full|complete|whole)\s+)?(?P<u>" + _UNITS + r")"
        r"(?:\s+(?:period|window))?|(?P<ttm>ttm|ltm|t12m|l12m))",
        _h_last_n,
    ),
)
_GRAIN_RULES: Final[tuple[tuple[str, _Handler], ...]] = (
    (
        r"(?:(?:broken\s+down|grouped|split|bucketed|aggregated|rolled\s+up|summari[sz]ed)\s+)?"
        r"(?:by|per|each|every|for\s+(?:each|every))\s+(?:the\s+)?(?:(?P<kind>fiscal|calendar)\s+)?"
        r"(?P<u>day|week|month|quarter|year|qtr|wk|yr)",
        _h_grain,
    ),
    (r"(?:on\s+an?\s+)?(?P<adj>" + "|".join(_ADJ_GRAIN) + r")(?:\s+basis)?", _h_grain),
    (r"(?P<u>day|week|month|quarter|year)[\s-]+(?P<conn>by|over|on)[\s-]+(?P=u)", _h_grain),
    (r"(?-i:(?P<abbr>MoM|MOM|QoQ|QOQ|WoW))|(?P<abbr2>[mqw])/(?P=abbr2)", _h_grain),
)
_BLOCK_RULES: Final[tuple[str, ...]] = (
    r"(?:before|until|till|up\s+to|prior\s+to|after|earlier\s+than|later\s+than|ahead\s+of|pre|post)"
    r"[\s-]+(?:the\s+)?(?:(?:start|end|beginning|close)\s+of\s+(?:the\s+)?)?" + _PERIOD,
    r"(?:next|coming|upcoming|following)\s+(?:(?:" + _NUM + r")\s+)?(?:fiscal\s+|calendar\s+)?"
    r"(?:" + _UNITS + "|" + _PERIOD + ")",
    r"tomorrow",
)


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    handle: _Handler


def _rule(core: str, handle: _Handler, *, filler: bool = True) -> _Rule:
    rx = r"(?<!\w)" + (_FILLER if filler else "") + r"(?:" + core + r")(?!\w)"
    return _Rule(re.compile(rx, re.IGNORECASE), handle)


_RULES: Final[tuple[_Rule, ...]] = (
    _rule(r"(?P<a>" + _YEARLESS + r")(?=" + _LIST_SEP + ")", _h_list_head),
    *(_rule(a.core, _atom_handler(a.resolve)) for a in _ATOMS),
    *(_rule(core, handle) for core, handle in _COMPOSITE_RULES),
    *(_rule(core, handle, filler=False) for core, handle in _GRAIN_RULES),
    _rule(r"the\s+one\s+before(?:\s+(?:last|that))?", _h_anaphor, filler=False),
    *(_rule(core, _h_block, filler=False) for core in _BLOCK_RULES),
)


# ---------------------------------------------------------------------------------------------
# Scanning, choosing and assembling
# ---------------------------------------------------------------------------------------------


def _candidates(text: str, ctx: _Ctx) -> Iterator[tuple[int, int, int, _Hit]]:
    """Every accepted match of every rule as (start, -length, rule priority, hit)."""
    for priority, rule in enumerate(_RULES):
        pos = 0
        while (m := rule.regex.search(text, pos)) is not None:
            hit = _safe(rule.handle, m, ctx)
            if hit is None:
                pos = m.start() + 1
                continue
            yield m.start(), m.start() - m.end(), priority, replace(hit, span=m.span())
            pos = max(m.end(), m.start() + 1)


def _select(candidates: Iterator[tuple[int, int, int, _Hit]]) -> list[_Hit]:
    """Leftmost-longest non-overlapping matches (ties: earlier rule)."""
    chosen: list[_Hit] = []
    last_end = 0
    for start, _neg_len, _prio, hit in sorted(candidates, key=lambda c: c[:3]):
        if start >= last_end:
            chosen.append(hit)
            last_end = hit.span[1]
    return [h for h in chosen if not h.blocked]


def _resolve_anaphor(hit: _Hit, previous: TimeRange | None, ctx: _Ctx) -> _Hit | None:
    if previous is None:
        return None
    r, label = previous_period(previous), f"the one before {previous.label}"
    if hit.anaphor.endswith("last") and previous.end > ctx.end:
        r, label = previous_period(r), f"two before {previous.label}"  # "this quarter ... "
    r = _tr(r.start, r.end, label)
    return replace(hit, range=r, notes=(_covers(r),))


def _assemble(hits: list[_Hit], ctx: _Ctx) -> TimeMatch:
    ranges: list[TimeRange] = []
    notes: list[str] = []
    spans: list[tuple[int, int]] = []
    grains: list[tuple[bool, Grain]] = []
    point: date | None = None
    for hit in hits:
        if hit.anaphor:
            resolved = _resolve_anaphor(hit, ranges[-1] if ranges else None, ctx)
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
    )


def _progress_notes(r: TimeRange, ctx: _Ctx) -> tuple[str, ...]:
    if r.start > ctx.as_of:
        return (f"'{r.label}' starts after as_of ({ctx.as_of}): there is no data for it yet",)
    if r.end > ctx.end:
        return (f"'{r.label}' is not over yet: data only runs to {ctx.as_of} (as_of)",)
    return ()
