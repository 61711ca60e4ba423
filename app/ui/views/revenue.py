"""Revenue: MRR and ARR, the MRR trend and MRR movements (new, expansion, contraction, churn)."""

from __future__ import annotations

import streamlit as st

from app.ui import reports
from app.ui.assistant_panel import PagePanel, render_assistant

KPIS = ("mrr", "arr", "net_new_mrr", "churned_mrr")
MOVES = ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")

sel, period = reports.page_header("Revenue", "revenue")
kpi = reports.fetch(reports.compared(KPIS, sel, period), sel)
if kpi is not None:
    reports.kpis(kpi, KPIS, period, note="MRR and ARR are balances at the end of each period.")

trend_plan = reports.monthly(("mrr", "arr"), sel, period)
trend = reports.fetch(trend_plan, sel)
moves = reports.fetch(reports.monthly((*MOVES, "net_new_mrr"), sel, period), sel)
left, right = st.columns(2, gap="large")
with left:
    st.subheader("MRR trend", anchor=False)
    if trend is not None:
        reports.series(trend, ("mrr",))
with right:
    st.subheader("MRR movements", anchor=False)
    if moves is not None:
        reports.series(
            moves, MOVES, kind="bar", stack=True, negate=("contraction_mrr", "churned_mrr")
        )
        st.caption("Contraction and churn are drawn below zero.")

tab_trend, tab_moves = st.tabs(["MRR and ARR by month", "MRR movements by month"])
with tab_trend:
    reports.table(trend, key="revenue-trend", file_name=f"mrr-{sel.account}-{period.label}.csv")
with tab_moves:
    reports.table(moves, key="revenue-moves", file_name=f"mrr-movements-{sel.account}.csv")
reports.definitions(kpi, trend, moves)

render_assistant(
    PagePanel(
        page="revenue",
        title="Revenue",
        plan=reports.monthly(("mrr",), sel, period),
        selection=sel,
        examples=("Break this down by plan", "Compare vs previous period", "What about last year?"),
    )
)
