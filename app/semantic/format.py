"""The one formatter: how money, counts, ratios, periods and codes are shown to people.

The CLI's tables, the app (tables, tooltips, KPI tiles, chips), the explanation's prose and the
CSV download all format through here, so a figure reads the same wherever it appears:

* money in its currency's own decimals (whole units for the semantic model's
  `zero_decimal_currencies`, two decimals otherwise), rounded half-up as the number check
  (`app.explain.prose.check_numbers`) accepts, with the minus before the symbol: −$1,253.19;
* ratios as percentages (12.34%), counts with thousands separators, a typographic minus (−);
* time buckets by their grain: January 2025, Q1 2025, week of 2025-01-06, 2025;
* a dimension's stored codes by the model's labels (bacs_debit → Bacs Direct Debit, DE → Germany);
* plurals that agree with their number (1 row, 8 plans / prices).

Machine output keeps the data as it is: `csv_cell` writes exact decimals without symbols, ISO dates
and codes as stored (JSON carries the raw rows).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from app.core.answer import Column, LlmUsage
from app.semantic.load import semantic_model

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}
MISSING = "—"
MINUS = "−"  # U+2212: the minus sign, as wide as the plus
_DAY = timedelta(days=1)


@cache
def _zero_decimal() -> frozenset[str]:
    return frozenset(c.lower() for c in semantic_model().zero_decimal_currencies)


def currency_decimals(currency: str | None) -> int:
    """Decimal places a currency's amounts are shown with (0 for zero-decimal currencies)."""
    return 0 if (currency or "").lower() in _zero_decimal() else 2


def _sign(d: Decimal, signed: bool) -> str:
    return MINUS if d < 0 else "+" if signed and d > 0 else ""


def format_money(
    value: Any, currency: str | None, *, whole: bool = False, signed: bool = False
) -> str:
    """Money with thousands separators and its symbol or code: −$1,253.19, ¥1,235, 3.00 CHF.

    `whole` rounds to whole units (KPI tiles); `signed` puts a + before a rise (deltas).
    """
    if value is None:
        return MISSING
    d = Decimal(str(value))
    places = 0 if whole else currency_decimals(currency)
    rounded = abs(d).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = _sign(d, signed) if rounded else ""
    body = f"{rounded:,.{places}f}"
    cur = (currency or "").lower()
    sym = SYMBOLS.get(cur)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {cur.upper()}".strip()


def format_ratio(value: Any, places: int = 2, *, signed: bool = False) -> str:
    """A ratio as a percentage: 0.1234 → 12.34%."""
    if value is None:
        return MISSING
    d = (Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{_sign(d, signed)}{abs(d):,.{places}f}%"


def format_number(value: Any, places: int | None = None, *, signed: bool = False) -> str:
    """A count or plain number with thousands separators (`places` decimals when given)."""
    if value is None:
        return MISSING
    d = Decimal(str(value))
    if places is None:
        places = 0 if d == d.to_integral_value() else 2
    d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{_sign(d, signed)}{abs(d):,.{places}f}"


def format_bucket(value: date, grain: str | None) -> str:
    """A time bucket by its grain: January 2025, Q1 2025, week of 2025-01-06, 2025, 2025-01-06."""
    day = value.date() if isinstance(value, datetime) else value
    if grain == "month":
        return f"{day:%B %Y}"
    if grain == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if grain == "year":
        return str(day.year)
    if grain == "week":
        return f"week of {day.isoformat()}"
    return day.isoformat()


def format_day(value: date) -> str:
    """A day as people write it: 5 Jul 2025."""
    return f"{value.day} {value:%b %Y}"


def format_span(start: date, end: date) -> str:
    """A half-open range [start, end) by its shape: 2025, Q3 2025, July 2025, 1 Jan – 5 Jul 2025."""
    last = end - _DAY
    whole_months = start.day == 1 and end.day == 1
    months = (end.year - start.year) * 12 + end.month - start.month
    if whole_months and start.month == 1 and months == 12:
        return str(start.year)
    if whole_months and months == 3 and start.month % 3 == 1:
        return format_bucket(start, "quarter")
    if whole_months and months == 1:
        return format_bucket(start, "month")
    if last == start:
        return format_day(start)
    if start.year == last.year:
        return f"{start.day} {start:%b} – {format_day(last)}"
    return f"{format_day(start)} – {format_day(last)}"


def value_label(dimension: str, value: Any) -> str:
    """A dimension's stored value as people name it: Bacs Direct Debit, Germany, EUR, VAT."""
    if value is None:
        return MISSING
    text = str(value)
    if dimension == "currency":
        return text.upper()
    dim = semantic_model().dimensions.get(dimension)
    if dim is None:
        return text
    if text in dim.value_labels:
        return dim.value_labels[text]
    if dim.values in ("countries", "states"):
        words = getattr(semantic_model(), str(dim.values)).get(text, ())
        names = [w.removesuffix(" state") for w in words if len(w) > 3]  # "washington state"
        return names[0].title() if names else text
    return text


def format_value(
    value: Any, col: Column, row_currency: str | None = None, *, grain: str | None = None
) -> str:
    """One cell for people, by its column's kind; a date column is a bucket of `grain`."""
    if value is None:
        return MISSING
    if col.kind == "money":
        return format_money(value, col.currency or row_currency)
    if col.kind == "ratio":
        return format_ratio(value)
    if col.kind == "count":
        return format_number(int(value))
    if col.kind == "number" and isinstance(value, int | float | Decimal):
        return format_number(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return format_bucket(value, grain) if col.kind == "date" else value.isoformat()
    return value_label(col.name, value)


def format_change(value: Any, col: Column, *, whole: bool = False) -> str:
    """A signed change: +$1,234.56 (+$1,235 when `whole`), −12, +0.35 pp for ratios."""
    if value is None:
        return MISSING
    if col.kind == "ratio":
        return f"{format_number(Decimal(str(value)) * 100, 2, signed=True)} pp"
    if col.kind == "money":
        return format_money(value, col.currency, whole=whole, signed=True)
    return format_number(value, signed=True)


def plural(n: int, noun: str, many: str = "") -> str:
    """A count with its noun in agreement: 1 row, 8 rows, 2 plans / prices."""
    return f"{n:,} {noun if n == 1 else many or plural_noun(noun)}"


def plural_noun(noun: str) -> str:
    """The plural of a label: plan / price → plans / prices, country → countries."""
    if " / " in noun:
        return " / ".join(plural_noun(part) for part in noun.split(" / "))
    head, of, tail = noun.partition(" of ")
    if of:
        return f"{plural_noun(head)}{of}{tail}"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def as_noun(label: str) -> str:
    """A label inside a sentence: lower case except acronyms (US state / region, VAT number)."""
    return " ".join(w if w[1:2].isupper() else w.lower() for w in label.split(" "))


def dimension_plural(dimension: str, label: str) -> str:
    """The plural of a dimension's label in a sentence: plans / prices, aging buckets."""
    dim = semantic_model().dimensions.get(dimension)
    return dim.plural if dim is not None and dim.plural else plural_noun(as_noun(label))


def csv_cell(value: Any) -> str:
    """One exact CSV cell: decimals without symbols, ISO dates, codes as stored; never a formula.

    A cell starting with = + - @ would run as a formula in a spreadsheet; a negative number keeps
    its minus, any other such text gets a leading quote.
    """
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def llm_usage_text(usage: LlmUsage) -> str:
    """What the model did for an answer: model, calls, tokens (with the prompt cache's share)."""
    cached = f" ({usage.cached_tokens:,} from the prompt cache)" if usage.cached_tokens else ""
    parts = [
        usage.model,
        plural(usage.calls, "call"),
        f"{usage.prompt_tokens:,} prompt tokens{cached}",
        f"{usage.completion_tokens:,} generated",
    ]
    if usage.tool_mode:
        parts.append(usage.tool_mode.split(" ")[0] + " mode")
    return " · ".join(parts)
