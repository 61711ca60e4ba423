"""The number check: every number in an explanation is in the result or derived from it.

Derived numbers are declared by whoever writes the text: the period's days, a change and its
percentage, and the Total row and shares of a breakdown whose metric adds up
(`app.explain.headline`). Anything else (a sum of ratios, a made-up figure) fails the check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core.answer import Answer, Column, Period

NUM = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def numbers_in(text: str) -> list[Decimal]:
    """The numbers written in a text ("the top 10" → 10), thousands separators dropped."""
    return [Decimal(m.group(0).replace(",", "").replace("−", "-")) for m in NUM.finditer(text)]


def q(d: Decimal, exp: str) -> Decimal:
    """Round half-up to the exponent of `exp` ("0.01")."""
    return d.quantize(Decimal(exp), rounding=ROUND_HALF_UP)


def answer_numbers(answer: Answer) -> list[Decimal]:
    """Numbers an answer's prose may use besides its rows: the period's, its totals and shares."""
    out = period_numbers(answer.period, answer.as_of)
    for c, v in zip(answer.columns, answer.total or [], strict=False):
        if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
            d = Decimal(str(v))
            out += [d, d * 100] if c.kind == "ratio" else [d]
    out += [Decimal(s) * 100 for s in answer.shares if s is not None]
    return out


def period_numbers(period: Period | None, as_of: date | None) -> list[Decimal]:
    """Numbers prose may use besides the table: the days, months and years of the period."""
    days = [as_of] if as_of else []
    if period is not None:
        days += [period.start, period.end - timedelta(days=1), period.end]
        days += [period.point] if period.point else []
    out: list[Decimal] = []
    for d in days:
        out += [Decimal(d.year), Decimal(d.month), Decimal(d.day)]
    return out


def check_numbers(
    text: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], derived: Sequence[Decimal]
) -> bool:
    """True when every number in the text appears in the result (or is a declared derivation)."""
    allowed: set[Decimal] = set()
    for v in derived:
        allowed |= _variants(v)
    for row in rows:
        for c, v in zip(columns, row, strict=False):
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
                d = Decimal(str(v))
                allowed |= _variants(d)
                if c.kind == "ratio":
                    allowed |= _variants(d * 100)
            elif isinstance(v, date):
                allowed |= {Decimal(v.year), Decimal(v.month), Decimal(v.day)}
            elif isinstance(v, str):  # a label quoted in the text may hold numbers: "31-60 days"
                allowed |= {
                    abs(Decimal(n.group(0).replace(",", "").replace("−", "-")))
                    for n in NUM.finditer(v)
                }
    stripped = _DATE.sub(" ", text)
    for m in NUM.finditer(stripped):
        token = m.group(0).replace(",", "").replace("−", "-")
        d = Decimal(token)
        if d not in allowed and abs(d) not in allowed:
            return False
    return True


def _variants(d: Decimal) -> set[Decimal]:
    out = {d, abs(d)}
    for exp in ("1", "0.1", "0.01"):
        out.add(q(d, exp))
        out.add(q(abs(d), exp))
    return out
