"""Deterministic headline and explanation; every number in the text is checked against data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core.answer import Column, Period
from app.semantic.format import as_noun, dimension_plural, format_bucket, format_value, plural

_NUM = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LISTED = 8  # a statistic per currency lists every currency up to this many


@dataclass(frozen=True)
class Explained:
    """Headline, prose, the headline value and whether the prose's numbers were verified."""

    headline: str
    explanation: str
    value: Decimal | int | float | None
    numbers_verified: bool


def explain(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    metric_labels: dict[str, str],
    period: Period | None,
    truncated: bool,
    listing: bool = False,
    additive: bool = True,
    title: str = "",
    limit: int | None = None,
    grain: str | None = None,
) -> Explained:
    """Write the headline and a short explanation from the result only.

    `additive` False: the values are statistics (a median per currency), which have no total.
    A list's `title` (its entity, states, order and filters in words, from the plan) leads its
    explanation; `limit` is its LIMIT, so a list that fills it says more rows may exist. `grain`
    names the time buckets of a `period` column (January 2025, Q1 2025).
    """
    names = [c.name for c in columns]
    value_cols = [i for i, c in enumerate(columns) if c.kind in ("money", "count", "ratio")]
    label_cols = [
        i for i, c in enumerate(columns) if c.kind == "label" and not c.name.endswith("_id")
    ]
    cur_idx = names.index("currency") if "currency" in names else None
    when = f" ({period.text})" if period else ""
    derived: list[Decimal] = [Decimal(m.group(0).replace(",", "")) for m in _NUM.finditer(title)]
    if not rows:
        text = f"No rows matched{when}." + (f" The list asked for: {title}." if title else "")
        return Explained(
            headline="No data",
            explanation=text,
            value=None,
            numbers_verified=check_numbers(text, columns, rows, derived),
        )
    if listing and title:
        n = len(rows)
        more = " (more exist; the list is truncated)" if truncated else ""
        if not more and limit is not None and n == limit:
            more = f" (the first {n:,}; there may be more)"
        rows_text = plural(n, "row")
        return Explained(
            headline=f"{title}: {rows_text}",
            explanation=f"{title}{when}: {rows_text}{more}.",
            value=n,
            numbers_verified=check_numbers(
                f"{title}{when}: {rows_text}{more}.", columns, rows, [*derived, Decimal(n)]
            ),
        )
    if listing or not value_cols:
        i = value_cols[-1] if value_cols else None
        n = len(rows)
        more = " (more exist; the list is truncated)" if truncated else ""
        text = f"{plural(n, 'row')} match{'es' if n == 1 else ''}{more}."
        if i is not None:
            top = rows[0]
            text += (
                f" The largest {as_noun(columns[i].label) or columns[i].name} is "
                f"{format_value(top[i], columns[i], _cur(top, cur_idx))}."
            )
        return Explained(
            headline=plural(n, "row"),
            explanation=text,
            value=n,
            numbers_verified=check_numbers(text, columns, rows, [Decimal(n)]),
        )
    first = value_cols[0]
    col = columns[first]
    label = metric_labels.get(col.name, col.label or col.name)
    if len(rows) == 1 and not label_cols and "period" not in names:
        row = rows[0]
        v = row[first]
        headline = format_value(v, col, _cur(row, cur_idx))
        text = f"{label} was {headline}{when}."
        if f"{col.name}_previous" in names:
            p = row[names.index(f"{col.name}_previous")]
            pct = row[names.index(f"{col.name}_change_pct")]
            ch = row[names.index(f"{col.name}_change")]
            if p is not None and ch is not None:
                direction = "up" if Decimal(str(ch)) >= 0 else "down"
                pct_txt = "" if pct is None else f" ({abs(Decimal(str(pct))) * 100:.1f}%)"
                if pct is not None:
                    derived.append(_q(abs(Decimal(str(pct))) * 100, "0.1"))
                absch = abs(Decimal(str(ch)))
                derived.append(absch)
                change_col = columns[names.index(f"{col.name}_change")]
                change = format_value(absch, change_col, _cur(row, cur_idx))
                text += (
                    f" That is {direction} {change}{pct_txt} from "
                    f"{format_value(p, col, _cur(row, cur_idx))} in the comparison period."
                )
        return Explained(
            headline=headline,
            explanation=text,
            value=_num(v),
            numbers_verified=check_numbers(text, columns, rows, derived),
        )
    if "period" in names:
        pi = names.index("period")
        series = [r for r in rows if r[first] is not None]
        last = series[-1] if series else rows[-1]
        hi = max(series, key=lambda r: Decimal(str(r[first]))) if series else last
        lo = min(series, key=lambda r: Decimal(str(r[first]))) if series else last
        cur = _cur(last, cur_idx)
        text = (
            f"{label}{when}: latest {format_value(last[first], col, cur)} "
            f"({_d(last[pi], grain)}); highest {format_value(hi[first], col, _cur(hi, cur_idx))} "
            f"({_d(hi[pi], grain)}); lowest {format_value(lo[first], col, _cur(lo, cur_idx))} "
            f"({_d(lo[pi], grain)})."
        )
        if label_cols:
            periods = len({r[pi] for r in rows})
            text = f"{label}{when}, {plural(len(rows), 'row')} across {plural(periods, 'period')}."
            derived += [Decimal(len(rows)), Decimal(periods)]
            what = as_noun(columns[label_cols[0]].label) or columns[label_cols[0]].name
            # One row of a series broken down is no figure for the whole answer: say what it is.
            return Explained(
                headline=f"{label} by period and {what}: {plural(len(rows), 'row')}",
                explanation=text,
                value=None,
                numbers_verified=check_numbers(text, columns, rows, derived),
            )
        return Explained(
            headline=format_value(last[first], col, cur),
            explanation=text,
            value=_num(last[first]),
            numbers_verified=check_numbers(text, columns, rows, derived),
        )
    if not additive and cur_idx is not None and label_cols == [cur_idx] and len(rows) <= _LISTED:
        each = [
            f"{str(r[cur_idx]).upper()} {format_value(r[first], col, _cur(r, cur_idx))}"
            for r in rows
        ]
        text = f"{label}{when}, per currency: {', '.join(each)}."
        return Explained(
            headline=" · ".join(each),
            explanation=text,
            value=None,
            numbers_verified=check_numbers(text, columns, rows, derived),
        )
    # breakdown
    top = rows[0]
    li = label_cols[0] if label_cols else None
    name = format_value(top[li], columns[li]) if li is not None else "the first row"
    what = "rows" if li is None else dimension_plural(columns[li].name, columns[li].label)
    if len(rows) == 1:
        what = "row" if li is None else as_noun(columns[li].label)
    text = f"{label}{when} across {len(rows):,} {what}"
    derived.append(Decimal(len(rows)))
    text += f"{' (truncated)' if truncated else ''}; {name} leads with "
    text += f"{format_value(top[first], col, _cur(top, cur_idx))}"
    if additive and col.kind in ("money", "count") and cur_idx is None and len(rows) > 1:
        total = sum((Decimal(str(r[first])) for r in rows if r[first] is not None), Decimal(0))
        if total > 0 and top[first] is not None:
            share = _q(Decimal(str(top[first])) / total * 100, "0.1")
            derived += [share]
            text += f" ({share}% of the total shown)"
    text += "."
    return Explained(
        headline=f"{name}: {format_value(top[first], col, _cur(top, cur_idx))}",
        explanation=text,
        value=_num(top[first]),
        numbers_verified=check_numbers(text, columns, rows, derived),
    )


def _cur(row: Sequence[Any], idx: int | None) -> str | None:
    return None if idx is None else str(row[idx])


def _d(v: Any, grain: str | None) -> str:
    return format_bucket(v, grain) if isinstance(v, date) else str(v)


def _num(v: Any) -> Decimal | int | float | None:
    return v if isinstance(v, Decimal | int | float) else None


def _q(d: Decimal, exp: str) -> Decimal:
    return d.quantize(Decimal(exp), rounding=ROUND_HALF_UP)


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
                    for n in _NUM.finditer(v)
                }
    stripped = _DATE.sub(" ", text)
    for m in _NUM.finditer(stripped):
        token = m.group(0).replace(",", "").replace("−", "-")
        d = Decimal(token)
        if d not in allowed and abs(d) not in allowed:
            return False
    return True


def _variants(d: Decimal) -> set[Decimal]:
    out = {d, abs(d)}
    for exp in ("1", "0.1", "0.01"):
        out.add(_q(d, exp))
        out.add(_q(abs(d), exp))
    return out
