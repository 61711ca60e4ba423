"""Revenue recognition: revenue recognized in each month against the deferred revenue balance."""

from __future__ import annotations

import streamlit as st

from app.ui import reports
from app.ui.assistant_panel import PagePanel, render_assistant

KPIS = ("recognized_revenue", "deferred_revenue", "net_revenue")

sel, period = reports.page_header("Revenue recognition", "revrec")
kpi = reports.fetch(reports.compared(KPIS, sel, period), sel)
if kpi is not None:
    reports.kpis(
        kpi, KPIS, period, note="Deferred revenue is the balance at the end of each period."
    )

monthly = reports.fetch(reports.monthly(KPIS, sel, period), sel)
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Recognized revenue by month", anchor=False)
    if monthly is not None:
        reports.series(monthly, ("recognized_revenue", "net_revenue"), kind="bar")
with right:
    st.subheader("Deferred revenue balance", anchor=False)
    if monthly is not None:
        reports.series(monthly, ("deferred_revenue",))
        st.caption("Balance at the end of each month: billed but not yet recognized.")

reports.table(monthly, key="revrec-monthly", file_name=f"revenue-recognition-{sel.account}.csv")
reports.definitions(kpi, monthly)

render_assistant(
    PagePanel(
        page="revrec",
        title="Revenue recognition",
        plan=reports.monthly(("recognized_revenue",), sel, period),
        selection=sel,
        examples=("Break this down by plan", "Compare vs previous period", "What about last year?"),
    )
)
