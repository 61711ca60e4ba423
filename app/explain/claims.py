"""Claims in model-written text checked against an Answer: numbers, dates and names.

`check_numbers` (app.explain.prose) proves every number in prose is in the result. A model's
text also states dates ("since 2025-12-31", "in March 2025") and names ("Maya Tremblay"); this
module finds those and keeps a claim only when the answer supports it: a date is a value of the
result, a bound of the period, the as-of date or a date of the question; a month is one of those
or inside the period; a name is in the result's text cells, its columns, definitions, read-back
or the question. Text with any unsupported claim is dropped by the caller, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.core.answer import Answer
from app.explain.numbers import answer_numbers, check_numbers

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = re.compile(
    r"\b(" + "|".join(m.capitalize() for m in _MONTHS) + r")(?:\s+(\d{1,2})(?:st|nd|rd|th)?,?)?"
    r"\s+(\d{4})\b"
)
_DAY_MONTH = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(m.capitalize() for m in _MONTHS) + r")\s+(\d{4})\b"
)
_NAME = re.compile(r"\b[A-Z][\w'&.-]*[a-z][\w'&.-]*(?:\s+[A-Z][\w'&.-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")
_COMMON_TEXT = """
the a an this that these those in on at for from of by to and or but it its there here their our
your we you he she they total overall amount amounts net gross revenue between during since until
after before as with without all each every no not none only however also note
"""
_COMMON = frozenset(_COMMON_TEXT.split())


def _dates_of(answer: Answer) -> set[date]:
    days: set[date] = set()
    if answer.as_of is not None:
        days.add(answer.as_of)
    p = answer.period
    if p is not None:
        days |= {p.start, p.end, p.end - timedelta(days=1)}
        if p.point is not None:
            days.add(p.point)
    for row in answer.rows:
        for v in row:
            if isinstance(v, datetime):
                days.add(v.date())
            elif isinstance(v, date):
                days.add(v)
            elif isinstance(v, str):
                days |= {date(*map(int, m.groups())) for m in _ISO.finditer(v) if _valid(m)}
    days |= {date(*map(int, m.groups())) for m in _ISO.finditer(answer.question) if _valid(m)}
    return days


def _valid(m: re.Match[str]) -> bool:
    try:
        date(*map(int, m.groups()))
    except ValueError:
        return False
    return True


def _corpus(answer: Answer) -> str:
    parts = [answer.question, answer.headline, answer.read_back, *answer.filters]
    parts += [f"{c.name} {c.label}" for c in answer.columns]
    parts += [f"{d.metric} {d.label} {d.definition}" for d in answer.definitions]
    parts += [str(v) for row in answer.rows for v in row if isinstance(v, str)]
    if answer.period is not None:
        parts.append(answer.period.label)
    return "\n".join(parts).lower()


def _dates_claimed(text: str) -> Iterator[tuple[str, date | None, tuple[int, int]]]:
    """(claim, exact day or None for a month, (year, month)) for every date in the text."""
    for m in _ISO.finditer(text):
        if _valid(m):
            d = date(*map(int, m.groups()))
            yield m.group(0), d, (d.year, d.month)
    for m in _MONTH.finditer(text):
        month = _MONTHS.index(m.group(1).lower()) + 1
        year, day = int(m.group(3)), m.group(2)
        exact = _safe_date(year, month, int(day)) if day else None
        yield m.group(0), exact, (year, month)
    for m in _DAY_MONTH.finditer(text):
        month = _MONTHS.index(m.group(2).lower()) + 1
        year = int(m.group(3))
        yield m.group(0), _safe_date(year, month, int(m.group(1))), (year, month)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_supported(ym: tuple[int, int], days: set[date], answer: Answer) -> bool:
    if any((d.year, d.month) == ym for d in days):
        return True
    p = answer.period
    first = date(ym[0], ym[1], 1)
    return p is not None and p.start <= first < p.end


def _names(text: str) -> Iterator[str]:
    """Capitalised runs that may name a customer, product or person (not sentence openers)."""
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if _SENTENCE_START.search(text[: m.start()]) and words[0].lower() in _COMMON | {""}:
            words = words[1:]
        elif _SENTENCE_START.search(text[: m.start()]) and len(words) == 1:
            continue
        words = [w.strip(".,;:'") for w in words]
        words = [w for w in words if w and w.lower() not in _MONTHS + _WEEKDAYS]
        if words and not all(w.lower() in _COMMON for w in words):
            yield " ".join(words)


def unsupported(text: str, answer: Answer) -> list[str]:
    """The numbers, dates and names in `text` that the answer does not support (empty: all do)."""
    out: list[str] = []
    days = _dates_of(answer)
    for claim, exact, ym in _dates_claimed(text):
        if (exact is not None and exact not in days) or not _month_supported(ym, days, answer):
            out.append(claim)
    derived = answer_numbers(answer)  # the period's numbers, the Total row and the shares
    derived += [Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", answer.question)]
    without_dates = _MONTH.sub(" ", _DAY_MONTH.sub(" ", text))
    if not check_numbers(without_dates, answer.columns, answer.rows, derived):
        out.append("a number not in the result")
    corpus = _corpus(answer)
    out += [n for n in _names(without_dates) if n.lower() not in corpus]
    return out
