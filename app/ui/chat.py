"""A chat held in session state: turns, the Conversation follow-ups edit, the rate limit.

Used by the Ask page and by every reporting page's assistant panel (each with its own key). Each
answer is also kept in the app-state store (`app.ui.history`), so a chat can be resumed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app.core.answer import Answer
from app.core.conversation import Conversation, PageContext
from app.core.errors import AssistantError, QueryTimeout, WarehouseMissing
from app.core.plan import QueryPlan
from app.core.request import Request
from app.ui import backend, history, sharing
from app.ui.ratelimit import RateLimiter
from app.ui.sidebar import Selection
from app.ui.text import escape_md, one_line

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """One question and what came back: an Answer, or a one-line message from the app itself."""

    question: str
    answer: Answer | None = None
    message: str | None = None
    steps: list[Any] = field(default_factory=list)
    elapsed_ms: float = 0.0
    record_id: int | None = None  # the answer's id in the app-state store (None: not kept)
    rating: int | None = None  # the local user's thumbs: 0 down, 1 up
    verified_id: int | None = None  # the verification made of this answer (withdrawable)
    share_url: str | None = None  # the share link made for it in this session
    note: str | None = None  # what the last action on it did (verified, correction saved)


@dataclass
class ChatState:
    """A session's chat: turns shown, the conversation the engine edits, the question queue."""

    account: str
    conversation: Conversation
    limiter: RateLimiter
    page: PageContext | None = None
    turns: list[Turn] = field(default_factory=list)
    pending: str | None = None
    key: str = ""
    conversation_id: str | None = None  # in the app-state store; started at the first answer

    def queue(self, question: str) -> None:
        """Ask `question` on the next run (suggestion and choice buttons call this)."""
        self.pending = question

    def take_pending(self) -> str | None:
        """Return and clear the queued question."""
        q, self.pending = self.pending, None
        return q


def chat_state(
    key: str, sel: Selection, *, seed: QueryPlan | None = None, context_key: str = ""
) -> ChatState:
    """Get the session's chat under `key`: the one shown, or one picked, linked or resumed.

    On the Ask page a conversation picked in the history list, a share link, or (in a new
    session) the URL's `?c=` is loaded; a new account returns to the conversation this session
    last showed for it, or starts a new one, and says where the other one is kept.
    """
    name = f"chat:{key}"
    old = st.session_state.get(name)
    state = old if isinstance(old, ChatState) else None
    wanted = None
    if key == history.ASK:
        wanted = history.take_opening() or sharing.take(sel.account)
        if wanted is None and state is None:
            wanted = history.url_conversation()
    if state is None or state.account != sel.account or wanted is not None:
        state = _resume(key, sel, state, wanted)
        st.session_state[name] = state
    if key == history.ASK:
        history.show_in_url(state.conversation_id, sel.account)
    # A page's plan travels with each question; when the page's period or filters change (a new
    # key), the conversation restarts follow-ups from the page's new plan.
    state.page = PageContext(name=key, plan=seed, key=context_key) if seed is not None else None
    return state


def _resume(key: str, sel: Selection, old: ChatState | None, wanted: str | None) -> ChatState:
    """A chat on `sel.account`: the wanted conversation, the one last shown for it, or a new one."""
    if old is not None:
        history.remember(key, old.account, old.conversation_id)
    limit = backend.settings().ui_rate_limit_per_minute
    state = ChatState(
        account=sel.account, conversation=Conversation(), limiter=_shared_limiter(limit), key=key
    )
    for cid in (wanted, history.remembered(key, sel.account)):
        saved = history.load(cid, sel.account) if cid else None
        if saved is not None:
            state.conversation_id = saved.id
            state.conversation = saved.conversation
            state.turns = [
                Turn(
                    t.question,
                    t.answer,
                    record_id=t.id,
                    rating=saved.ratings.get(t.id),
                    verified_id=saved.verified.get(t.id),
                )
                for t in saved.turns
            ]
            break
    if old is not None and old.account != sel.account and old.turns:
        if old.conversation_id:
            note = f"Your conversation on {old.account} is kept under History, in the sidebar."
        else:
            note = f"Your conversation on {old.account} could not be kept (see the sidebar)."
        st.toast(escape_md(note), icon=":material/history:")
    return state


def _shared_limiter(limit: int) -> RateLimiter:
    """One limiter per browser session, shared by the Ask page and every panel."""
    lim = st.session_state.get("_ratelimiter")
    if not isinstance(lim, RateLimiter) or lim.per_minute != limit:
        lim = RateLimiter(limit)
        st.session_state["_ratelimiter"] = lim
    return lim


def ask(
    state: ChatState, question: str, sel: Selection, on_step: Callable[[Any], None] | None = None
) -> Turn:
    """Answer one question into the chat; every failure becomes a one-line message."""
    turn = Turn(question=question)
    t0 = time.perf_counter()
    if not state.limiter.allow():
        wait = max(1, round(state.limiter.retry_after()))
        turn.message = (
            f"You have asked {state.limiter.per_minute} questions in the last minute (the "
            f"`ui_rate_limit_per_minute` setting); please wait {wait} s."
        )
    else:

        def step(s: Any) -> None:
            turn.steps.append(s)
            if on_step is not None:
                on_step(s)

        try:
            turn.answer = backend.answer(
                question,
                as_of=sel.as_of,
                account=sel.account,
                conversation=state.conversation,
                currency=sel.currency,
                page=state.page,
                on_step=step,
            )
        except WarehouseMissing as err:
            turn.message = f"{err} Run `make warehouse` to build the demo warehouse."
        except (QueryTimeout, TimeoutError):
            limit = backend.settings().query_timeout_ms
            turn.message = (
                f"That took longer than {limit} ms and was stopped (the `query_timeout_ms` "
                "setting); try a shorter period or fewer breakdowns."
            )
        except AssistantError as err:
            turn.message = f"Sorry, that could not be answered: {one_line(str(err))}"
        except Exception:  # the UI edge: log the traceback, show the user one line, keep chatting
            log.exception("unexpected error answering %r", question)
            turn.message = "Sorry, something went wrong on our side; please try again."
    turn.elapsed_ms = (time.perf_counter() - t0) * 1000
    if turn.answer is not None:
        request = Request(question, as_of=sel.as_of, account=sel.account, currency=sel.currency)
        kept = history.record(state.conversation_id, request, turn.answer)
        if kept is not None:
            state.conversation_id, turn.record_id = kept
            history.remember(state.key, state.account, state.conversation_id)
            if state.key == history.ASK:
                history.show_in_url(state.conversation_id, sel.account)
    state.turns.append(turn)
    _trim(state)
    return turn


def _trim(state: ChatState) -> None:
    keep = backend.settings().max_conversation_turns
    if len(state.turns) > keep:
        del state.turns[: len(state.turns) - keep]
