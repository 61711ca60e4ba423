"""What a user can do with an answer: get a share link for it.

Also, for a question over the length limit, the whole text back to shorten and ask again. Each
action writes to the app-state store at the time read here (`backend.now`), under the local user.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import streamlit as st

from app.core.errors import AssistantError
from app.ui import backend, sharing
from app.ui.chat import Turn
from app.ui.text import escape_md

log = logging.getLogger(__name__)


def render_actions(turn: Turn, *, key: str) -> None:
    """A share link for a kept answer."""
    ans = turn.answer
    rid = turn.record_id
    if ans is None or rid is None:
        return
    base = f"act-{rid}"
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if ans.status == "answered":
            st.button(
                "Share",
                key=f"{base}-share",
                on_click=_share,
                args=(turn, key.startswith("panel")),
                icon=":material/share:",
                type="tertiary",
                help="A link that reruns this question with its account, date and currency.",
            )
    if turn.share_url:
        st.caption("Share link (opens this question rerun on current data):")
        st.code(turn.share_url, language=None, wrap_lines=True)
    if turn.note:
        st.caption(escape_md(turn.note))


def _act(turn: Turn, what: str, action: Callable[[int], str | None]) -> None:
    """Run one store action on the turn, leaving what happened (or why not) in its note."""
    assert turn.record_id is not None  # the buttons are drawn for kept answers only
    try:
        turn.note = action(turn.record_id)
    except (AssistantError, sqlite3.Error) as err:  # StoreError included: the user's to fix
        log.warning("%s failed on answer %s: %s", what, turn.record_id, err)
        turn.note = f"Could not {what}: {err}"


def _share(turn: Turn, panel: bool) -> None:
    def make(rid: int) -> None:
        turn.share_url = sharing.make(rid, panel=panel)

    _act(turn, "make a share link", make)


def too_long_editor(turn: Turn, *, key: str, on_ask: Callable[[str], None]) -> None:
    """The whole of a question over the length limit, to shorten and ask again."""
    limit = backend.settings().max_question_chars
    box = f"{key}-long"
    st.text_area(
        escape_md(
            f"Your question, kept whole ({len(turn.question):,} characters; the limit is "
            f"{limit:,}): shorten it and ask again"
        ),
        value=turn.question,
        key=box,
        height=160,
    )
    st.button(
        "Ask the shortened question",
        key=f"{key}-long-ask",
        on_click=_ask_edited,
        args=(box, on_ask),
        icon=":material/send:",
    )


def _ask_edited(box: str, on_ask: Callable[[str], None]) -> None:
    text = str(st.session_state.get(box) or "").strip()
    if text:
        on_ask(text)
