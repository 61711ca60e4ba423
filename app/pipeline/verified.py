"""Verified answers in the pipeline: what a verification depends on, and matching a new plan.

A question matches a verified answer when its engine plan computes the same thing (equal
`plan_key`: metrics, dimensions, filters, grain, ranking, currency…, not the words or assumptions)
for the same account (or a global verification) and reporting currency, and either covers the
same period or the verified question, read again as of the new date, gives the new plan (so a
verified "MRR by plan last quarter" still vouches for "MRR per plan previous quarter" next
quarter). The match is stale, and earns no badge, when the semantic model's sha256 or the
warehouse schema's fingerprint differs from the ones recorded at verification.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from app.core.answer import Answer, VerifiedBy
from app.core.errors import ExecutionError
from app.core.plan import PlanResult, QueryPlan
from app.core.request import Request
from app.pipeline.session import Session
from app.semantic.catalog import warehouse_tables
from app.store import AppStore, Scope, StoreError, Verified, plan_key, same_period

log = logging.getLogger(__name__)
Replan = Callable[[str], PlanResult | None]


@dataclass(frozen=True)
class Fingerprints:
    """What a verification depends on: the semantic model and the warehouse's tables."""

    model_sha: str
    schema: str


def schema_fingerprint(session: Session) -> str:
    """SHA-256 of every allow-listed table's column names and types, as the warehouse has them."""
    parts: list[object] = []
    account = session.settings.default_account
    for name in sorted(warehouse_tables()):
        try:
            res = session.run_sql(exp.select("*").from_(name).limit(0), account)
        except ExecutionError:
            parts.append([name, "missing"])
            continue
        parts.append([name, list(res.columns), list(res.types)])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class Verifier:
    """Marks answers verified and finds the verification a new plan matches."""

    def __init__(self, store: AppStore, session: Session) -> None:
        """Use this store, and this session's semantic model and warehouse for fingerprints."""
        self.store = store
        self.session = session
        self._schema: str | None = None

    def fingerprints(self) -> Fingerprints:
        """The current model sha and schema fingerprint (the schema read once per session)."""
        if self._schema is None:
            self._schema = schema_fingerprint(self.session)
        return Fingerprints(model_sha=self.session.model.sha256, schema=self._schema)

    def verify(self, turn_id: int, *, by: str, at: datetime, scope: Scope = "account") -> Verified:
        """Mark a recorded answer verified by `by`, against the current model and schema."""
        now = self.fingerprints()
        return self.store.verify(
            turn_id,
            by=by,
            at=at,
            model_sha=now.model_sha,
            schema_fingerprint=now.schema,
            scope=scope,
        )

    def reverify(self, verified_id: int, *, by: str, at: datetime) -> Verified:
        """Confirm a verification again under the current model and schema."""
        now = self.fingerprints()
        return self.store.reverify(
            verified_id, by=by, at=at, model_sha=now.model_sha, schema_fingerprint=now.schema
        )

    def stale(self, item: Verified) -> str | None:
        """Why a verification no longer holds (None while it does)."""
        now = self.fingerprints()
        reasons = []
        if item.model_sha != now.model_sha:
            reasons.append("the semantic model has changed")
        if item.schema_fingerprint != now.schema:
            reasons.append("the warehouse schema has changed")
        return " and ".join(reasons) or None

    def match(
        self, plan: QueryPlan, request: Request, account: str, replan: Replan
    ) -> VerifiedBy | None:
        """The verification `plan` matches: a holding one first, else a stale one, else None."""
        found: list[VerifiedBy] = []
        wanted = (request.currency or "").lower()
        for item in self.store.verified_candidates(plan, account):
            if item.plan is None or (item.currency or "").lower() != wanted:
                continue
            if not same_period(item.plan, plan):
                again = replan(item.question)
                if not isinstance(again, QueryPlan) or not _same(again, plan):
                    continue
            by = VerifiedBy(
                id=item.id, question=item.question, by=item.by, at=item.at, stale=self.stale(item)
            )
            if by.stale is None:
                return by
            found.append(by)
        return found[0] if found else None

    def mark(self, answer: Answer, request: Request, account: str, replan: Replan) -> Answer:
        """The answer with the verification its plan matches, and its note, when there is one."""
        if answer.status != "answered" or answer.plan is None:
            return answer
        try:
            by = self.match(answer.plan, request, account, replan)
        except (sqlite3.Error, StoreError) as err:  # the answer stands without the lookup
            log.warning("verified answers not checked: %s", err)
            note = f"Verified answers could not be checked ({err})."
            return answer.model_copy(update={"notices": [*answer.notices, note]})
        if by is None:
            return answer
        return answer.model_copy(update={"verified": by, "notices": [by.note, *answer.notices]})


def _same(a: QueryPlan, b: QueryPlan) -> bool:
    return plan_key(a) == plan_key(b) and same_period(a, b)
