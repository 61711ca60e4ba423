"""The one formatter for money, counts, ratios and dates: prose, the CLI and the UI all use it.

Money is shown in its currency's own decimals: whole units for the semantic model's
zero-decimal currencies (`zero_decimal_currencies` in data/semantic/vocabulary.yaml, the list
the compiler converts with), two decimals otherwise. Rounding is half-up, the rounding the
number check (`app.explain.prose.check_numbers`) accepts.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from app.core.answer import Column
from app.semantic.load import semantic_model

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}
MISSING = "—"


@cache
def _zero_decimal() -> frozenset[str]:
    return frozenset(c.lower() for c in semantic_model().zero_decimal_currencies)


def currency_decimals(currency: str | None) -> int:
    """Decimal places a currency's amounts are shown with (0 for zero-decimal currencies)."""
    return 0 if (currency or "").lower() in _zero_decimal() else 2


def format_money(value: Any, currency: str | None) -> str:
    """Money with thousands separators, the currency's decimals and its symbol or code."""
    if value is None:
        return MISSING
    d = Decimal(str(value))
    places = currency_decimals(currency)
    rounded = abs(d).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    body = f"{rounded:,.{places}f}"
    cur = (currency or "").lower()
    sym = SYMBOLS.get(cur)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {cur.upper()}".strip()


def format_value(value: Any, col: Column, row_currency: str | None = None) -> str:
    """Human formatting of one cell according to its column kind."""
    if value is None:
        return MISSING
    if col.kind == "money":
        return format_money(value, col.currency or row_currency)
    if col.kind == "ratio":
        return f"{Decimal(str(value)) * 100:.2f}%"
    if col.kind == "count":
        return f"{int(value):,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
