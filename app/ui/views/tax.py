"""Tax: tax collected by jurisdiction and type, taxable/exempt/reverse-charge sales, report."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from app.core.answer import Answer
from app.semantic.format import format_span, format_value
from app.ui import reports
from app.ui.assistant_panel import PagePanel, render_assistant
from app.ui.charts import bar_breakdown, long_frame

KPIS = ("tax_collected", "taxable_sales", "exempt_sales", "reverse_charge_sales")
SALES = ("taxable_sales", "exempt_sales", "reverse_charge_sales", "non_taxable_sales")
TAX_COLORS = {
    "VAT": "#1f4e79",
    "Sales tax": "#5b9bd5",
    "GST": "#2a9d8f",
    "HST": "#8ab17d",
    "PST": "#e9c46a",
    "QST": "#f4a261",
    "No tax type": "#b0b0b0",
}
REPORT_DIMS = ("tax_country", "tax_jurisdiction", "tax_type")


def sales_split(ans: Answer) -> None:
    """Taxable, exempt, reverse-charge and all non-taxable sales of the period as bars."""
    names = [c.name for c in ans.columns]
    rows = []
    for m in SALES:
        if m in names and ans.rows:
            col = ans.columns[names.index(m)]
            v = ans.rows[0][names.index(m)]
            label = col.label or m
            rows.append(
                {"x": label, "value": float(v or 0), "series": label, "text": format_value(v, col)}
            )
    if rows:
        chart = bar_breakdown(
            pd.DataFrame(rows), reports.money_column(ans, SALES[0]), x_label="Sales"
        )
        st.altair_chart(chart, width="stretch")


sel, period = reports.page_header("Tax", "tax", default="Last quarter")
kpi = reports.fetch(reports.compared((*KPIS, "non_taxable_sales"), sel, period), sel)
if kpi is not None:
    reports.kpis(kpi, KPIS, period)

report = reports.fetch(reports.plan(("tax_collected",), sel, period, dimensions=REPORT_DIMS), sel)
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Tax collected by jurisdiction", anchor=False)
    if report is not None and report.rows:
        data = long_frame(report, "tax_jurisdiction", ["tax_collected"], "tax_type")
        data["series"] = data["series"].replace({"—": "No tax type"})  # labelled: VAT, Sales tax
        col = reports.money_column(report, "tax_collected")
        st.altair_chart(
            bar_breakdown(data, col, x_label="Jurisdiction", legend=True, colors=TAX_COLORS),
            width="stretch",
        )
    elif report is not None:
        st.info("No tax was collected in this period.")
with right:
    st.subheader("Taxable vs exempt vs reverse charge", anchor=False)
    if kpi is not None:
        sales_split(kpi)
        st.caption("Non-taxable sales include exempt and reverse-charge sales.")

st.subheader("Tax report", anchor=False)
last_day = period.end - timedelta(days=1)
span = format_span(period.start, period.end)
st.caption(
    f"Tax collected by country, jurisdiction and tax type, {span} ({period.start} to {last_day})."
)
reports.table(
    report,
    key="tax-report",
    file_name=f"tax-report-{sel.account}-{period.start}-{last_day}.csv",
    label="Download tax report (CSV)",
)
reports.definitions(kpi, report)

render_assistant(
    PagePanel(
        page="tax",
        title="Tax",
        plan=reports.plan(("tax_collected",), sel, period, dimensions=("tax_jurisdiction",)),
        selection=sel,
        examples=("Show this by month", "Compare vs previous period", "Only VAT"),
    )
)
