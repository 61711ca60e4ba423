"""Atoms that name their dates: ISO and slash days, month days, months, quarters, halves, years."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Final

from app.core.plan import TimeRange
from app.understand.time.dates import (
    MONTH_NAMES,
    Ctx,
    Unit,
    add_months,
    cal_year,
    calendar_note,
    covers,
    day_range,
    fiscal_note,
    month_range,
    part_range,
)
from app.understand.time.patterns import (
    AMOUNT_AFTER,
    COUNT_WORDS,
    MONTH_ORDINALS,
    ORDINALS,
    month_of,
    word_after,
    word_before,
    word_set,
    year_of,
    year_spec,
)
from app.understand.time.periods import Period, maker, yearless

_MAY_OK_BEFORE: Final = word_set(
    "in since from during for of until till to through between and last this early mid late end "
    "before after on vs versus with or"
)
_PRONOUNS: Final = word_set("i we you they he she it which that who this")
_MAY_VERBS: Final = word_set("be have not also need want still well show help")


def _day_atom(d: date) -> Period:
    return Period(day_range(d), day=True)


def resolve_iso(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve '2025-06-30'."""
    return _day_atom(date(int(m["y"]), int(m["m"]), int(m["d"])))


def resolve_slash(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve '6/30/2025' (M/D/YYYY unless the first number is above 12)."""
    a, b, y = int(m["m"]), int(m["d"]), int(m["y"]) % 100 + 2000
    return _day_atom(date(y, b, a) if a > 12 >= b else date(y, a, b))


def resolve_month_day(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve 'June 30', '30 June 2025'; a yearless one is the most recent by as_of."""
    month, day, year = month_of(m), int(m["d"]), year_of(m)
    if word_before(m.string, min(m.start("d"), m.start("mon"))) in COUNT_WORDS:
        return None
    if year is not None:
        return _day_atom(date(year, month, day))
    date(2000, month, day)  # validate (2000 is a leap year)

    def make(y: int, fiscal: bool) -> TimeRange:
        return day_range(date(cal_year(y, month, fiscal, ctx), month, day))

    return yearless(f"{MONTH_NAMES[month - 1]} {day}", maker(make), False, ctx, day=True)


def resolve_month_year(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve 'June 2025', "Jun '25"."""
    year = year_of(m)
    return None if year is None else Period(month_range(year, month_of(m)))


def resolve_year_month(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve '2025-06'."""
    return Period(month_range(int(m["y"]), int(m["m"])))


def resolve_month(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve a bare month ('in May') to its most recent start by as_of."""
    month = month_of(m)
    if m["mon"].lower() == "may" and not _may_is_month(m):
        return None

    def make(y: int, fiscal: bool) -> TimeRange:
        return month_range(cal_year(y, month, fiscal, ctx), month)

    return yearless(MONTH_NAMES[month - 1], maker(make), False, ctx)


def _may_is_month(m: re.Match[str]) -> bool:
    """'May' the month vs 'may' the verb: needs a preposition before it or a capital M."""
    if m.string == m.group(0):
        return True  # an endpoint inside a range/since/as-of phrase
    prev = word_before(m.string, m.start("mon"))
    if prev in _MAY_OK_BEFORE:
        return True
    if prev in _PRONOUNS or word_after(m.string, m.end("mon")) in _PRONOUNS | _MAY_VERBS:
        return False
    return m.string[m.start("mon")] == "M"


def resolve_part(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Quarters and halves: 'Q3', 'Q3 2025', 'Q3 FY25', 'third quarter of 2024', 'H1', ..."""
    names = m.groupdict()
    unit: Unit = "quarter" if names.get("q") or names.get("qo") else "half"
    word = (names.get("qo") or names.get("ho") or "").lower()
    idx = int(names.get("q") or names.get("h") or 0) or ORDINALS[word]
    if unit == "half" and word == "last":
        idx = 2
    fiscal = any(names.get(k) for k in ("fpre", "fq", "qf", "hf"))
    spec = year_spec(m, ctx) if "cy" in names else None
    if spec is None and names.get("fy"):
        spec = int(names["fy"]) % 100 + 2000, True
    if spec is None and names.get("y4"):
        spec = int(names["y4"]), False
    if spec is None:
        if word in ("last", "final"):
            return None  # "last quarter" / "last half" are relative periods
        said = ("fiscal " if fiscal else "") + f"{'Q' if unit == 'quarter' else 'H'}{idx}"

        def make(y: int, fisc: bool) -> TimeRange:
            return part_range(y, fisc, unit, idx, ctx)

        return yearless(said, maker(make), fiscal, ctx)
    year, spec_fiscal = spec
    fiscal = fiscal or spec_fiscal
    r = part_range(year, fiscal, unit, idx, ctx)
    notes = (covers(r), *fiscal_note(ctx)) if fiscal else calendar_note(r.label, unit, ctx)
    return Period(r, notes=notes, fy=year if fiscal else None)


def resolve_year(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve '2025', 'calendar year 2025', 'CY2025', unless it counts or costs something."""
    raw = m["y"] or m["y1"] or m["y2"]
    if m["y"]:
        if word_before(m.string, m.start("y")) in COUNT_WORDS:
            return None
        if AMOUNT_AFTER.match(m.string, m.end()):
            return None
    r = part_range(int(raw), False, "year", 1, ctx)
    return Period(r, notes=calendar_note(r.label, "year", ctx))


def resolve_fiscal_year(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve 'FY2025', 'fiscal year 25', 'FY 2024/25'."""
    year = int(m["fy"]) % 100 + 2000
    if m["fy2"]:  # "FY 2024/25" names both calendar years; we name it by the one it ends in
        if int(m["fy2"]) % 100 != (year + 1) % 100:
            return None
        year += 1
    r = part_range(year, True, "year", 1, ctx)
    notes = (covers(r), *fiscal_note(ctx)) if ctx.fy_start != 1 else ()
    return Period(r, notes=notes, fy=year)


def resolve_month_of_year(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve 'the last month of 2025', 'the first month of the fiscal year', '3rd month of FY25'.

    A yearless one ('the last month of the year') is the most recent that has started.
    """
    n = MONTH_ORDINALS[m["mo"].lower()]
    said = " ".join(m.string[m.start("mo") : m.end()].lower().split())

    def make(y: int, fiscal: bool) -> TimeRange:
        first = add_months(part_range(y, fiscal, "year", 1, ctx).start, n - 1)
        return month_range(first.year, first.month)

    spec = year_spec(m, ctx)
    if spec is None:
        fiscal = (m["bare"] or "").lower().startswith("fiscal")
        p = yearless(said, maker(make), fiscal, ctx)
        note = f"'{said}' means {p.range.label}, the most recent one that started by {ctx.as_of}"
        return replace(p, notes=(note, *p.notes[1:]))
    year, fiscal = spec
    r = make(year, fiscal)
    note = f"'{said}' is {r.label} ({r.start} to {r.end - timedelta(days=1)})"
    return Period(
        r, notes=(note, *(fiscal_note(ctx) if fiscal else ())), fy=year if fiscal else None
    )
