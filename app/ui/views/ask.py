"""Ask: chat with the finance assistant (history per session, follow-ups edit the last question)."""

from __future__ import annotations

import streamlit as st

from app.ui.chat import chat_state
from app.ui.chatview import run_chat
from app.ui.sidebar import start_page
from app.ui.text import escape_md

STARTERS = (
    "MRR by month this year",
    "Gross volume this month vs last month",
    "Top 10 customers by revenue this year",
    "Tax collected by jurisdiction this year",
)

sel = start_page()
st.title("Ask", anchor=False)
st.caption(escape_md(sel.caption))
state = chat_state("ask", sel)
starters = st.empty()
if not state.turns and state.pending is None:
    with starters.container(horizontal=True, gap="small"):
        for i, q in enumerate(STARTERS):
            st.button(escape_md(q), key=f"ask-starter-{i}", on_click=state.queue, args=(q,))
history = st.container()
# No max_chars: the browser would silently drop a longer paste; the pipeline answers it with
# the `max_question_chars` limit instead, and the text stays in the conversation.
prompt = st.chat_input("Ask about revenue, payments, tax…", key="ask-input")
if run_chat(state, key="ask", sel=sel, prompt=prompt, history=history) is not None:
    starters.empty()
