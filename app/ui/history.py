"""Conversations that last: each chat kept in the app-state store, and the sidebar's history list.

Every answer is recorded under the session's user (app/ui/identity.py: the local user, or the
signed-in one) in a conversation started at its first question. The Ask page names its
conversation in the URL (`?c=<id>&account=<id>`), so a reload or a new browser session on that
URL shows it again; switching account starts (or returns to) that account's conversation and
keeps the other in the list. The store is optional at run time: when its file cannot be used,
answers still come and the sidebar says that nothing is kept.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.request import Request
from app.store import StoreError
from app.store import Turn as SavedTurn
from app.ui import backend, identity
from app.ui.text import escape_md

log = logging.getLogger(__name__)

ASK = "ask"  # the chat key of the Ask page, the only chat named in the URL
ASK_PAGE = Path(__file__).resolve().parent / "views" / "ask.py"
PARAM = "c"  # the query parameter naming the Ask page's conversation
HISTORY_SHOWN = 12  # conversations listed in the sidebar
_OPEN = "history:open"  # a conversation picked in the list, for the Ask page to load
_GOTO = "history:goto"  # set by a click in the list: show the Ask page on the next run
_SEEN = "history:seen"  # chat key -> account -> the conversation this session last showed
_TITLE = 48  # characters of a conversation's first question in the list
_SLOT = "history:slot"  # the sidebar's place for the list, filled at the end of the run


@dataclass(frozen=True)
class Saved:
    """A stored conversation as a chat resumes it: the engine's Conversation and the turns."""

    id: str
    conversation: Conversation
    turns: list[SavedTurn] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)  # turn id -> 0 thumbs down, 1 up
    verified: dict[int, int] = field(default_factory=dict)  # turn id -> its verification's id


def user() -> str:
    """The user conversations, feedback and verifications are kept under (the signed-in one)."""
    return identity.caller().user


def load(conversation_id: str, account: str) -> Saved | None:
    """The user's conversation on `account` (None: unknown, someone else's, other account)."""
    who = user()
    keep = backend.settings().max_conversation_turns
    try:
        store = backend.get_store()
        turns = store.turns(conversation_id, user=who)
        if turns and turns[0].account != account:
            return None
        conversation = store.load_conversation(conversation_id, user=who, keep=keep)
        ids = {t.id for t in turns}
        ratings = {
            f.turn_id: 1 if f.rating == "up" else 0
            for f in store.feedback()
            if f.turn_id in ids and f.user == who
        }
        verified = {
            v.turn_id: v.id for v in store.verified_answers(account=account) if v.turn_id in ids
        }
    except (StoreError, sqlite3.Error) as err:
        log.info("conversation %s not loaded: %s", conversation_id, err)
        return None
    return Saved(conversation_id, conversation, turns[-keep:], ratings, verified)


def record(conversation_id: str | None, request: Request, answer: Answer) -> tuple[str, int] | None:
    """Keep one answer at the end of its conversation (started here when None); its ids, or None."""
    at = backend.now()
    try:
        store = backend.get_store()
        cid = conversation_id or store.start_conversation(
            user(), answer.account or request.account or "", at=at
        )
        turn = store.record_turn(cid, request, answer, at=at)
    except (StoreError, sqlite3.Error) as err:  # the answer is shown all the same
        log.warning("answer not kept in the app-state store: %s", err)
        return None
    return cid, turn.id


def remember(key: str, account: str, conversation_id: str | None) -> None:
    """Note the conversation a chat shows for an account, to return to it after a switch."""
    seen = st.session_state.setdefault(_SEEN, {})
    if conversation_id:
        seen.setdefault(key, {})[account] = conversation_id


def remembered(key: str, account: str) -> str | None:
    """The conversation this session last showed in chat `key` for `account`."""
    found = st.session_state.get(_SEEN, {}).get(key, {}).get(account)
    return str(found) if found else None


def forget() -> None:
    """Forget which conversations this session showed, and take the Ask page's off the URL."""
    st.session_state.pop(_SEEN, None)
    st.session_state.pop(_OPEN, None)
    st.query_params.pop(PARAM, None)


def url_conversation() -> str | None:
    """The conversation the URL names (`?c=`), if any."""
    return st.query_params.get(PARAM) or None


def show_in_url(conversation_id: str | None, account: str) -> None:
    """Name the Ask page's conversation and account in the URL, so a reload shows them again."""
    if conversation_id is None:
        st.query_params.pop(PARAM, None)
        return
    if st.query_params.get(PARAM) != conversation_id:
        st.query_params[PARAM] = conversation_id
    if st.query_params.get("account") != account:
        st.query_params["account"] = account


def take_opening() -> str | None:
    """The conversation picked in the history list since the last run (once)."""
    value = st.session_state.pop(_OPEN, None)
    return str(value) if value else None


def go_to_opened() -> None:
    """After a click in the history list, show the Ask page (which then loads the conversation)."""
    if st.session_state.pop(_GOTO, False):
        st.switch_page(ASK_PAGE)


def _open(conversation_id: str, account: str) -> None:
    st.session_state[_OPEN] = conversation_id
    st.session_state[_GOTO] = True
    st.session_state["keep:account"] = account  # the sidebar selects the conversation's account


def reserve(names: dict[str, str]) -> None:
    """Keep a place here for the history list; `fill` draws it once the page has run.

    Drawn last, the list includes a conversation this run's question started and marks the one
    the page ended up showing. `names` maps account ids to their names.
    """
    st.session_state[_SLOT] = (st.container(), names)


def fill() -> None:
    """Draw the history list in the place `reserve` kept in this run (if it ran)."""
    slot = st.session_state.pop(_SLOT, None)
    if slot is not None:
        with slot[0]:
            render_history(slot[1])


def render_history(names: dict[str, str]) -> None:
    """The user's recent conversations, newest first; a click reopens one on the Ask page."""
    caller = identity.caller()
    who = caller.user
    st.caption(identity.describe(caller))
    try:
        items = backend.get_store().conversations(who, limit=HISTORY_SHOWN)
    except (StoreError, sqlite3.Error) as err:
        st.caption(escape_md(f"Conversations are not kept: {err}"))
        return
    current = getattr(st.session_state.get(f"chat:{ASK}"), "conversation_id", None)
    with st.expander("History", expanded=True, icon=":material/history:"):
        shown = [c for c in items if c.turns and c.account in names]  # allowed accounts only
        if not shown:
            st.caption("Your conversations appear here and stay after a reload.")
        for c in shown:
            title = c.title if len(c.title) <= _TITLE else c.title[: _TITLE - 1] + "…"
            when = (c.last or c.created).strftime("%Y-%m-%d %H:%M UTC")
            answers = f"{c.turns} answer{'' if c.turns == 1 else 's'}"
            st.button(
                escape_md(title),
                key=f"history-{c.id}",
                on_click=_open,
                args=(c.id, c.account),
                type="tertiary",
                icon=":material/chat:" if c.id != current else ":material/arrow_right:",
                help=escape_md(f"{names.get(c.account, c.account)} · {answers} · {when}"),
            )
