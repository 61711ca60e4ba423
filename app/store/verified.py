"""Verified answers in the app-state store: mark, re-confirm, unverify, list and look up.

A verification is per account by default (the owner vouches for the account they looked at) or
global (every account); a lookup sees the account's own and the global ones, own first, newest
first. It records the semantic model's sha256 and the warehouse schema fingerprint it was checked
against; the pipeline compares them with the current ones to call it stale.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from app.core.plan import QueryPlan
from app.store.db import Database, StoreError
from app.store.hashing import plan_key, revive_answer
from app.store.records import Scope, Verified


class VerifiedStore:
    """The verified-answer part of the app-state store (mixed into AppStore)."""

    db: Database

    def verify(
        self,
        turn_id: int,
        *,
        by: str,
        at: datetime,
        model_sha: str,
        schema_fingerprint: str,
        scope: Scope = "account",
    ) -> Verified:
        """Mark a recorded answer verified by `by` at `at`, against this model and schema."""
        if not by.strip():
            raise StoreError("A verification needs the name of who verified it.")
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM turns WHERE id = ?", (turn_id,)).fetchone()
            if row is None:
                raise StoreError(f"No answer {turn_id} in the app-state store.")
            if row["status"] != "answered" or not (row["plan_json"] or row["sql"]):
                raise StoreError(f"Answer {turn_id} has no result to verify ({row['status']}).")
            plan = QueryPlan.model_validate_json(row["plan_json"]) if row["plan_json"] else None
            cur = conn.execute(
                "INSERT INTO verified (turn_id, account, question, as_of, currency, plan_json, "
                "plan_key, sql, answer_json, verified_by, verified_at, model_sha, "
                "schema_fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    turn_id,
                    row["account"] if scope == "account" else None,
                    row["question"],
                    row["as_of"],
                    row["currency"],
                    row["plan_json"],
                    plan_key(plan) if plan else None,
                    row["sql"],
                    row["answer_json"],
                    by.strip(),
                    at.isoformat(),
                    model_sha,
                    schema_fingerprint,
                ),
            )
            new_id = int(cur.lastrowid or 0)
        return self.verified_answer(new_id)

    def reverify(
        self, verified_id: int, *, by: str, at: datetime, model_sha: str, schema_fingerprint: str
    ) -> Verified:
        """Confirm a (stale) verification again under the current model and schema."""
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE verified SET verified_by = ?, verified_at = ?, model_sha = ?, "
                "schema_fingerprint = ? WHERE id = ?",
                (by.strip(), at.isoformat(), model_sha, schema_fingerprint, verified_id),
            )
            if cur.rowcount == 0:
                raise StoreError(f"No verified answer {verified_id}.")
        return self.verified_answer(verified_id)

    def unverify(self, verified_id: int) -> None:
        """Withdraw a verification; questions are answered without the badge from then on."""
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM verified WHERE id = ?", (verified_id,))
            if cur.rowcount == 0:
                raise StoreError(f"No verified answer {verified_id}.")

    def verified_answer(self, verified_id: int) -> Verified:
        """One verified answer by id."""
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM verified WHERE id = ?", (verified_id,)).fetchone()
            if row is None:
                raise StoreError(f"No verified answer {verified_id}.")
            return _verified(conn, row)

    def verified_answers(self, *, account: str | None = None) -> list[Verified]:
        """Every verified answer, oldest first (those that apply to `account`, when given)."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM verified WHERE ? IS NULL OR account = ? OR account IS NULL "
                "ORDER BY id",
                (account, account),
            ).fetchall()
            return [_verified(conn, r) for r in rows]

    def verified_candidates(self, plan: QueryPlan, account: str) -> list[Verified]:
        """Verified answers whose plan computes what `plan` does, up to the period; best first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM verified WHERE plan_key = ? AND (account = ? OR account IS NULL) "
                "ORDER BY account IS NULL, verified_at DESC, id DESC",
                (plan_key(plan), account),
            ).fetchall()
            return [_verified(conn, r) for r in rows]


def _verified(conn: sqlite3.Connection, row: sqlite3.Row) -> Verified:
    earlier = conn.execute(
        "SELECT e.question FROM turns AS t JOIN turns AS e "
        "ON e.conversation_id = t.conversation_id AND e.seq < t.seq WHERE t.id = ? ORDER BY e.seq",
        (row["turn_id"],),
    ).fetchall()
    return Verified(
        id=row["id"],
        turn_id=row["turn_id"],
        account=row["account"],
        question=row["question"],
        history=[e["question"] for e in earlier],
        as_of=date.fromisoformat(row["as_of"]) if row["as_of"] else None,
        currency=row["currency"],
        plan=QueryPlan.model_validate_json(row["plan_json"]) if row["plan_json"] else None,
        sql=row["sql"],
        answer=revive_answer(row["answer_json"]),
        by=row["verified_by"],
        at=datetime.fromisoformat(row["verified_at"]),
        model_sha=row["model_sha"],
        schema_fingerprint=row["schema_fingerprint"],
    )
