"""The chat loop shared by the Ask page and the page panels: history, the new turn, its status."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.ui import backend
from app.ui.chat import ChatState, Turn, ask
from app.ui.render import ASSISTANT, USER, render_reply, render_turn, shown_question, step_text
from app.ui.sidebar import Selection
from app.ui.text import escape_md


def run_chat(
    state: ChatState, *, key: str, sel: Selection, prompt: str | None, history: DeltaGenerator
) -> Turn | None:
    """Draw the history into `history`, then answer `prompt` (or a queued question) below it."""
    question = prompt if prompt and prompt.strip() else state.take_pending()
    with history:
        last = len(state.turns) - 1
        for i, turn in enumerate(state.turns):
            live = question is None and i == last
            render_turn(turn, key=f"{key}-{i}", on_ask=state.queue if live else None)
        if question is None:
            return None
        with st.chat_message("user", avatar=USER):
            st.markdown(escape_md(shown_question(question)))
        with st.chat_message("assistant", avatar=ASSISTANT):
            turn = _answer(state, question, sel)
            render_reply(turn, key=f"{key}-{len(state.turns) - 1}", on_ask=state.queue)
    return turn


def _answer(state: ChatState, question: str, sel: Selection) -> Turn:
    if not backend.llm_enabled():
        with st.spinner("Working on it…"):
            return ask(state, question, sel)
    with st.status("Working on it…", expanded=True) as status:

        def show(step: Any) -> None:
            status.write(escape_md(step_text(step)))

        turn = ask(state, question, sel, on_step=show)
        failed = turn.message is not None or (
            turn.answer is not None and turn.answer.status in ("error", "rejected")
        )
        status.update(
            label=f"Done in {turn.elapsed_ms / 1000:.1f} s",
            state="error" if failed else "complete",
            expanded=False,
        )
    return turn
