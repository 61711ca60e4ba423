"""AppStore: each user's conversations and turns, share tokens and feedback, in one SQLite file.

Times are arguments (`at`), read by the caller at the UI or CLI edge. Verified answers live in
`app.store.verified`, which this class includes.
"""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.plan import QueryPlan
from app.core.request import Request
from app.core.settings import Settings
from app.store.db import Database, StoreError
from app.store.hashing import answer_hash, revive_answer
from app.store.records import ConversationSummary, Feedback, Rating, Share, Turn
from app.store.verified import VerifiedStore

SHARE_TOKEN_BYTES = 9  # 12 URL-safe characters: 72 random bits


class AppStore(VerifiedStore):
    """The app's own state; safe to share between threads, sessions and processes."""

    def __init__(self, path: Path, *, warehouse: Path | None = None) -> None:
        """Open (creating and migrating) the state file; refuse the warehouse or a DuckDB file."""
        self.db = Database(path, warehouse)

    @classmethod
    def open(cls, settings: Settings) -> AppStore:
        """The store at the `state_path` setting, checked against the `warehouse_path` one."""
        return cls(settings.state_path, warehouse=settings.warehouse_path)

    # conversations -------------------------------------------------------------------------

    def start_conversation(
        self,
        user: str,
        account: str,
        *,
        at: datetime,
        as_of: date | None = None,
        currency: str | None = None,
    ) -> str:
        """Create an empty conversation for a user and account; return its id."""
        conversation_id = uuid.uuid4().hex
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO conversations (id, user_id, account, created, as_of, currency) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, _who(user), account, at.isoformat(), _iso(as_of), currency),
            )
        return conversation_id

    def conversation(self, conversation_id: str, *, user: str) -> ConversationSummary:
        """One of the user's conversations (its account, as-of date and currency are fixed)."""
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT c.id, c.account, c.created, c.as_of, c.currency, count(t.id) AS turns, "
                "max(t.created) AS last FROM conversations AS c "
                "LEFT JOIN turns AS t ON t.conversation_id = c.id "
                "WHERE c.id = ? AND c.user_id = ? GROUP BY c.id",
                (conversation_id, _who(user)),
            ).fetchone()
        if row is None:
            raise StoreError(f"No conversation {conversation_id} for {user}.")
        return ConversationSummary(
            id=row["id"],
            account=row["account"],
            created=datetime.fromisoformat(row["created"]),
            turns=row["turns"],
            last=datetime.fromisoformat(row["last"]) if row["last"] else None,
            as_of=_date(row["as_of"]),
            currency=row["currency"],
        )

    def record_turn(
        self, conversation_id: str, request: Request, answer: Answer, *, at: datetime
    ) -> Turn:
        """Keep one question and its Answer (plan, SQL, result hash) at the conversation's end."""
        account = answer.account or request.account or ""
        with self.db.write() as conn:
            known = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,))
            if known.fetchone() is None:
                raise StoreError(f"No conversation {conversation_id}.")
            (seq,) = conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            cur = conn.execute(
                "INSERT INTO turns (conversation_id, seq, question, account, as_of, currency, "
                "status, answer_json, plan_json, sql, result_hash, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    seq,
                    request.question,
                    account,
                    _iso(request.as_of),
                    request.currency,
                    answer.status,
                    answer.model_dump_json(),
                    answer.plan.model_dump_json() if answer.plan else None,
                    answer.sql,
                    answer_hash(answer),
                    at.isoformat(),
                ),
            )
            turn_id = cur.lastrowid
        return self.turn(int(turn_id or 0))

    def turn(self, turn_id: int) -> Turn:
        """One recorded turn by id."""
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM turns WHERE id = ?", (turn_id,)).fetchone()
        if row is None:
            raise StoreError(f"No answer {turn_id} in the app-state store.")
        return _turn(row)

    def conversations(
        self, user: str, *, account: str | None = None, limit: int = 50
    ) -> list[ConversationSummary]:
        """A user's conversations, latest activity first (of one account, when given)."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT c.id, c.account, c.created, count(t.id) AS turns, max(t.created) AS last, "
                "(SELECT question FROM turns WHERE conversation_id = c.id ORDER BY seq LIMIT 1) "
                "AS title FROM conversations AS c LEFT JOIN turns AS t ON t.conversation_id = c.id "
                "WHERE c.user_id = ? AND (? IS NULL OR c.account = ?) GROUP BY c.id "
                "ORDER BY coalesce(max(t.created), c.created) DESC, c.rowid DESC LIMIT ?",
                (_who(user), account, account, limit),
            ).fetchall()
        return [
            ConversationSummary(
                id=r["id"],
                account=r["account"],
                created=datetime.fromisoformat(r["created"]),
                title=r["title"] or "",
                turns=r["turns"],
                last=datetime.fromisoformat(r["last"]) if r["last"] else None,
            )
            for r in rows
        ]

    def turns(self, conversation_id: str, *, user: str) -> list[Turn]:
        """The turns of one of the user's conversations, oldest first."""
        with self.db.connect() as conn:
            owner = conn.execute(
                "SELECT user_id FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if owner is None or owner["user_id"] != _who(user):
                raise StoreError(f"No conversation {conversation_id} for {user}.")
            rows = conn.execute(
                "SELECT * FROM turns WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
            ).fetchall()
        return [_turn(r) for r in rows]

    def load_conversation(self, conversation_id: str, *, user: str, keep: int) -> Conversation:
        """The conversation rebuilt from its turns, so follow-ups edit its latest plan again."""
        conversation = Conversation()
        for t in self.turns(conversation_id, user=user):
            conversation.add(t.answer, keep=keep)
        return conversation

    # share tokens --------------------------------------------------------------------------

    def share(self, turn_id: int, *, user: str, at: datetime) -> str:
        """A short random token that reproduces this turn's question, account, date and currency."""
        t = self.turn(turn_id)
        token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token,
                    t.id,
                    _who(user),
                    t.question,
                    t.account,
                    _iso(t.as_of),
                    t.currency,
                    t.answer.plan.model_dump_json() if t.answer.plan else None,
                    t.answer.sql,
                    t.result_hash,
                    at.isoformat(),
                ),
            )
        return token

    def shared(self, token: str) -> Share:
        """What a share token stands for."""
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM shares WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise StoreError(f"No shared answer {token!r}; the link may be mistyped.")
        return Share(
            token=row["token"],
            turn_id=row["turn_id"],
            user=row["user_id"],
            question=row["question"],
            account=row["account"],
            as_of=_date(row["as_of"]),
            currency=row["currency"],
            plan=_plan(row["plan_json"]),
            sql=row["sql"],
            result_hash=row["result_hash"],
            created=datetime.fromisoformat(row["created"]),
        )

    # feedback ------------------------------------------------------------------------------

    def give_feedback(
        self, turn_id: int, *, user: str, rating: Rating, correction: str = "", at: datetime
    ) -> Feedback:
        """Record (or change) a user's thumbs up or down, and correction, on one answer."""
        t = self.turn(turn_id)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO feedback (turn_id, user_id, rating, correction, plan_json, sql, "
                "result_hash, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (turn_id, user_id) DO UPDATE SET rating = excluded.rating, "
                "correction = excluded.correction, created = excluded.created",
                (
                    t.id,
                    _who(user),
                    1 if rating == "up" else -1,
                    correction.strip(),
                    t.answer.plan.model_dump_json() if t.answer.plan else None,
                    t.answer.sql,
                    t.result_hash,
                    at.isoformat(),
                ),
            )
        return next(f for f in self.feedback() if f.turn_id == turn_id and f.user == _who(user))

    def feedback(self, *, rating: Rating | None = None) -> list[Feedback]:
        """Every feedback given, oldest first (only thumbs up or down, when given)."""
        wanted = None if rating is None else (1 if rating == "up" else -1)
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT f.*, t.question, t.account, t.as_of, t.currency, t.answer_json, "
                "t.conversation_id, t.seq FROM feedback AS f JOIN turns AS t ON t.id = f.turn_id "
                "WHERE ? IS NULL OR f.rating = ? ORDER BY f.id",
                (wanted, wanted),
            ).fetchall()
            return [_feedback(conn, r) for r in rows]


def _who(user: str) -> str:
    if not user.strip():
        raise StoreError("A user id is needed to keep conversations, feedback or shares.")
    return user.strip()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _plan(text: str | None) -> QueryPlan | None:
    return QueryPlan.model_validate_json(text) if text else None


def _turn(row: sqlite3.Row) -> Turn:
    return Turn(
        id=row["id"],
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        question=row["question"],
        account=row["account"],
        as_of=_date(row["as_of"]),
        currency=row["currency"],
        answer=revive_answer(row["answer_json"]),
        result_hash=row["result_hash"],
        created=datetime.fromisoformat(row["created"]),
    )


def _feedback(conn: sqlite3.Connection, row: sqlite3.Row) -> Feedback:
    earlier: list[Any] = conn.execute(
        "SELECT question FROM turns WHERE conversation_id = ? AND seq < ? ORDER BY seq",
        (row["conversation_id"], row["seq"]),
    ).fetchall()
    return Feedback(
        id=row["id"],
        turn_id=row["turn_id"],
        user=row["user_id"],
        rating="up" if row["rating"] > 0 else "down",
        correction=row["correction"],
        question=row["question"],
        account=row["account"],
        as_of=_date(row["as_of"]),
        currency=row["currency"],
        history=[e["question"] for e in earlier],
        answer=revive_answer(row["answer_json"]),
        plan=_plan(row["plan_json"]),
        sql=row["sql"],
        result_hash=row["result_hash"],
        created=datetime.fromisoformat(row["created"]),
    )
