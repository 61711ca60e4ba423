"""Periods: what a period phrase resolves to, and the most recent occurrence of a yearless one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from app.core.plan import TimeRange
from app.understand.time.dates import Ctx, day_range, fiscal_note, fy_of

Make = Callable[[int, bool], TimeRange | None]


@dataclass(frozen=True)
class Period:
    """What an atom (a self-contained period phrase) resolves to."""

    range: TimeRange
    day: bool = False
    make: Make | None = None  # yearless phrases: the occurrence in (calendar|fiscal) year y
    fiscal: bool = False
    said: str = ""
    notes: tuple[str, ...] = ()
    fy: int | None = None  # the fiscal year an explicitly fiscal period belongs to


def latest(p: Period, ctx: Ctx, before: date, *, ended: date | None = None) -> TimeRange | None:
    """Most recent occurrence of a yearless period starting by ``before`` (ending by ``ended``)."""
    assert p.make is not None
    base = fy_of(before, ctx) if p.fiscal else before.year
    for y in range(base + 1, base - 9, -1):
        r = p.make(y, p.fiscal)
        if r is not None and (r.start <= before if ended is None else r.end <= ended):
            return r
    return None


def earliest(p: Period, ctx: Ctx, after: date) -> TimeRange | None:
    """First occurrence of a yearless period that starts on or after ``after``."""
    assert p.make is not None
    base = fy_of(after, ctx) if p.fiscal else after.year
    for y in range(base - 1, base + 9):
        r = p.make(y, p.fiscal)
        if r is not None and r.start >= after:
            return r
    return None


def yearless(said: str, make: Make, fiscal: bool, ctx: Ctx, *, day: bool = False) -> Period:
    """A yearless period ('March', 'Q3'), resolved to its most recent occurrence by as_of."""
    p = Period(day_range(ctx.as_of), day=day, make=make, fiscal=fiscal, said=said)
    r = latest(p, ctx, ctx.as_of)
    if r is None:
        raise ValueError(said)
    when = "not after" if day else "that started on or before"
    note = f"'{said}' without a year means {r.label}, the most recent {said} {when} {ctx.as_of}"
    return replace(p, range=r, notes=(note, *(fiscal_note(ctx) if fiscal else ())))


def maker(fn: Callable[[int, bool], TimeRange]) -> Make:
    """Wrap ``fn`` so that an impossible date (Feb 29 in a common year) gives None."""

    def make(y: int, fiscal: bool) -> TimeRange | None:
        try:
            return fn(y, fiscal)
        except ValueError:
            return None

    return make
