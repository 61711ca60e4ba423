"""Building blocks of the reporting pages: period picker, plans, KPI tiles, series charts.

Every number comes from a QueryPlan over the semantic model's metrics, answered by the
assistant's plan path (compiler, guard, executor), so no metric is defined twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import streamlit as st

from app.core.answer import Answer, Column
from app.core.plan import Comparison, QueryPlan, TimeRange
from app.explain.reconcile import reconcile
from app.semantic.format import format_money, format_ratio, format_span, format_value
from app.semantic.load import semantic_model
from app.ui import backend
from app.ui.charts import series_frame, time_chart
from app.ui.render import comparison_delta
from app.ui.sidebar import Selection, start_page
from app.ui.tables import csv_bytes, render_table
from app.ui.text import escape_delta, escape_md, one_line
from app.understand.time import parse_time, previous_period

ONE_DAY = timedelta(days=1)
# Series colours by metric: growth in greens, losses in orange/red, money flows in blues.
PALETTE = {
    "mrr": "#1f4e79",
    "arr": "#5b9bd5",
    "new_mrr": "#1b7f3b",
    "expansion_mrr": "#74c476",
    "contraction_mrr": "#f4a259",
    "churned_mrr": "#d1495b",
    "gross_volume": "#1f4e79",
    "net_volume": "#5b9bd5",
    "refunds_amount": "#f4a259",
    "disputes_amount": "#d1495b",
    "stripe_fees": "#8c8c8c",
    "recognized_revenue": "#1f4e79",
    "net_revenue": "#5b9bd5",
    "deferred_revenue": "#7b5ea7",
}
PERIODS = ("This year", "Last year", "This quarter", "Last quarter", "This month", "Last month")


def page_header(title: str, key: str, *, default: str = "This year") -> tuple[Selection, TimeRange]:
    """Title, the account line and the period picker; returns the selection and the period."""
    sel = start_page()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        st.title(title, anchor=False)
        st.caption(escape_md(sel.caption))
    with right:
        phrase = st.selectbox("Period", PERIODS, index=PERIODS.index(default), key=f"{key}-period")
    return sel, period_range(str(phrase), sel)


def period_range(phrase: str, sel: Selection) -> TimeRange:
    """The period a picker phrase names, read by the engine's own time parser as of the date."""
    fy = backend.settings().fiscal_year_start_month
    found = parse_time(phrase.lower(), sel.as_of, fiscal_year_start_month=fy).range
    if found is None:  # every PERIODS phrase parses; keep a sane range regardless
        return TimeRange(start=sel.as_of.replace(month=1, day=1), end=sel.as_of, label=phrase)
    return found.model_copy(update={"label": phrase.lower()})


def plan(metrics: Sequence[str], sel: Selection, time: TimeRange, **kw: Any) -> QueryPlan:
    """A page plan in the sidebar's reporting currency."""
    return QueryPlan(metrics=tuple(metrics), time=time, currency=sel.currency, **kw)


def compared(metrics: Sequence[str], sel: Selection, time: TimeRange) -> QueryPlan:
    """Totals for the period compared with the previous period (for KPI tiles)."""
    return plan(metrics, sel, time, comparison=Comparison(kind="previous_period"))


def monthly(metrics: Sequence[str], sel: Selection, time: TimeRange) -> QueryPlan:
    """One row per month of the period."""
    return plan(metrics, sel, time, grain="month")


def fetch(p: QueryPlan, sel: Selection) -> Answer | None:
    """Run a page plan (cached); a failure shows one line and returns None."""
    ans = backend.run_plan(p, as_of=sel.as_of, account=sel.account)
    if ans.status == "answered":
        return ans
    st.error(escape_md(f"{ans.headline} {one_line(ans.error or '')}".strip()))
    return None


def kpis(ans: Answer, metrics: Sequence[str], period: TimeRange, *, note: str = "") -> None:
    """A row of KPI tiles: the period's value (whole units) and its change vs the prior period."""
    names = [c.name for c in ans.columns]
    row = ans.rows[0] if ans.rows else []
    defs = {d.metric: d for d in ans.definitions}
    prev = previous_period(period)
    st.caption(
        escape_md(
            f"{format_span(period.start, period.end)}; changes against "
            f"{format_span(prev.start, prev.end)}. {note}".strip()
        )
    )
    for col_ui, m in zip(st.columns(len(metrics)), metrics, strict=True):
        if m not in names:
            continue
        col = ans.columns[names.index(m)]
        raw = row[names.index(m)] if row else None
        delta = comparison_delta(ans, m, whole=True)
        exact = format_value(raw, col)
        about = defs[m].definition if m in defs else ""
        with col_ui:
            st.metric(
                escape_md(col.label or m),
                escape_md(whole_units(raw, col)),
                delta=escape_delta(delta.text),
                delta_color=delta.color,
                delta_arrow=delta.arrow,
                help=escape_md(f"{about} Exact: {exact}.".strip()),
                border=True,
            )
    for gap in reconcile(ans.columns, row, semantic_model()) if row else []:
        st.caption(escape_md(gap.text))


def whole_units(value: Any, col: Column) -> str:
    """A KPI value without cents (money) or with one decimal (ratios); exact values in tables."""
    if col.kind == "money":
        return format_money(value, col.currency, whole=True)
    if col.kind == "ratio":
        return format_ratio(value, 1)
    return format_value(value, col)


def money_column(ans: Answer, metric: str) -> Column:
    """The answer's column of `metric` (for axis formats)."""
    return next(c for c in ans.columns if c.name == metric)


def series(
    ans: Answer,
    metrics: Sequence[str],
    *,
    kind: str = "line",
    stack: bool = False,
    negate: Sequence[str] = (),
    colors: dict[str, str] | None = None,
) -> None:
    """Draw several metrics of a monthly answer as one chart (colours keyed by metric name)."""
    data = series_frame(ans, metrics, negate=negate)
    if data.empty:
        st.info("No data in this period.")
        return
    labels = {c.name: c.label or c.name for c in ans.columns}
    by_label = {labels[m]: c for m, c in (colors or PALETTE).items() if m in labels}
    chart = time_chart(
        data,
        money_column(ans, metrics[0]),
        grain="month",
        kind=kind,
        stack=stack,
        colors=by_label or None,
    )
    st.altair_chart(chart, width="stretch")


def definitions(*answers: Answer | None) -> None:
    """The definitions of the page's metrics and the SQL behind each number, folded away."""
    done = [a for a in answers if a is not None]
    with st.expander("Definitions and SQL"):
        seen: set[str] = set()
        for ans in done:
            for d in ans.definitions:
                if d.metric not in seen:
                    seen.add(d.metric)
                    st.markdown(f"**{escape_md(d.label)}**: {escape_md(d.definition)}")
        for ans in done:
            if ans.sql:
                st.code(ans.sql, language="sql", wrap_lines=True)


def table(ans: Answer | None, *, key: str, file_name: str, label: str = "Download CSV") -> None:
    """The answer's table (sortable, currency-formatted) with its CSV download."""
    if ans is None:
        return
    render_table(ans, key=f"{key}-table", height=min(40 + 35 * len(ans.rows), 460))
    st.download_button(
        label,
        data=csv_bytes(ans),
        file_name=file_name,
        mime="text/csv",
        key=f"{key}-csv",
        on_click="ignore",
        icon=":material/download:",
    )
