"""Payments: gross and net volume, refunds, disputes and Stripe fees."""

from __future__ import annotations

import streamlit as st

from app.ui import reports
from app.ui.assistant_panel import PagePanel, render_assistant

KPIS = ("gross_volume", "net_volume", "refunds_amount", "disputes_amount", "stripe_fees")

sel, period = reports.page_header("Payments", "payments")
kpi = reports.fetch(reports.compared(KPIS, sel, period), sel)
if kpi is not None:
    reports.kpis(kpi, KPIS, period)

monthly = reports.fetch(reports.monthly(KPIS, sel, period), sel)
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Gross and net volume", anchor=False)
    if monthly is not None:
        reports.series(monthly, ("gross_volume", "net_volume"))
with right:
    st.subheader("Refunds, disputes and fees", anchor=False)
    if monthly is not None:
        reports.series(monthly, ("refunds_amount", "disputes_amount", "stripe_fees"), kind="bar")

reports.table(monthly, key="payments-monthly", file_name=f"payments-{sel.account}.csv")
reports.definitions(kpi, monthly)

render_assistant(
    PagePanel(
        page="payments",
        title="Payments",
        plan=reports.monthly(("gross_volume",), sel, period),
        selection=sel,
        examples=(
            "Break this down by payment method",
            "Refund rate by month",
            "Compare vs previous period",
        ),
    )
)
