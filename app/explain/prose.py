"""Deterministic headline and explanation; every number in the text is checked against data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.answer import Column, Period
from app.explain.headline import UNKNOWN, Summing, Totals, no_total, totals
from app.explain.numbers import NUM, check_numbers, numbers_in, period_numbers, q
from app.semantic.format import (
    as_noun,
    dimension_plural,
    format_bucket,
    format_ratio,
    format_value,
    plural,
)
from app.semantic.load import semantic_model

__all__ = ["Explained", "check_numbers", "explain", "period_numbers"]
_LISTED = 8  # a statistic per currency lists every currency up to this many


@dataclass(frozen=True)
class Explained:
    """Headline, prose, the headline value, the Total row and shares, and the number check."""

    headline: str
    explanation: str
    value: Decimal | int | float | None
    numbers_verified: bool
    total: list[Any] | None = None
    shares: list[Decimal | None] = field(default_factory=list)


def explain(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    metric_labels: dict[str, str],
    period: Period | None,
    truncated: bool,
    listing: bool = False,
    rule: Summing = UNKNOWN,
    title: str = "",
    limit: int | None = None,
    grain: str | None = None,
) -> Explained:
    """Write the headline and a short explanation from the result only.

    `rule` says which metrics add up over the rows (`app.explain.headline`); a pasted query's
    columns are unknown and get no total. A list's `title` (its entity, states, order and
    filters in words, from the plan) leads its explanation; `limit` is its LIMIT, so a list that
    fills it says more rows may exist. `grain` names the time buckets of a `period` column.
    """
    names = [c.name for c in columns]
    value_cols = [i for i, c in enumerate(columns) if c.kind in ("money", "count", "ratio")]
    label_cols = [
        i for i, c in enumerate(columns) if c.kind == "label" and not c.name.endswith("_id")
    ]
    cur_idx = names.index("currency") if "currency" in names else None
    when = f" ({period.text})" if period else ""
    derived: list[Decimal] = [Decimal(m.group(0).replace(",", "")) for m in NUM.finditer(title)]
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
        return _one_total(columns, rows[0], metric_labels, label, when, cur_idx, derived)
    total_of = f"Total {as_noun(label)}" if len(metric_labels) > 1 else "Total"
    shape = _Shape(columns, rows, label_cols, cur_idx, grain, rule, truncated, total_of)
    if "period" in names:
        return _series(shape, label, when, derived)
    if cur_idx is not None and label_cols == [cur_idx] and len(rows) <= _LISTED:
        each = [
            f"{str(r[cur_idx]).upper()} {format_value(r[first], col, _cur(r, cur_idx))}"
            for r in rows
        ]
        text = f"{label}{when}, per currency: {', '.join(each)}."
        named = f"{label}: " if len(metric_labels) > 1 else ""  # which of the metrics it is
        return Explained(
            headline=named + " · ".join(each),
            explanation=text,
            value=None,
            numbers_verified=check_numbers(text, columns, rows, derived),
        )
    return _breakdown(shape, label, when, derived)


def _one_total(
    columns: Sequence[Column],
    row: Sequence[Any],
    metric_labels: dict[str, str],
    label: str,
    when: str,
    cur_idx: int | None,
    derived: list[Decimal],
) -> Explained:
    """One row, no breakdown: its figure; with several metrics, each one named."""
    names = [c.name for c in columns]
    first = next(i for i, c in enumerate(columns) if c.kind in ("money", "count", "ratio"))
    col = columns[first]
    v = row[first]
    headline = format_value(v, col, _cur(row, cur_idx))
    text = f"{label} was {headline}{when}."
    shown = [i for i, c in enumerate(columns) if c.name in metric_labels]
    if len(shown) > 1:  # "How many charges were declined": the first metric alone would mislead
        headline = " · ".join(
            f"{metric_labels[columns[i].name]}: "
            f"{format_value(row[i], columns[i], _cur(row, cur_idx))}"
            for i in shown
        )
    if f"{col.name}_previous" in names:
        p = row[names.index(f"{col.name}_previous")]
        pct = row[names.index(f"{col.name}_change_pct")]
        ch = row[names.index(f"{col.name}_change")]
        if p is not None and ch is not None:
            direction = "up" if Decimal(str(ch)) >= 0 else "down"
            pct_txt = "" if pct is None else f" ({abs(Decimal(str(pct))) * 100:.1f}%)"
            if pct is not None:
                derived.append(q(abs(Decimal(str(pct))) * 100, "0.1"))
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
        numbers_verified=check_numbers(text, columns, [row], derived),
    )


@dataclass(frozen=True)
class _Shape:
    """A result of several rows: its columns, labels, figures and the rule for its totals."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    label_cols: list[int]
    cur_idx: int | None
    grain: str | None
    rule: Summing
    truncated: bool
    total_of: str  # "Total", or "Total new MRR" when the answer has several metrics

    @property
    def first(self) -> int:
        """The first figure's column: the headline metric."""
        return next(i for i, c in enumerate(self.columns) if c.kind in ("money", "count", "ratio"))

    def fmt(self, value: Any, row: Sequence[Any] | None = None) -> str:
        """A figure of the first metric, in its row's currency (the rows' when no row)."""
        row = row if row is not None else self.rows[0]
        return format_value(value, self.columns[self.first], _cur(row, self.cur_idx))

    def totals(self, breakdown: bool) -> tuple[Totals | None, str]:
        """The Total row (if any column adds up) and why the first metric has no total."""
        name = self.columns[self.first].name
        why = no_total(self.rule, name, self.columns, self.rows, self.truncated)
        found = totals(
            self.rule, self.columns, self.rows, truncated=self.truncated, breakdown=breakdown
        )
        return found, why

    def across(self, periods: int | None = None) -> str:
        """What the rows cover: "5 card brands", "12 months and 13 customer countries"."""
        names = [c.name for c in self.columns]
        parts = [plural(periods, self.grain or "period")] if periods is not None else []
        shown: list[str] = []
        for i in self.label_cols:
            c = self.columns[i]
            dim = semantic_model().dimensions.get(c.name)
            if any(c.name in semantic_model().dimensions[d].determines for d in shown):
                continue  # a jurisdiction's country: one per jurisdiction, counted with it
            key = names.index(f"{c.name}_id") if f"{c.name}_id" in names else i
            n = len({(r[key], r[i]) for r in self.rows})
            if i == self.cur_idx and n == 1:
                continue
            shown += [c.name] if dim is not None else []
            parts.append(plural(n, as_noun(c.label), dimension_plural(c.name, c.label)))
        if len(parts) > 2:
            return plural(len(self.rows), "row")
        return " and ".join(parts)

    def about(self, label: str, periods: bool) -> str:
        """What the rows show, in words: "Refund rate by month and customer country"."""
        words = [self.grain or "period"] if periods else []
        words += [as_noun(self.columns[i].label) or self.columns[i].name for i in self.label_cols]
        return f"{label} by {' and '.join(words)}"


def _series(s: _Shape, label: str, when: str, derived: list[Decimal]) -> Explained:
    """A time series: its period total when it adds up, else its latest point or a sentence."""
    columns, rows, first = s.columns, s.rows, s.first
    pi = [c.name for c in columns].index("period")
    series = [r for r in rows if r[first] is not None]
    last = series[-1] if series else rows[-1]
    hi = max(series, key=lambda r: Decimal(str(r[first]))) if series else last
    lo = min(series, key=lambda r: Decimal(str(r[first]))) if series else last
    periods = len({r[pi] for r in rows})
    found, why = s.totals(breakdown=False)
    total = found.row[first] if found is not None and not why else None
    derived += [Decimal(periods), Decimal(len(rows)), *numbers_in(why)]
    no_total_text = f" No total: {why}." if why else ""
    if total is not None:
        across = s.across(periods)
        derived += [Decimal(total), *numbers_in(across)]
        span = f"{'across' if s.label_cols else 'over'} {across}"
        headline = f"{s.total_of}: {s.fmt(total)} {span}"
        text = f"{label}{when}: total {s.fmt(total)} {span}"
        if not s.label_cols:
            text += f"; latest {s.fmt(last[first], last)} ({_d(last[pi], s.grain)})"
        text += "."
        value: Any = total
    elif not s.label_cols:
        headline = f"{s.fmt(last[first], last)} (latest, {_d(last[pi], s.grain)})"
        text = f"{label}{when}: latest {s.fmt(last[first], last)} ({_d(last[pi], s.grain)})"
        value = last[first]
    else:  # one row of a series broken down is no figure for the whole answer: say what it is
        headline = f"{s.about(label, periods=True)}: {plural(len(rows), 'row')}"
        text = f"{label}{when}, {plural(len(rows), 'row')} across {s.across(periods)}."
        derived += numbers_in(s.across(periods))
        value = None
    if not s.label_cols:
        text = text.removesuffix(".")
        text += (
            f"; highest {s.fmt(hi[first], hi)} ({_d(hi[pi], s.grain)}); lowest "
            f"{s.fmt(lo[first], lo)} ({_d(lo[pi], s.grain)})."
        )
    text += no_total_text
    return Explained(
        headline=headline,
        explanation=text,
        value=_num(value),
        numbers_verified=check_numbers(text, columns, rows, derived),
        total=found.row if found is not None else None,
    )


def _breakdown(s: _Shape, label: str, when: str, derived: list[Decimal]) -> Explained:
    """Groups of a dimension: their total when the metric adds up, else a sentence."""
    columns, rows, first = s.columns, s.rows, s.first
    top = rows[0]
    li = s.label_cols[0] if s.label_cols else None
    name = format_value(top[li], columns[li]) if li is not None else "the first row"
    leads = "is lowest with" if s.rule.direction == "bottom" else "leads with"
    lead = f"{name} {leads} {s.fmt(top[first], top)}"
    if len(rows) == 1:  # the one row is the whole answer ("which country had the highest …")
        what = "row" if li is None else as_noun(columns[li].label)
        text = f"{label}{when} across 1 {what}; {lead}."
        return Explained(
            headline=f"{name}: {s.fmt(top[first], top)}",
            explanation=text,
            value=_num(top[first]),
            numbers_verified=check_numbers(text, columns, rows, [*derived, Decimal(1)]),
        )
    across = s.across() if li is not None else plural(len(rows), "row")
    found, why = s.totals(breakdown=True)
    total = found.row[first] if found is not None and not why else None
    derived += [*numbers_in(across), *numbers_in(why)]
    if total is not None:
        assert found is not None
        derived.append(Decimal(total))
        headline = f"{s.total_of}: {s.fmt(total)} across {across}"
        text = f"{label}{when} totals {s.fmt(total)} across {across}; {lead}"
        if found.shares and found.shares[0] is not None:
            derived.append(found.shares[0] * 100)
            text += f" ({format_ratio(found.shares[0])} of the total)"
        text += "."
        value: Any = total
    else:
        if s.rule.ranked is not None and li is not None:
            dim = columns[li]
            ranked = plural(len(rows), as_noun(dim.label), dimension_plural(dim.name, dim.label))
            headline = (
                f"{name} is lowest of the bottom {ranked} by {as_noun(label)}"
                if s.rule.direction == "bottom"
                else f"{name} leads the top {ranked} by {as_noun(label)}"
            )
        else:
            headline = f"{s.about(label, periods=False)}: {plural(len(rows), 'row')}"
        text = f"{label}{when} across {across}{' (truncated)' if s.truncated else ''}; {lead}."
        text += f" No total: {why}." if why else ""
        value = None
    return Explained(
        headline=headline,
        explanation=text,
        value=_num(value),
        numbers_verified=check_numbers(text, columns, rows, derived),
        total=found.row if found is not None else None,
        shares=found.shares if found is not None else [],
    )


def _cur(row: Sequence[Any], idx: int | None) -> str | None:
    return None if idx is None else str(row[idx])


def _d(v: Any, grain: str | None) -> str:
    return format_bucket(v, grain) if isinstance(v, date) else str(v)


def _num(v: Any) -> Decimal | int | float | None:
    return v if isinstance(v, Decimal | int | float) else None
