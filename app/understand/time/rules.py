"""The rule table of time phrases, in priority order, compiled on first use."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from app.core.plan import Grain
from app.understand.time.atoms import ATOMS, MONTH_GATE, PERIOD
from app.understand.time.dates import GRAIN_OF, Ctx
from app.understand.time.hits import (
    Handler,
    Hit,
    atom_handler,
    handle_day_list,
    handle_last_n,
    handle_list_head,
    handle_n_to,
    handle_now,
    handle_period_end,
    handle_point,
    handle_range,
    handle_since,
    handle_to_date,
    handle_week_of,
)
from app.understand.time.patterns import (
    DAY_MONTH,
    HTOK,
    LIST_SEP,
    MON,
    MONTH_BARE,
    MONTH_DAY,
    NUM,
    PERIOD_UNIT,
    QTOK,
    UNITS,
    YEAR_AFTER,
    unit_of,
    unnamed,
    word_before,
    word_set,
)

_ADJ_GRAIN: Final[dict[str, Grain]] = {
    "daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
    "yearly": "year", "annually": "year",
}  # fmt: skip
_NOT_GRAIN_AFTER: Final = re.compile(
    r"[\s-]+(?:recurring|plans?|subscriptions?|subscribers?|billing|billed|prices?|pricing"
    r"|intervals?|active|contracts?|tiers?|fees?|installments?|commitments?|cadence|renewals?)\b",
    re.IGNORECASE,
)
_NOT_GRAIN_BEFORE: Final = word_set(
    "billed paid charged invoiced renewed renews renewing renew bill pay charge recurs recurring "
    "subscribed"
)


def _handle_grain(m: re.Match[str], ctx: Ctx) -> Hit | None:
    found = m.groupdict()
    if found.get("adj"):
        if _NOT_GRAIN_AFTER.match(m.string, m.end("adj")):
            return None
        if word_before(m.string, m.start()) in _NOT_GRAIN_BEFORE:
            return None
        return Hit(grain=_ADJ_GRAIN[found["adj"].lower()])
    if abbr := found.get("abbr") or found.get("abbr2"):
        return Hit(grain=GRAIN_OF[unit_of(abbr)])
    if found.get("conn") and found["u"].lower() == "year" and found["conn"].lower() != "by":
        return None  # "year over year" is a comparison, not a grain
    word = found["u"].lower()
    grain = GRAIN_OF.get(unit_of(word))
    if grain is None:
        return None
    notes: tuple[str, ...] = ()
    if (found.get("kind") or "").lower() == "fiscal" and ctx.fy_start != 1:
        notes = (f"'by fiscal {word}' is returned as grain '{grain}' (calendar buckets)",)
    return Hit(grain=grain, notes=notes)


def _handle_each_end(m: re.Match[str], ctx: Ctx) -> Hit:
    """'at each year end', 'at the end of every month': a series at that grain, read at its ends."""
    grain = GRAIN_OF[unit_of((m["u"] or m["u2"]).lower())]
    return Hit(grain=grain)  # the compiler states the day each value is read at


def _handle_block(m: re.Match[str], ctx: Ctx) -> Hit:
    return Hit(blocked=True)


def _handle_anaphor(m: re.Match[str], ctx: Ctx) -> Hit:
    return Hit(anaphor=m.group(0).lower())


_FILLER = r"(?:(?P<pre>in|during|for|over|within|throughout|on|of)\s+)?(?:the\s+)?"
_AS_OF = r"as\s+(?:of|at)"
_END_OF = r"(?:(?:" + _AS_OF + r"|at|by)\s+)?(?:the\s+)?(?:end|close)\s+of"

_YEARLESS: Final = "|".join(unnamed(x) for x in (MONTH_DAY, DAY_MONTH, QTOK, HTOK, MONTH_BARE))
_LIST_GATE: Final = r"[,&]|\band\b|\bor\b"  # LIST_SEP, which the list head's lookahead needs
_DAY: Final = r"[0-3]?\d(?:st|nd|rd|th)?(?!\d)"
_DAYS: Final = _DAY + r"(?:\s*(?:,|&|\band\b|\bor\b)\s*(?:(?:and|or)\s+)?" + _DAY + ")+"
# The rules that embed the whole period union are costly to compile; each has a gate, a small
# pattern that every match of the rule contains (or, for a lookahead, is followed by), so that the
# rule is compiled and searched only when its gate is in the question.
_COMPOSITE_RULES: Final[tuple[tuple[str, Handler, str], ...]] = (
    (
        r"(?P<mode>" + _AS_OF + r"(?:\s+the\s+(?:end|close)\s+of)?|" + _END_OF + r")\s+"
        r"(?:the\s+)?(?P<a>" + PERIOD + ")",
        handle_point,
        r"as\s+(?:of|at)|(?:end|close)\s+of",
    ),
    (
        r"(?:" + _END_OF + r"\s+(?:the\s+)?(?P<f1>fiscal\s+)?(?P<u1>" + PERIOD_UNIT + r")"
        r"|(?:(?:"
        + _AS_OF
        + r"|at|by)\s+)?(?:the\s+)?(?P<f2>fiscal\s+)?(?P<u2>"
        + PERIOD_UNIT
        + r")[\s-]?end|eo(?P<u3>[yqm]))(?!\w)(?:\s+(?:of\s+)?(?P<a>"
        + PERIOD
        + "))?",
        handle_period_end,
        r"(?:end|close)\s+of|(?:year|quarter|month|week)[\s-]?end|eo[yqm]",
    ),
    (
        r"(?:currently|right\s+now|(?:as\s+of|at)\s+(?:right\s+)?now|as\s+of\s+the\s+present"
        r"|at\s+(?:present|the\s+moment|this\s+(?:moment|point(?:\s+in\s+time)?))"
        r"|as\s+(?:it|things)\s+stands?)",
        handle_now,
        r"currently|now|present|moment|point|stand",
    ),
    (
        r"(?:(?P<kw>from|between)\s+(?:the\s+)?)?(?P<a>" + PERIOD + r")(?P<conn>\s*[-–—]\s*"
        r"|\s+(?:to|through|thru|until|till|and)\s+)(?:the\s+)?(?P<b>" + PERIOD + r")"
        r"(?:\s+inclusive)?",
        handle_range,
        r"[-–—]|\s(?:to|through|thru|until|till|and)\s",
    ),
    (
        r"(?:(?P<mon>" + unnamed(MON) + r")\s+(?P<days>" + _DAYS + ")"
        r"|(?<![\d.,$€£])(?P<days2>" + _DAYS + r")\s+(?:of\s+)?(?P<mon2>" + unnamed(MON) + "))"
        r"(?P<yr>" + unnamed(YEAR_AFTER) + ")?",
        handle_day_list,
        MONTH_GATE,
    ),
    (
        r"(?P<n>" + NUM + r")\s+(?P<u>" + UNITS + r")\s+(?:to|ending|ended|through|up\s+to)\s+"
        r"(?:the\s+)?(?:(?:end|close)\s+of\s+(?:the\s+)?)?(?P<a>" + PERIOD + ")",
        handle_n_to,
        r"\s(?:to|ending|ended|through|up\s+to)\s",
    ),
    (
        r"week\s+(?:of|starting|beginning|commencing)\s+(?:the\s+)?(?P<a>" + PERIOD + ")",
        handle_week_of,
        r"week\s+(?:of|starting|beginning|commencing)\s",
    ),
    (
        r"(?:since|from|starting(?:\s+(?:from|in|on|with))?|beginning(?:\s+(?:in|on|with))?)\s+"
        r"(?:the\s+)?(?:(?:start|beginning)\s+of\s+(?:the\s+)?)?(?P<a>" + PERIOD + r")"
        r"(?:\s+(?:onwards?|forward|on|(?:until|till|through)\s+(?:now|today)"
        r"|(?:up\s+)?to\s+(?:date|now|today|the\s+present)))?",
        handle_since,
        r"(?:since|from|starting|beginning)\s",
    ),
    (
        r"(?:(?P<f1>fiscal\s+)?(?P<u1>" + PERIOD_UNIT + r")[\s-]+to[\s-]+date"
        r"|(?P<abbr>fytd|ytd|qtd|mtd|wtd)|(?P<f2>fiscal\s+)(?P<abbr2>ytd|qtd)"
        r"|so\s+far\s+this\s+(?P<f3>fiscal\s+)?(?P<u3>" + PERIOD_UNIT + r")"
        r"|(?:this\s+)?(?P<f4>fiscal\s+)?(?P<u4>" + PERIOD_UNIT + r")\s+(?:so\s+far|to\s+date)"
        r"|since\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(?P<f5>fiscal\s+)?"
        r"(?P<u5>" + PERIOD_UNIT + r"))",
        handle_to_date,
        r"td|so\s+far|to[\s-]+date|since\s",
    ),
    (
        r"(?:(?:last|past|previous|prior|trailing|rolling)\s+(?P<n>" + NUM + r")(?:\s+|-)"
        r"(?:(?P<kind>fiscal|calendar|full|complete|whole)\s+)?(?P<u>" + UNITS + r")"
        r"(?:\s+(?:period|window))?|(?P<ttm>ttm|ltm|t12m|l12m))",
        handle_last_n,
        r"(?:last|past|previous|prior|trailing|rolling)\s|ttm|ltm|t12m|l12m",
    ),
)
_GRAIN_RULES: Final[tuple[tuple[str, Handler, str], ...]] = (
    (
        r"(?:(?:at|as\s+of|on)\s+)?(?:the\s+)?(?:(?:end|close)\s+of\s+(?:each|every)\s+"
        r"(?P<u>week|month|quarter|year)|(?:each|every)\s+(?P<u2>week|month|quarter|year)[\s-]?end)",
        _handle_each_end,
        r"each|every",
    ),
    (
        r"(?:(?:broken\s+down|grouped|split|bucketed|aggregated|rolled\s+up|summari[sz]ed)\s+)?"
        r"(?:by|per|each|every|for\s+(?:each|every))\s+(?:the\s+)?(?:(?P<kind>fiscal|calendar)\s+)?"
        r"(?P<u>day|week|month|quarter|year|qtr|wk|yr)",
        _handle_grain,
        r"(?:by|per|each|every)\s",
    ),
    (
        r"(?:on\s+an?\s+)?(?P<adj>" + "|".join(_ADJ_GRAIN) + r")(?:\s+basis)?",
        _handle_grain,
        "|".join(_ADJ_GRAIN),
    ),
    (
        r"(?P<u>day|week|month|quarter|year)[\s-]+(?P<conn>by|over|on)[\s-]+(?P=u)",
        _handle_grain,
        r"[\s-](?:by|over|on)[\s-]",
    ),
    (
        r"(?-i:(?P<abbr>MoM|MOM|QoQ|QOQ|WoW))|(?P<abbr2>[mqw])/(?P=abbr2)",
        _handle_grain,
        r"mom|qoq|wow|[mqw]/[mqw]",
    ),
)
_BLOCK_RULES: Final[tuple[tuple[str, str], ...]] = (
    (
        r"(?:before|until|till|up\s+to|prior\s+to|after|earlier\s+than|later\s+than|ahead\s+of"
        r"|pre|post)[\s-]+(?:the\s+)?(?:(?:start|end|beginning|close)\s+of\s+(?:the\s+)?)?"
        + PERIOD,
        r"(?:before|until|till|up\s+to|prior\s+to|after|earlier\s+than|later\s+than|ahead\s+of"
        r"|pre|post)[\s-]",
    ),
    (
        r"(?:next|coming|upcoming|following)\s+(?:(?:" + NUM + r")\s+)?(?:fiscal\s+|calendar\s+)?"
        r"(?:" + UNITS + "|" + PERIOD + ")",
        r"(?:next|coming|upcoming|following)\s",
    ),
    (r"tomorrow", "tomorrow"),
)


@dataclass(frozen=True)
class Rule:
    """A time-phrase pattern, the handler of its matches and its gate, compiled on first use.

    The gate is a small pattern found in every question the rule can match ("" = no gate): a
    question without it skips the rule, and never pays for compiling it. A gate is written in lower
    case and searched in the lower-cased question: case-insensitive search is several times slower.
    """

    pattern: str
    handle: Handler
    gate: str = ""

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The rule's pattern, compiled."""
        return re.compile(self.pattern, re.IGNORECASE)

    @functools.cached_property
    def gate_regex(self) -> re.Pattern[str] | None:
        """The gate, compiled (it matches lower-case text), or None when the rule has none."""
        return re.compile(self.gate) if self.gate else None

    def may_match(self, text: str, lowered: str | None = None) -> bool:
        """False when ``text`` (``lowered``: the same text in lower case) lacks the gate."""
        if self.gate_regex is None:
            return True
        return self.gate_regex.search(text.lower() if lowered is None else lowered) is not None


def _rule(core: str, handle: Handler, gate: str = "", *, filler: bool = True) -> Rule:
    rx = r"(?<!\w)" + (_FILLER if filler else "") + r"(?:" + core + r")(?!\w)"
    return Rule(rx, handle, gate)


@functools.cache
def rules() -> tuple[Rule, ...]:
    """Every rule (not yet compiled); a lower index wins a tie between equally long matches."""
    return (
        _rule(r"(?P<a>" + _YEARLESS + r")(?=" + LIST_SEP + ")", handle_list_head, _LIST_GATE),
        *(_rule(a.core, atom_handler(a.resolve), a.gate) for a in ATOMS),
        *(_rule(core, handle, gate) for core, handle, gate in _COMPOSITE_RULES),
        *(_rule(core, handle, gate, filler=False) for core, handle, gate in _GRAIN_RULES),
        _rule(
            r"the\s+(?:one|day|week|month|quarter|year)\s+before(?:\s+(?:last|that))?",
            _handle_anaphor,
            r"\s+before",
            filler=False,
        ),
        *(_rule(core, _handle_block, gate, filler=False) for core, gate in _BLOCK_RULES),
    )
