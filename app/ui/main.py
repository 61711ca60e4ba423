"""Entry point of `streamlit run app/ui/main.py`: page setup and navigation."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from app.ui import history

log = logging.getLogger(__name__)
# Not "pages/": Streamlit would also list that directory as old-style pages in embed mode.
PAGES = Path(__file__).resolve().parent / "views"
ICON = Path(__file__).resolve().parent / "icon.png"
EMBEDDED = bool(st.context.is_embedded)

st.set_page_config(
    page_title="Ledgerlens",
    page_icon=str(ICON),  # a local file: a material icon here becomes a favicon from Google's CDN
    layout="wide",
    initial_sidebar_state="collapsed" if EMBEDDED else "auto",
)
nav = st.navigation(
    {
        "Assistant": [
            st.Page(PAGES / "ask.py", title="Ask", icon=":material/forum:", default=True),
        ],
        "Reports": [
            st.Page(PAGES / "revenue.py", title="Revenue", icon=":material/trending_up:"),
            st.Page(PAGES / "payments.py", title="Payments", icon=":material/payments:"),
            st.Page(PAGES / "tax.py", title="Tax", icon=":material/account_balance:"),
            st.Page(
                PAGES / "revenue_recognition.py",
                title="Revenue recognition",
                icon=":material/event_available:",
            ),
        ],
    },
    position="sidebar",
)
try:
    nav.run()
except Exception:  # the UI edge: log the traceback, never show one; the sidebar keeps working
    log.exception("page %s failed", nav.title)
    st.error("This page could not be drawn; the error was logged. Try another period or reload.")
history.fill()  # the sidebar's history list, drawn last so that it includes this run's answer
