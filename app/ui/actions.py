"""What a user can do with an answer: thumbs, a correction, a share link, marking it verified.

Also, for a question over the length limit, the whole text back to shorten and ask again. Each
action writes to the app-state store at the time read here (`backend.now`), under the session's
user; only users the access policy lets verify see the verify buttons (app/ui/identity.py).
Thumbs down (with its correction) become draft eval cases (`ledgerlens feedback export`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import streamlit as st

from app.core.errors import AssistantError
from app.store import Rating
from app.ui import backend, history, identity, sharing
from app.ui.chat import Turn
from app.ui.text import escape_md

log = logging.getLogger(__name__)

_VERIFY = {  # label, icon, help of the verification button
    "mark": (
        "Mark verified",
        ":material/verified:",
        "Vouch for this answer: the same question, however worded, then carries a 'Verified by' "
        "badge until the semantic model or warehouse schema changes.",
    ),
    "again": (
        "Verify again",
        ":material/verified:",
        "Confirm the verification under the current semantic model and warehouse schema.",
    ),
    "withdraw": (
        "Withdraw verification",
        ":material/remove_moderator:",
        "Questions with this plan are answered without the badge from then on.",
    ),
}

THUMBS: tuple[Rating, Rating] = ("down", "up")  # st.feedback("thumbs"): 0 down, 1 up


def render_actions(turn: Turn, *, key: str) -> None:
    """Thumbs, share and verify for a kept answer; the correction box after a thumbs down."""
    ans = turn.answer
    rid = turn.record_id
    if ans is None or rid is None:
        return
    base = f"act-{rid}"
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.feedback(
            "thumbs",
            key=f"{base}-rating",
            default=turn.rating,
            on_change=_rate,
            args=(turn, f"{base}-rating"),
        )
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
        if ans.status == "answered" and (ans.plan is not None or ans.sql) and _may_verify():
            _verify_button(turn, base)
    if turn.share_url:
        st.caption("Share link (opens this question rerun on current data):")
        st.code(turn.share_url, language=None, wrap_lines=True)
    if turn.rating == 0:
        box = f"{base}-fix"
        st.text_area(
            "What should the answer have been? (optional)",
            key=box,
            height=80,
            placeholder="e.g. it should exclude refunds; the total should be $1,234.56",
        )
        st.button("Send correction", key=f"{base}-send", on_click=_correct, args=(turn, box))
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


def _rate(turn: Turn, widget: str) -> None:
    value = st.session_state.get(widget)
    if value is None:  # un-clicking keeps the rating given; a new click changes it
        return

    def give(rid: int) -> str:
        rating = THUMBS[int(value)]
        backend.get_store().give_feedback(rid, user=history.user(), rating=rating, at=backend.now())
        turn.rating = int(value)
        if rating == "down":
            return "Thanks: thumbs down kept; a correction below helps whoever fixes it."
        return "Thanks: thumbs up kept."

    _act(turn, "keep your feedback", give)


def _correct(turn: Turn, box: str) -> None:
    text = str(st.session_state.get(box) or "").strip()

    def give(rid: int) -> str:
        backend.get_store().give_feedback(
            rid, user=history.user(), rating="down", correction=text, at=backend.now()
        )
        return "Correction kept with your thumbs down." if text else "Thumbs down kept."

    _act(turn, "keep your correction", give)


def _share(turn: Turn, panel: bool) -> None:
    def make(rid: int) -> None:
        turn.share_url = sharing.make(rid, panel=panel)

    _act(turn, "make a share link", make)


def _verify_button(turn: Turn, base: str) -> None:
    """Mark verified; withdraw one's own verification; verify a stale one again."""
    ans = turn.answer
    assert ans is not None
    if turn.verified_id is not None:
        what = "withdraw"
    elif ans.verified is None:
        what = "mark"
    elif ans.verified.stale is not None:
        what = "again"
    else:  # it already carries a badge that holds
        return
    label, icon, tip = _VERIFY[what]
    st.button(
        label, key=f"{base}-verify", on_click=_verify, args=(turn,), icon=icon, type="tertiary",
        help=tip,
    )  # fmt: skip


def _may_verify() -> bool:
    """Whether the access policy lets this session's user vouch for answers."""
    try:
        return identity.caller().may_verify
    except AssistantError:  # no caller, or no usable policy: nobody vouches
        return False


def _verify(turn: Turn) -> None:
    def mark(rid: int) -> str:
        caller = identity.caller()
        if not caller.may_verify:  # the button is not drawn for them; a stale click is refused too
            caller.refuse("verify answer", str(rid))
            return "Your access does not include marking answers verified."
        verifier = backend.get_assistant().verifier
        if verifier is None:
            return "Verified answers need the app-state store, which is not available."
        ans = turn.answer
        who, at = caller.user, backend.now()
        if turn.verified_id is not None:
            backend.get_store().unverify(turn.verified_id)
            turn.verified_id = None
            return "Verification withdrawn: this question is answered without the badge."
        if ans is not None and ans.verified is not None and ans.verified.stale is not None:
            v = verifier.reverify(ans.verified.id, by=who, at=at)
        else:
            v = verifier.verify(rid, by=who, at=at)
            turn.verified_id = v.id
        return (
            f"Verified by {v.by} on {v.at.date().isoformat()}: this question, however worded, "
            "now carries that badge."
        )

    _act(turn, "change the verification", mark)


def too_long_editor(turn: Turn, *, key: str, on_ask: Callable[[str], None]) -> None:
    """The whole of a question over the length limit, to shorten and ask again."""
    limit = backend.settings().max_question_chars
    # keyed by the stored answer when there is one: another conversation's box must not show it
    base = f"act-{turn.record_id}" if turn.record_id is not None else key
    box = f"{base}-long"
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
        key=f"{base}-long-ask",
        on_click=_ask_edited,
        args=(box, on_ask),
        icon=":material/send:",
    )


def _ask_edited(box: str, on_ask: Callable[[str], None]) -> None:
    text = str(st.session_state.get(box) or "").strip()
    if text:
        on_ask(text)
