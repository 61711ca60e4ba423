"""Regex building blocks of time phrases (numbers, units, months, years) and their token readers."""

from __future__ import annotations

import re
from typing import Final

from app.understand.time.dates import MONTH_NAMES, Ctx, Unit, fy_of


def _words_list(text: str) -> list[str]:
    return text.split()


def word_set(text: str) -> frozenset[str]:
    """The set of the space-separated words in ``text``."""
    return frozenset(text.split())


_MON_ABBR: Final = tuple(name[:3].lower() for name in MONTH_NAMES)
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
NUM = (
    r"(?:\d{1,4}(?!\d)|(?:"
    + "|".join(_TENS)
    + r")(?:[\s-]+(?:"
    + _ONES_RX
    + r"))?|"
    + "|".join(sorted(_SMALL, key=len, reverse=True))
    + r")(?![a-z])"
)
UNITS = (
    r"(?:days?|weeks?|wks?|months?|mos?|mths?|quarters?|qtrs?|half[\s-]+years?|halves|years?|yrs?)"
)
UNIT1 = r"(?:week|wk|month|mth|mo|quarter|qtr|half[\s-]+year|half|year|yr|fy)"
PERIOD_UNIT = r"(?:year|quarter|month|week)"
MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])(?:\.(?=\s*\d))?"
)
YEAR_AFTER = r"(?:,?\s*(?P<y>20\d\d)(?!\d)|\s*['’](?P<yy>\d\d)(?!\d))"
DD = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d])"
YS = (
    r"(?:(?:cy\s*|(?:calendar\s+)?year\s+|calendar\s+)?(?P<cy>20\d\d)(?!\d)|['’](?P<yy>\d\d)(?!\d)"
    r"|(?:fy|fiscal(?:\s+year)?)\s*['’]?\s*(?P<fy>20\d\d|\d\d)(?!\d)"
    r"|(?P<rel>this|current|last|previous|prior)\s+(?P<relf>fiscal\s+|calendar\s+)?"
    r"(?:year|(?P<relfy>fy))(?!\w))"
)
YS_REL = (
    r"(?P<rel>this|current|last|previous|prior)\s+(?P<relf>fiscal\s+|calendar\s+)?"
    r"(?:year|(?P<relfy>fy))(?!\w)"
)
QTOK = (
    r"(?P<fpre>fiscal\s+)?(?:(?P<fq>f)?q(?P<q>[1-4])(?=fy|[^\w&]|$)"
    r"|(?P<qo>first|second|third|fourth|last|final|1st|2nd|3rd|4th)\s+(?P<qf>fiscal\s+)?"
    r"(?:quarter|qtr)(?!\w))"
)
HTOK = (
    r"(?P<fpre>fiscal\s+)?(?:h(?P<h>[12])(?=fy|[^\w&]|$)"
    r"|(?P<ho>first|second|last|1st|2nd)\s+(?P<hf>fiscal\s+)?half"
    r"(?:[\s-]+(?:of\s+(?:the\s+)?)?year(?!\s*(?:20\d\d|['’]\d\d)))?(?!\w))"
)
YS_SEP = r"(?:\s*[,/-]\s*|\s+(?:of\s+)?(?:the\s+)?|\s*)"
MONTH_DAY = MON + r"\s+" + DD + YEAR_AFTER + "?"
DAY_MONTH = r"(?<![\d.,$€£])" + DD + r"\s+(?:of\s+)?" + MON + YEAR_AFTER + "?"
MONTH_BARE = r"(?:month\s+of\s+)?" + MON
LIST_SEP = r"\s*(?:,|&|\band\b|\bor\b)\s*(?:(?:and|or)\s+)?(?:the\s+)?"  # not "vs": Q1 vs Q1 2024
MONTH_ORDINALS: Final[dict[str, int]] = {
    **{w: i for i, w in enumerate(_words_list(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"), 1)},
    **{f"{i}{'st' if i == 1 else 'nd' if i == 2 else 'rd' if i == 3 else 'th'}": i
       for i in range(1, 13)},
    "last": 12, "final": 12,
}  # fmt: skip
# "the last month of 2025", "the third month of the fiscal year", "the first month of last year".
MONTH_OF_YEAR = (
    r"(?P<mo>" + "|".join(sorted(MONTH_ORDINALS, key=len, reverse=True)) + r")\s+month\s+of\s+"
    r"(?:the\s+)?(?:" + YS + r"|(?P<bare>(?:fiscal\s+|calendar\s+)?year)(?!\s*(?:20\d\d|['’]\d\d)))"
    r"(?!\w)"
)
# "the last completed month", "the most recent full quarter", "the previous whole fiscal year".
COMPLETED = (
    r"(?:last|latest|most\s+recent|previous|prior)\s+"
    r"(?P<adj>completed|complete|full|whole|finished|entire)\s+"
    r"(?P<kind>fiscal\s+|calendar\s+)?(?P<u>" + UNIT1 + r")(?!\w)"
)
ORDINALS: Final[dict[str, int]] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "last": 4, "final": 4,
}  # fmt: skip
COUNT_WORDS: Final = word_set(
    "top bottom than least most exceeding exceeds exceed largest biggest smallest best worst "
    "first last next"
)
AMOUNT_AFTER = re.compile(
    r"\s*(?:%|percent\b|[kmb]\b|bn\b|(?:usd|eur|gbp|chf|jpy|cad|aud|dollars?|euros?|pounds?)\b"
    r"|(?:customers?|invoices?|users?|subscriptions?|subscribers?|accounts?|charges?|payments?"
    r"|orders?|units?|rows?|records?|transactions?|refunds?|disputes?|seats?|items?|products?)\b)",
    re.IGNORECASE,
)
_UNIT_PREFIXES: Final[tuple[tuple[str, Unit], ...]] = (
    ("d", "day"), ("w", "week"), ("m", "month"), ("q", "quarter"),
)  # fmt: skip
_WORD_BEFORE = re.compile(r"([a-z]+)[^a-z0-9]*$", re.IGNORECASE)
_WORD_AFTER = re.compile(r"[^a-z0-9]*([a-z]+)", re.IGNORECASE)


def word_before(text: str, i: int) -> str:
    """The word just before position ``i`` (lower case), or ""."""
    m = _WORD_BEFORE.search(text, max(0, i - 40), i)
    return m.group(1).lower() if m else ""


def word_after(text: str, i: int) -> str:
    """The word just after position ``i`` (lower case), or ""."""
    m = _WORD_AFTER.match(text, i)
    return m.group(1).lower() if m else ""


def unnamed(rx: str) -> str:
    """``rx`` with its named groups made anonymous, to embed it in a larger pattern."""
    return re.sub(r"\(\?P<\w+>", "(?:", rx)


def parse_number(word: str) -> int:
    """The value of a count: '3', 'a', 'twelve', 'twenty-four'."""
    w = word.lower()
    if w.isdigit():
        return int(w)
    if w in ("a", "an"):
        return 1
    return sum(_TENS.get(p, _SMALL.get(p, 0)) for p in re.split(r"[\s-]+", w))


def unit_of(word: str) -> Unit:
    """The unit a unit word names: 'wks' -> week, 'qtr' -> quarter, 'fy' -> year."""
    w = word.lower()
    for prefix, unit in _UNIT_PREFIXES:
        if w.startswith(prefix):
            return unit
    return "half" if w.startswith("h") else "year"


def month_of(m: re.Match[str]) -> int:
    """The month number of a match's ``mon`` group."""
    return _MON_ABBR.index(m["mon"][:3].lower()) + 1


def year_of(m: re.Match[str]) -> int | None:
    """The year of a match's ``y`` or ``yy`` group, if it has one."""
    if m["y"]:
        return int(m["y"])
    return 2000 + int(m["yy"]) if m["yy"] else None


def year_spec(m: re.Match[str], ctx: Ctx) -> tuple[int, bool] | None:
    """Return the year a ``YS`` group names, as (year, fiscal), or None."""
    g = m.groupdict()
    if g.get("cy"):
        return int(g["cy"]), False
    if g.get("yy"):
        return 2000 + int(g["yy"]), False
    if g.get("fy"):
        return int(g["fy"]) % 100 + 2000, True
    if g.get("rel"):
        fiscal = bool(g.get("relfy")) or (g.get("relf") or "").strip().lower() == "fiscal"
        base = fy_of(ctx.as_of, ctx) if fiscal else ctx.as_of.year
        return base - (0 if g["rel"].lower() in ("this", "current") else 1), fiscal
    return None
