"""The atom table: every self-contained period phrase, in match order, and how to resolve it."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from app.understand.time.dates import Ctx, fy_of
from app.understand.time.named import (
    resolve_fiscal_year,
    resolve_iso,
    resolve_month,
    resolve_month_day,
    resolve_month_of_year,
    resolve_month_year,
    resolve_part,
    resolve_slash,
    resolve_year,
    resolve_year_month,
)
from app.understand.time.patterns import (
    COMPLETED,
    DAY_MONTH,
    HTOK,
    MON,
    MONTH_BARE,
    MONTH_DAY,
    MONTH_OF_YEAR,
    NUM,
    QTOK,
    UNIT1,
    YEAR_AFTER,
    YS,
    YS_REL,
    YS_SEP,
    unnamed,
    year_spec,
)
from app.understand.time.periods import Period, latest
from app.understand.time.relative import (
    resolve_ago,
    resolve_before_last,
    resolve_completed,
    resolve_relative,
    resolve_today,
)

Resolver = Callable[[re.Match[str], Ctx], Period | None]
_T = TypeVar("_T")


def _resolve_of_year(m: re.Match[str], ctx: Ctx) -> Period | None:
    """Resolve a yearless month/day plus 'last year', 'this fiscal year' ('March last year')."""
    p = parse_period(m["a"], ctx)
    spec = year_spec(m, ctx)
    if p is None or p.make is None or spec is None:
        return None
    r = p.make(*spec)
    return None if r is None else Period(r, day=p.day)


def _resolve_rel_yearless(m: re.Match[str], ctx: Ctx) -> Period | None:
    """'last March', 'this Q3', 'last H2': the most recent complete one / the current year's."""
    p = parse_period(m["a"], ctx)
    if p is None or p.make is None:
        return None
    if m["rel"].lower() == "this":
        r = p.make(fy_of(ctx.as_of, ctx) if p.fiscal else ctx.as_of.year, p.fiscal)
        return None if r is None else Period(r, day=p.day)
    r = latest(p, ctx, ctx.as_of, ended=ctx.as_of)
    if r is None:
        return None
    note = f"'last {p.said}' means {r.label}, the most recent {p.said} that ended before as_of"
    return Period(r, day=p.day, notes=(note,))


@dataclass(frozen=True)
class _Atom:
    core: str
    resolve: Resolver
    gate: str = ""  # a small pattern that every match of ``core`` contains (see rules.Rule)


# A month's name as MON reads it, a word of its own ("market", "decline" do not open the gate).
MONTH_GATE: Final = (
    r"(?<![a-z])(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)
_ISO_GATE: Final = r"20\d\d[-/]"


# Order matters inside the range/since/as-of unions (first alternative that fits wins), so the
# longer forms come first.
ATOMS: Final[tuple[_Atom, ...]] = (
    _Atom(MONTH_OF_YEAR, resolve_month_of_year, r"month\s+of\s"),
    _Atom(COMPLETED, resolve_completed, r"complete|full|whole|finished|entire"),
    _Atom(
        r"(?P<a>" + "|".join(unnamed(x) for x in (MONTH_DAY, DAY_MONTH, MONTH_BARE)) + r")"
        r"\s*,?\s+(?:of\s+)?(?:the\s+)?" + YS_REL,
        _resolve_of_year,
        unnamed(YS_REL),
    ),
    _Atom(
        r"(?P<rel>last|this|previous)\s+(?P<a>"
        + "|".join(unnamed(x) for x in (QTOK, HTOK, MONTH_BARE))
        + ")",
        _resolve_rel_yearless,
        r"(?:last|this|previous)\s+(?:fiscal\s|f?q[1-4]|h[12]|first|second|third|fourth|last|final"
        r"|1st|2nd|3rd|4th|month\s+of\s|" + MONTH_GATE + ")",
    ),
    _Atom(r"(?P<y>20\d\d)[-/](?P<m>[01]?\d)[-/](?P<d>[0-3]?\d)(?!\d)", resolve_iso, _ISO_GATE),
    _Atom(
        r"(?<![\d/])(?P<m>[0-3]?\d)/(?P<d>[0-3]?\d)/(?P<y>20\d\d|\d\d)(?![\d/])", resolve_slash, "/"
    ),
    _Atom(MONTH_DAY, resolve_month_day, MONTH_GATE),
    _Atom(DAY_MONTH, resolve_month_day, MONTH_GATE),
    _Atom(r"(?:month\s+of\s+)?" + MON + r"(?:\s+of)?" + YEAR_AFTER, resolve_month_year, MONTH_GATE),
    _Atom(r"(?P<y>20\d\d)[-/](?P<m>0[1-9]|1[0-2])(?!\d|[-/]\d)", resolve_year_month, _ISO_GATE),
    _Atom(
        r"(?:(?P<y4>20\d\d)|(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d))\s*[-/]?\s*"
        r"(?:(?P<fq>f)?q(?P<q>[1-4])|h(?P<h>[12]))(?!\w)",
        resolve_part,
        r"q[1-4]|h[12]",
    ),
    _Atom(QTOK + r"(?:" + YS_SEP + YS + r")?", resolve_part, r"q[1-4]|quarter|qtr"),
    _Atom(HTOK + r"(?:" + YS_SEP + YS + r")?", resolve_part, r"h[12]|half"),
    _Atom(
        r"(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d)(?:[/-](?P<fy2>(?:20)?\d\d))?(?!\d)",
        resolve_fiscal_year,
        r"fy|fiscal",
    ),
    _Atom(
        r"(?:(?:calendar\s+)?year\s+(?P<y1>20\d\d)|cy\s*(?P<y2>20\d\d)"
        r"|(?<![\w$€£./])(?<!\d,)(?P<y>20\d\d))(?![\d%]|[.,]\d|-\d{1,2}(?!\d))",
        resolve_year,
        r"20\d\d",
    ),
    _Atom(
        r"(?P<rel>this|current|last|previous|prior|past|next[\s-]+to[\s-]+last"
        r"|second[\s-]+to[\s-]+last|penultimate)\s+(?P<kind>fiscal\s+|calendar\s+)?(?P<u>"
        + UNIT1
        + r")(?!\w)",
        resolve_relative,
        r"(?:this|current|last|previous|prior|past|penultimate)\s",
    ),
    _Atom(
        r"(?P<kind>fiscal\s+|calendar\s+)?(?P<u>" + UNIT1 + r")\s+before\s+(?:the\s+)?last",
        resolve_before_last,
        r"before\s",
    ),
    _Atom(
        r"(?P<n>" + NUM + r"|an?)\s+(?P<kind>fiscal\s+|calendar\s+)?(?P<u>"
        r"days?|weeks?|months?|quarters?|years?)\s+ago",
        resolve_ago,
        r"\sago",
    ),
    _Atom(r"(?P<w>today|yesterday|day\s+before\s+yesterday)", resolve_today, r"today|yesterday"),
    _Atom(MONTH_BARE, resolve_month, MONTH_GATE),
)
PERIOD: Final = "(?:" + "|".join(unnamed(a.core) for a in ATOMS) + ")"
_LEADING_THE = re.compile(r"^\s*(?:the\s+)?", re.IGNORECASE)


@functools.cache
def _atom_regex(i: int) -> re.Pattern[str]:
    """Atom ``i`` compiled for whole-phrase matches (on first use, not at import)."""
    return re.compile(ATOMS[i].core, re.IGNORECASE)


def safe(fn: Callable[[re.Match[str], Ctx], _T | None], m: re.Match[str], ctx: Ctx) -> _T | None:
    """Call a resolver or handler; None when the phrase names an impossible date."""
    try:
        return fn(m, ctx)
    except (ValueError, OverflowError, KeyError):
        return None


def parse_period(text: str, ctx: Ctx) -> Period | None:
    """Resolve a sub-phrase (a range endpoint, the X of 'since X') as a single atom."""
    t = _LEADING_THE.sub("", text).strip()
    for i, atom in enumerate(ATOMS):
        m = _atom_regex(i).fullmatch(t)
        if m is not None and (p := safe(atom.resolve, m, ctx)) is not None:
            return p
    return None
