"""Atoms relative to as_of: this/last/previous period, the one before last, N ago, today."""

from __future__ import annotations

import re
from datetime import timedelta

from app.understand.time.dates import (
    WEEKDAYS,
    Ctx,
    Unit,
    calendar_note,
    covers,
    day_range,
    fiscal_note,
    last_day,
    shift,
    start_of,
    time_range,
)
from app.understand.time.patterns import parse_number, unit_of
from app.understand.time.periods import Period


def relative_period(unit: Unit, fiscal: bool, step: int, ctx: Ctx, label: str = "") -> Period:
    """Return the whole period ``step`` periods from the one holding as_of (0 = current)."""
    fiscal = fiscal and unit in ("quarter", "half", "year")
    noun = ("fiscal " if fiscal else "") + ("half-year" if unit == "half" else unit)
    label = label or {0: f"this {noun}", -1: f"last {noun}", -2: f"the {noun} before last"}.get(
        step, f"{-step} {noun}s ago"
    )
    start = shift(start_of(ctx.as_of, unit, ctx, fiscal), unit, step)
    r = time_range(start, shift(start, unit, 1), label)
    if unit == "day":
        return Period(r, day=True)
    note = covers(r)
    if unit == "week":
        last = last_day(r)
        note += f" ({WEEKDAYS[start.weekday()]} to {WEEKDAYS[last.weekday()]})"
        if step == -1:
            note = f"'last week' is the previous complete week: {note.split(' covers ')[1]}"
    elif step == 0:
        note = f"'{label}' is the whole {noun}, {start} to {last_day(r)} (not only to date)"
    extra = fiscal_note(ctx) if fiscal else calendar_note(label, unit, ctx)
    return Period(r, notes=(note, *extra))


def resolve_relative(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve 'this|last|previous|next-to-last <unit>'."""
    rel = re.sub(r"[\s-]+", " ", m["rel"].lower())
    step = {"this": 0, "current": 0}.get(
        rel, -1 if rel in ("last", "previous", "prior", "past") else -2
    )
    word = m["u"].lower()
    fiscal = word == "fy" or (m["kind"] or "").strip().lower() == "fiscal"
    return relative_period(unit_of(word) if word != "fy" else "year", fiscal, step, ctx)


def resolve_before_last(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve 'the <unit> before last'."""
    word = m["u"].lower()
    fiscal = word == "fy" or (m["kind"] or "").strip().lower() == "fiscal"
    return relative_period(unit_of(word) if word != "fy" else "year", fiscal, -2, ctx)


def resolve_ago(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve 'N <units> ago': the whole calendar period N back."""
    n = parse_number(m["n"])
    if n < 1:
        return None
    unit = unit_of(m["u"])
    if unit == "day":
        d = ctx.as_of - timedelta(days=n)
        return Period(day_range(d, f"{n} day{'s' if n > 1 else ''} ago"), day=True)
    fiscal = (m["kind"] or "").strip().lower() == "fiscal" and unit in ("quarter", "year")
    noun = ("fiscal " if fiscal else "") + unit
    return relative_period(unit, fiscal, -n, ctx, f"{n} {noun}{'s' if n > 1 else ''} ago")


def resolve_today(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve 'today', 'yesterday', 'the day before yesterday'."""
    word = m["w"].lower()
    back = 0 if word.startswith("today") else 1 if word.startswith("yesterday") else 2
    label = ("today", "yesterday", "the day before yesterday")[back]
    return Period(day_range(ctx.as_of - timedelta(days=back), label), day=True)


def resolve_completed(m: re.Match[str], ctx: Ctx) -> Period:
    """Resolve 'the last completed month', 'the most recent full quarter': the last one that ended.

    The period holding as_of is never complete (as_of is "today", its data still arriving), so
    this is the period before it, whatever day of the period as_of is.
    """
    word = m["u"].lower()
    fiscal = word == "fy" or (m["kind"] or "").strip().lower() == "fiscal"
    unit = unit_of(word) if word != "fy" else "year"
    fiscal = fiscal and unit in ("quarter", "half", "year")
    noun = ("fiscal " if fiscal else "") + ("half-year" if unit == "half" else unit)
    label = f"last {m['adj'].lower()} {noun}"
    r = relative_period(unit, fiscal, -1, ctx, label).range
    note = (
        f"'{label}' is {r.start} to {last_day(r)}, the most recent {noun} that is over "
        f"(the {noun} holding {ctx.as_of} is not)"
    )
    extra = fiscal_note(ctx) if fiscal else calendar_note(label, unit, ctx)
    return Period(r, notes=(note, *extra))
