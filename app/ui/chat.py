"""A chat held in session state: turns, the Conversation follow-ups edit, the rate limit.

Used by the Ask page and by every reporting page's assistant panel (each with its own key).
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
from app.ui import backend
from app.ui.ratelimit import RateLimiter
from app.ui.sidebar import Selection
from app.ui.text import one_line

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """One question and what came back: an Answer, or a one-line message from the app itself."""

    question: str
    answer: Answer | None = None
    message: str | None = None
    steps: list[Any] = field(default_factory=list)
    elapsed_ms: float = 0.0


@dataclass
class ChatState:
    """A session's chat: turns shown, the conversation the engine edits, the question queue."""

    account: str
    conversation: Conversation
    limiter: RateLimiter
    page: PageContext | None = None
    turns: list[Turn] = field(default_factory=list)
    pending: str | None = None

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
    """Get the session's chat under `key`; a new account starts over, a new context reseeds."""
    name = f"chat:{key}"
    state = st.session_state.get(name)
    if not isinstance(state, ChatState) or state.account != sel.account:
        limit = backend.settings().ui_rate_limit_per_minute
        state = ChatState(
            account=sel.account,
            conversation=Conversation(),
            limiter=_shared_limiter(limit),
        )
        st.session_state[name] = state
    # A page's plan travels with each question; when the page's period or filters change (a new
    # key), the conversation restarts follow-ups from the page's new plan.
    state.page = PageContext(name=key, plan=seed, key=context_key) if seed is not None else None
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
    state.turns.append(turn)
    _trim(state)
    return turn


def _trim(state: ChatState) -> None:
    keep = backend.settings().max_conversation_turns
    if len(state.turns) > keep:
        del state.turns[: len(state.turns) - keep]
