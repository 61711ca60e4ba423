"""Altair charts: an Answer's ChartSpec, and the reporting pages' multi-metric series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import altair as alt
import pandas as pd
from altair.utils.schemapi import UndefinedType

from app.core.answer import Answer, ChartSpec, Column
from app.explain.headline import no_total, summing
from app.semantic.format import SYMBOLS, format_change, format_value
from app.semantic.load import semantic_model
from app.ui.tables import answer_frame

MAX_BARS = 20
PRIMARY = "#1f4e79"
# Distinct series colours (Tableau 10); a chart with more series keeps the largest and folds
# the rest into "Other" (grey) when the metric adds up, else names the rest in a caption.
SERIES_COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER = "Other"
OTHER_COLOR = "#8c8c8c"
_GROWTH = "#1b7f3b"
_LOSS = "#d1495b"
HEIGHT = 300
_TIME_UNITS = {
    "day": "yearmonthdate",
    "week": "yearmonthdate",
    "month": "yearmonth",
    "quarter": "yearquarter",
    "year": "year",
}


def axis_format(col: Column) -> alt.Axis:
    """A value axis labelled in the column's unit: currency symbol, percent or plain count."""
    if col.kind == "ratio":
        return alt.Axis(format="%", title=None)
    if col.kind == "money":
        cur = (col.currency or "").lower()
        sym = SYMBOLS.get(cur, "")
        suffix = "" if sym or not cur else f" {cur.upper()}"
        expr = (
            f"(datum.value < 0 ? '−' : '') + '{sym}' + format(abs(datum.value), '~s') + '{suffix}'"
        )
        return alt.Axis(labelExpr=expr, title=None)
    return alt.Axis(format="~s", title=None)


def long_frame(answer: Answer, x: str, ys: Sequence[str], color: str | None) -> pd.DataFrame:
    """One row per (x, series): the numeric value and its formatted text for tooltips."""
    frame = answer_frame(answer)
    names = [c.name for c in answer.columns]
    cur_idx = names.index("currency") if "currency" in names else None
    parts = []
    for y in ys:
        i = names.index(y)
        col = answer.columns[i]
        part = pd.DataFrame({"x": frame[x], "value": frame[y]})
        part["series"] = [_label(v) for v in frame[color]] if color else (col.label or col.name)
        part["text"] = [format_value(row[i], col, _cur(row, cur_idx)) for row in answer.rows]
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _label(value: object) -> str:
    """A category as text; missing values (None, NaN) become an em dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return str(value)


def _cur(row: Sequence[object], idx: int | None) -> str | None:
    return str(row[idx]) if idx is not None and row[idx] is not None else None


def answer_chart(answer: Answer) -> alt.Chart | None:
    """The chart the answer's ChartSpec asks for (line over time, bars for a breakdown)."""
    spec: ChartSpec | None = answer.chart
    if spec is not None and spec.type == "waterfall":
        return waterfall(answer) if answer.bridge else None
    by_name = {c.name: c for c in answer.columns}
    if spec is None or not answer.rows or spec.x not in by_name:
        return None
    ys = [y for y in spec.y if y in by_name]
    if not ys:
        return None
    color = spec.color if spec.color in by_name else None
    data = long_frame(answer, spec.x, ys, color)
    y_col = by_name[ys[0]]
    data = fold_series(data, series_cut(answer, data), y_col)
    legend = color is not None or len(ys) > 1
    if by_name[spec.x].kind == "date":
        grain = answer.plan.grain if answer.plan is not None else None
        return time_chart(data, y_col, grain=grain, kind=spec.type, legend=legend)
    return bar_breakdown(data, y_col, x_label=by_name[spec.x].label or spec.x, legend=legend)


@dataclass(frozen=True)
class SeriesCut:
    """Which series a chart draws when it has more than SERIES_COLORS: the largest, and Other."""

    kept: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    other: bool = False  # the dropped series are summed into one "Other" series

    @property
    def caption(self) -> str:
        """What the chart leaves out, in words ('' when it draws every series)."""
        if not self.dropped:
            return ""
        n = len(self.dropped)
        if self.other:
            return f"{OTHER} sums the {n} smaller series; the table shows each."
        return (
            f"The chart shows the {len(self.kept)} largest series; the other {n} are in the table."
        )


def series_cut(answer: Answer, data: pd.DataFrame | None = None) -> SeriesCut:
    """The series to draw: all when they fit the palette, else the largest and maybe Other."""
    spec = answer.chart
    if data is None:
        if spec is None or spec.type == "waterfall":
            return SeriesCut()
        names = {c.name for c in answer.columns}
        color = spec.color if spec.color in names else None
        data = long_frame(answer, spec.x, [y for y in spec.y if y in names], color)
    if data.empty or "series" not in data:
        return SeriesCut()
    size = data.assign(size=data["value"].abs()).groupby("series", sort=False)["size"].sum()
    if len(size) <= len(SERIES_COLORS):
        return SeriesCut(kept=tuple(size.index))
    ranked = [str(k) for k in size.sort_values(ascending=False, kind="stable").index]
    n = len(SERIES_COLORS) - 1
    return SeriesCut(tuple(ranked[:n]), tuple(ranked[n:]), other=_adds_up(answer))


def _adds_up(answer: Answer) -> bool:
    """Whether the chart's metric adds up across series (the headline's Total rule)."""
    plan, spec = answer.plan, answer.chart
    if plan is None or spec is None or not spec.y:
        return False
    rule = summing(plan, semantic_model())
    return not no_total(rule, spec.y[0], answer.columns, answer.rows, truncated=False)


def fold_series(data: pd.DataFrame, cut: SeriesCut, col: Column) -> pd.DataFrame:
    """Keep the cut's series; sum the dropped ones per x into Other when the cut says so."""
    if not cut.dropped:
        return data
    kept = data[data["series"].isin(cut.kept)]
    if not cut.other:
        return kept
    rest = data[data["series"].isin(cut.dropped)]
    other = rest.groupby("x", as_index=False, sort=False, dropna=False)["value"].sum()
    text = [format_value(Decimal(str(round(v, 6))), col) for v in other["value"]]
    return pd.concat([kept, other.assign(series=OTHER, text=text)], ignore_index=True)


def waterfall_frame(answer: Answer) -> pd.DataFrame:
    """One row per bridge step: where its bar starts and ends, its colour group and its text."""
    col = next(c for c in answer.columns if c.kind == "money" or c.kind == "count")
    rows, level = [], Decimal(0)
    for s in answer.bridge:
        if s.kind == "change":
            lo, hi, level = level, level + s.amount, level + s.amount
            kind, text = ("Increase" if s.amount >= 0 else "Decrease"), format_change(s.amount, col)
        else:
            lo, hi, level = Decimal(0), s.amount, s.amount
            kind, text = "Balance", format_value(s.amount, col)
        rows.append(
            {"step": s.label, "start": float(lo), "end": float(hi), "kind": kind, "text": text}
        )
    return pd.DataFrame(rows)


def waterfall(answer: Answer) -> alt.Chart:
    """A 'why' answer's bridge: the previous value, each driver up or down, the current value."""
    data = waterfall_frame(answer)
    col = next(c for c in answer.columns if c.kind == "money" or c.kind == "count")
    kinds = ["Balance", "Increase", "Decrease"]
    color = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=kinds, range=[PRIMARY, _GROWTH, _LOSS]),
        legend=alt.Legend(orient="bottom", symbolType="square", columns=3),
    )
    chart = (
        alt.Chart(data)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("step:N", sort=list(data["step"]), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("start:Q", axis=axis_format(col), scale=alt.Scale(zero=False)),
            y2="end:Q",
            color=color,
            tooltip=[alt.Tooltip("step:N", title="Step"), alt.Tooltip("text:N", title="Amount")],
        )
    )
    out: alt.Chart = chart.properties(height=HEIGHT)
    return out


def _color(data: pd.DataFrame, colors: dict[str, str] | None, legend: bool) -> alt.Color:
    """Series colours (fixed when given, else the theme's), with the legend at the bottom."""
    kinds = list(dict.fromkeys(data["series"])) if "series" in data else []
    scale: alt.Scale | UndefinedType = alt.Undefined
    if colors:
        domain = [k for k in kinds if k in colors]
        scale = alt.Scale(domain=domain, range=[colors[k] for k in domain])
    elif len(kinds) == 1:
        scale = alt.Scale(range=[PRIMARY])
    else:  # one distinct colour each (a chart never has more series: see series_cut)
        named = [k for k in kinds if k != OTHER]
        scale = alt.Scale(
            domain=[*named, *([OTHER] if OTHER in kinds else [])],
            range=[*SERIES_COLORS[: len(named)], *([OTHER_COLOR] if OTHER in kinds else [])],
        )
    show = legend and len(kinds) > 1
    return alt.Color(
        "series:N",
        title=None,
        scale=scale,
        sort=kinds,
        legend=alt.Legend(orient="bottom", symbolType="square", columns=_columns(len(kinds)))
        if show
        else None,
    )


def _columns(n: int) -> int:
    """Legend columns: one row for up to three series, then two rows (legends do not wrap)."""
    return n if n <= 3 else (n + 1) // 2


def time_chart(
    data: pd.DataFrame,
    y_col: Column,
    *,
    grain: str | None,
    kind: str = "line",
    legend: bool = True,
    stack: bool = False,
    colors: dict[str, str] | None = None,
) -> alt.Chart:
    """A time series from long data (x, series, value, text): lines, or (stacked) bars."""
    unit = _TIME_UNITS.get(grain or "month", "yearmonth")
    fmt = _x_format(grain)
    y = alt.Y("value:Q", axis=axis_format(y_col), stack="zero" if stack else None)
    color = _color(data, colors, legend)
    tooltip = [
        alt.Tooltip(f"{unit}(x):T", title="Period", format=fmt),
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("text:N", title="Value"),
    ]
    base = alt.Chart(data)
    if kind == "bar":  # one band per bucket, so bars never spill past the last month
        x = alt.X(
            f"{unit}(x):O",
            title=None,
            axis=alt.Axis(format=fmt, formatType="time", labelAngle=0, labelOverlap="greedy"),
        )
        order = list(dict.fromkeys(data["series"]))
        offset = {} if stack else {"xOffset": alt.XOffset("series:N", sort=order)}
        mark = base.mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        chart = mark.encode(x=x, y=y, color=color, tooltip=tooltip, **offset)
    else:
        x = alt.X(f"{unit}(x):T", title=None, axis=alt.Axis(format=fmt, labelOverlap="greedy"))
        chart = base.mark_line(point=True, strokeWidth=2.5).encode(
            x=x, y=y, color=color, tooltip=tooltip
        )
    out: alt.Chart = chart.properties(height=HEIGHT)
    return out


def bar_breakdown(
    data: pd.DataFrame,
    y_col: Column,
    *,
    x_label: str,
    legend: bool = False,
    colors: dict[str, str] | None = None,
) -> alt.Chart:
    """Horizontal bars, largest first, at most MAX_BARS categories (the table shows them all)."""
    totals = data.groupby("x", dropna=False)["value"].sum().abs().sort_values(ascending=False)
    keep = set(totals.index[:MAX_BARS])
    data = data[data["x"].isin(keep)]
    order = [_label(v) for v in totals.index[:MAX_BARS]]
    data = data.assign(x=[_label(v) for v in data["x"]])
    enc: dict[str, object] = {
        "y": alt.Y("x:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
        "x": alt.X("value:Q", axis=axis_format(y_col)),
        "tooltip": [
            alt.Tooltip("x:N", title=x_label),
            alt.Tooltip("series:N", title="Series"),
            alt.Tooltip("text:N", title="Value"),
        ],
    }
    if legend or colors:
        enc["color"] = _color(data, colors, legend)
    mark = alt.Chart(data).mark_bar(
        cornerRadiusTopRight=2, cornerRadiusBottomRight=2, color=PRIMARY
    )
    out: alt.Chart = mark.encode(**enc).properties(height=max(160, 30 * len(order)))
    return out


def series_frame(
    answer: Answer, metrics: Sequence[str], *, negate: Sequence[str] = ()
) -> pd.DataFrame:
    """Long data for a reporting page: one series per metric over `period` (some drawn negative)."""
    data = long_frame(
        answer, "period", [m for m in metrics if m in {c.name for c in answer.columns}], None
    )
    if negate and not data.empty:
        labels = {c.label or c.name for c in answer.columns if c.name in negate}
        flip = data["series"].isin(labels)
        data.loc[flip, "value"] = -data.loc[flip, "value"]
    return data


def _x_format(grain: str | None) -> str:
    return {"day": "%b %d", "week": "%b %d", "quarter": "Q%q %Y", "year": "%Y"}.get(
        grain or "month", "%b %Y"
    )
