"""Handlers of composite time phrases: ranges, lists, since, points in time, to-date, last N."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final

from app.core.plan import Grain, TimeRange
from app.understand.time.atoms import PERIOD, Resolver, parse_period
from app.understand.time.dates import (
    DAY,
    GRAIN_OF,
    Ctx,
    Unit,
    covers,
    day_range,
    fiscal_note,
    last_day,
    shift,
    start_of,
    time_range,
)
from app.understand.time.patterns import LIST_SEP, parse_number, unit_of, word_before, word_set
from app.understand.time.periods import Period, earliest, latest
from app.understand.time.relative import relative_period

_COMPARE_WORDS: Final = word_set("compare compared comparing versus vs against")


@functools.cache
def _list_next() -> re.Pattern[str]:
    """The next item of a list of periods ('..., Q2 and Q3 2024'), compiled on first use."""
    return re.compile(LIST_SEP + r"(?P<b>" + PERIOD + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    """One accepted match: a range, grain or point in time, its span and its notes."""

    span: tuple[int, int] = (0, 0)
    range: TimeRange | None = None
    grain: Grain | None = None
    implied: bool = False  # grain implied by "over the last N weeks"; explicit grains win
    point: date | None = None
    notes: tuple[str, ...] = ()
    blocked: bool = False  # consumed so that its parts do not match, but reported as nothing
    anaphor: str = ""  # "the one before (last)": resolved against the previous range
    to_date: bool = False  # "YTD", "month to date": runs to as_of, or to an "as of" day said


Handler = Callable[[re.Match[str], Ctx], Hit | None]


def _period_hit(p: Period) -> Hit:
    return Hit(range=p.range, point=p.range.start if p.day else None, notes=p.notes)


def _point_hit(day: date, label: str, notes: tuple[str, ...] = ()) -> Hit:
    return Hit(range=day_range(day, label), point=day, notes=notes)


def atom_handler(resolve: Resolver) -> Handler:
    """The handler of a rule that matches a single atom."""

    def handle(m: re.Match[str], ctx: Ctx) -> Hit | None:
        p = resolve(m, ctx)
        return None if p is None else _period_hit(p)

    return handle


def handle_range(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'from A to B', 'A-B', 'between A and B' (a missing year comes from the other end)."""
    conn = m["conn"].strip().lower()
    kw = (m["kw"] or "").lower()
    if (conn == "and" and kw != "between") or (conn in ("until", "till") and not kw):
        return None
    if not kw and word_before(m.string, m.start("a")) in _COMPARE_WORDS:
        return None  # "compare March to April" is two periods, not a range
    a, b = parse_period(m["a"], ctx), parse_period(m["b"], ctx)
    if a is None or b is None:
        return None
    notes = [*a.notes, *b.notes]
    if b.make is not None and a.make is None:
        rb = earliest(b, ctx, a.range.start) if a.fy is None else b.make(a.fy, True)
        if rb is None:
            return None
        notes = [*a.notes, f"'{b.said}' takes its year from the start of the range: {rb.label}"]
        b = replace(b, range=rb)
    elif a.make is not None:
        ra = latest(a, ctx, b.range.start) if b.fy is None else a.make(b.fy, True)
        if ra is None:
            return None
        notes = [*b.notes, f"'{a.said}' takes its year from the end of the range: {ra.label}"]
        a = replace(a, range=ra)
    if not a.range.start <= b.range.start < b.range.end:
        return None
    label = f"{a.range.label} to {b.range.label}"
    return Hit(range=time_range(a.range.start, b.range.end, label), notes=tuple(notes))


def handle_list_head(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """'Q1 and Q2 2024', 'January, February and March 2024': the year comes from the last item."""
    a = parse_period(m["a"], ctx)
    if a is None or a.make is None:
        return None
    pos = m.end()
    while (nxt := _list_next().match(m.string, pos)) is not None:
        b = parse_period(nxt["b"], ctx)
        if b is None:
            return None
        if b.make is None:
            r = latest(a, ctx, b.range.start) if b.fy is None else a.make(b.fy, True)
            if r is None:
                return None
            note = f"'{a.said}' takes its year from '{nxt['b']}': {r.label}"
            return _period_hit(replace(a, range=r, notes=(note,)))
        pos = nxt.end()
    return None


_DAY_NUMBER: Final = re.compile(r"\d+")


def handle_day_list(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """'December 30 or 31, 2025', '30 and 31 Dec': consecutive days of one month, as one range.

    Days that are not consecutive ('Dec 1 and 15') are not one range: the phrase is consumed but
    read as nothing, so its words are reported as unread and the question is not answered.
    """
    days = [int(d) for d in _DAY_NUMBER.findall(m["days"] or m["days2"])]
    month = m["mon"] or m["mon2"]
    first = parse_period(f"{month} {days[0]}{m['yr'] or ''}", ctx)
    if first is None or not first.day:
        return None
    start = first.range.start
    dates = []
    for d in days:
        try:
            dates.append(start.replace(day=d))
        except ValueError:
            return Hit(blocked=True)  # "February 28 or 30": no such day, not read
    if dates != [start + timedelta(days=i) for i in range(len(dates))]:
        return Hit(blocked=True)
    end = dates[-1]
    label = f"{start.strftime('%B')} {start.day}–{end.day}, {start.year}"
    return Hit(range=time_range(start, end + DAY, label), notes=first.notes)


def handle_n_to(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'the 3 months to June 2025', '12 weeks ending 2025-06-29': N periods up to X."""
    p, n, unit = parse_period(m["a"], ctx), parse_number(m["n"]), unit_of(m["u"])
    if p is None or n < 1:
        return None
    r = p.range
    if p.make is not None:
        r = latest(p, ctx, ctx.as_of, ended=ctx.end) or r
    noun = "half-year" if unit == "half" else unit
    label = f"{n} {noun}{'s' if n > 1 else ''} to {r.label}"
    out = time_range(shift(r.end, unit, -n), r.end, label)
    return Hit(range=out, notes=(covers(out),))


def handle_week_of(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'the week of June 2': the week containing that day."""
    p = parse_period(m["a"], ctx)
    if p is None or not p.day:
        return None
    start = start_of(p.range.start, "week", ctx)
    r = time_range(start, start + timedelta(weeks=1), f"week of {start}")
    return Hit(range=r, notes=(*p.notes, covers(r)))


def handle_since(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'since X', 'from X onwards': the start of X to as_of inclusive."""
    p = parse_period(m["a"], ctx)
    if p is None or p.range.start > ctx.as_of:
        return None
    r = time_range(p.range.start, ctx.end, f"since {p.range.label}")
    return Hit(range=r, notes=(*p.notes, f"'{r.label}' runs from {r.start} to {ctx.as_of}"))


def handle_point(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'as of X' and 'end of X' to a point in time (one day)."""
    p = parse_period(m["a"], ctx)
    if p is None:
        return None
    mode = m["mode"].lower()
    as_of_mode = "end" not in mode and "close" not in mode
    if p.day:
        return _point_hit(p.range.start, f"as of {p.range.label}", p.notes)
    notes = p.notes
    r = p.range
    if p.make is not None:
        r = latest(p, ctx, ctx.as_of, ended=ctx.end) or r
        notes = (f"'{p.said}' without a year means {r.label}, the most recent one ended by as_of",)
    day = last_day(r)
    if as_of_mode and r.start <= ctx.as_of < day:
        notes = (*notes, f"'{r.label}' is not over: 'as of {r.label}' is taken as {ctx.as_of}")
        day = ctx.as_of
    label = ("as of " if as_of_mode else "end of ") + r.label
    return _point_hit(day, label, notes)


def handle_period_end(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'year end', 'end of the quarter', 'EOM' to the most recent such end."""
    if m["a"]:
        p = parse_period(m["a"], ctx)
        if p is None or p.day:
            return None
        r = latest(p, ctx, ctx.as_of, ended=ctx.end) if p.make else p.range
        return None if r is None else _point_hit(last_day(r), f"end of {r.label}")
    word = (m["u1"] or m["u2"] or m["u3"]).lower()
    unit = unit_of("month" if word == "m" else word)
    fiscal = bool(m["f1"] or m["f2"])
    current = relative_period(unit, fiscal, 0, ctx).range
    day = ctx.as_of if last_day(current) == ctx.as_of else current.start - DAY
    noun = ("fiscal " if fiscal else "") + unit
    note = f"'{noun} end' means the most recent {noun} end on or before {ctx.as_of}: {day}"
    return _point_hit(day, f"{noun} end", (note,))


def handle_now(m: re.Match[str], ctx: Ctx) -> Hit:
    """Resolve 'currently', 'right now', 'as it stands' to as_of."""
    return _point_hit(ctx.as_of, "now")


_TO_DATE_ABBR: Final[dict[str, Unit]] = {
    "ytd": "year", "qtd": "quarter", "mtd": "month", "wtd": "week", "fytd": "year",
}  # fmt: skip


def handle_to_date(m: re.Match[str], ctx: Ctx) -> Hit:
    """Resolve 'YTD', 'month to date', 'so far this year': the period start to as_of."""
    found = {k: v.lower() for k, v in m.groupdict().items() if v and k != "pre"}
    word = next(v for k, v in found.items() if k.startswith(("u", "abbr")))
    unit = _TO_DATE_ABBR.get(word) or unit_of(word)
    fiscal = any(k[0] == "f" for k in found) or word == "fytd"
    fiscal = fiscal and unit in ("quarter", "year")
    start = start_of(ctx.as_of, unit, ctx, fiscal)
    label = ("fiscal " if fiscal else "") + f"{unit} to date"
    r = time_range(start, ctx.end, label)
    note = f"'{label}' runs from {start} to {ctx.as_of} (as_of, inclusive)"
    return Hit(range=r, notes=(note, *(fiscal_note(ctx) if fiscal else ())), to_date=True)


def handle_last_n(m: re.Match[str], ctx: Ctx) -> Hit | None:
    """Resolve 'last N <units>' and TTM (complete periods; days include today)."""
    n = 12 if m["ttm"] else parse_number(m["n"])
    unit = "month" if m["ttm"] else unit_of(m["u"])
    if n < 1:
        return None
    fiscal = (m["kind"] or "").lower() == "fiscal" and unit in ("quarter", "half", "year")
    noun = ("fiscal " if fiscal else "") + ("half-year" if unit == "half" else unit)
    label = f"last {n} {noun}{'s' if n > 1 else ''}"
    if unit == "day":
        r = time_range(ctx.as_of - timedelta(days=n - 1), ctx.end, label)
        note = f"'{label}' includes today: {r.start} to {ctx.as_of}"
    else:
        current = start_of(ctx.as_of, unit, ctx, fiscal)
        r = time_range(shift(current, unit, -n), current, label)
        note = (
            f"'{label}' means the {n} complete {noun}{'s' if n > 1 else ''} before the current one"
            f" ({r.start} to {last_day(r)}); the current, partial {noun} is excluded"
        )
    grain = GRAIN_OF.get(unit) if (m["pre"] or "").lower() == "over" and n >= 2 else None
    notes = (note, *(fiscal_note(ctx) if fiscal else ()))
    if grain:
        adjective = "daily" if grain == "day" else f"{grain}ly"
        notes = (*notes, f"'over the {label}' is read as a {adjective} series")
    return Hit(range=r, grain=grain, implied=True, notes=notes)
