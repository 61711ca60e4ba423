"""Share links in the app: make one for an answer, and open one (`?share=<token>`).

Opening a link selects the shared question's account, as-of date and reporting currency in the
sidebar, reruns the question on current data (`app.pipeline.shares.open_share`, which says whether
the result changed) and keeps it as the first answer of a new conversation of the local user, so
follow-ups, feedback and a reload work as for any other answer.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from app.access import Caller
from app.core.errors import AssistantError
from app.core.request import Request
from app.pipeline.shares import open_share
from app.semantic.load import semantic_model
from app.store import StoreError
from app.ui import backend, history
from app.ui.text import escape_md

log = logging.getLogger(__name__)

PARAM = "share"  # the query parameter of a share link
_PENDING = "sharing:pending"  # a link's token whose sidebar choices are set, to open on Ask
_DONE = "sharing:done"  # tokens this session has opened (a rerun must not open one twice)
_PROBLEM = "sharing:problem"


def link(token: str, *, panel: bool) -> str:
    """The URL that opens a share token on the Ask page of this app."""
    url = st.context.url or ""
    if not url:
        return f"/?{PARAM}={token}"
    parts = urlsplit(url)
    path = parts.path
    if panel:  # a reporting page's panel: the Ask page is the app's root, one level up
        path = path.rstrip("/").rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "/", f"{PARAM}={token}", ""))


def make(turn_id: int, *, panel: bool) -> str:
    """A new share link for a recorded answer."""
    token = backend.get_store().share(turn_id, user=history.user(), at=backend.now())
    return link(token, panel=panel)


def prepare(currencies: dict[str, str], who: Caller) -> None:
    """Before the sidebar draws: pick a share link's account, as-of date and currency there.

    `currencies` maps each account `who` may see to its default currency; a link to any other
    account is refused (and the refusal logged) before anything of it runs.
    """
    token = st.query_params.get(PARAM)
    done: set[str] = st.session_state.setdefault(_DONE, set())
    if not token or token in done:
        return
    done.add(token)
    try:
        share = backend.get_store().shared(token)
    except (StoreError, sqlite3.Error) as err:
        st.session_state[_PROBLEM] = f"This share link does not open: {err}"
        return
    if share.account not in currencies:  # the same words whether the account exists or not
        who.refuse("open share link", share.account)
        st.session_state[_PROBLEM] = (
            f"This share link is for account {share.account}, which you cannot open here."
        )
        return
    st.session_state["keep:account"] = share.account
    latest = backend.latest_date(share.account)
    if share.as_of is not None and (latest is None or share.as_of <= latest):
        st.session_state[f"keep:as_of:{share.account}"] = share.as_of
    if share.currency and share.currency.lower() in (
        set(semantic_model().currencies) | {currencies[share.account].lower()}
    ):
        st.session_state[f"keep:currency:{share.account}"] = share.currency.lower()
    st.session_state[_PENDING] = token


def take(account: str) -> str | None:
    """Open the pending share link as a new conversation on `account`; its id (None: no link)."""
    token = st.session_state.pop(_PENDING, None)
    problem = st.session_state.pop(_PROBLEM, None)
    if problem:
        st.warning(escape_md(problem))
    if token is None:
        return None
    st.query_params.pop(PARAM, None)
    try:
        shown = open_share(backend.get_assistant(), backend.get_store(), token)
    except (AssistantError, sqlite3.Error) as err:
        st.warning(escape_md(f"This share link does not open: {err}"))
        return None
    share = shown.share
    if share.account != account:  # the sidebar could not select it
        return None
    request = Request(
        share.question, as_of=share.as_of or date.min, account=account, currency=share.currency
    )
    kept = history.record(None, request, shown.answer)
    return kept[0] if kept is not None else None
