"""Verified answers: a hit on an equal plan, a miss on another, staleness after a model or schema
change, account scope, and withdrawal."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from app.core.answer import Answer
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.verified import schema_fingerprint
from app.store import AppStore, StoreError
from evals.warehouses import ensure_warehouse

AT = datetime(2025, 7, 16, 8, 0, tzinfo=UTC)
AS_OF = date(2025, 7, 15)
ACCOUNT = "acct_demo_01"
VERIFIED_Q = "What was MRR by plan last quarter?"


def _assistant(path: Path, store: AppStore) -> Assistant:
    return Assistant(Settings(warehouse_path=path), store=store)


@pytest.fixture
def store(tmp_path: Path) -> AppStore:
    return AppStore(tmp_path / "state.sqlite3")


@pytest.fixture
def checked(store: AppStore, demo_path: Path) -> Iterator[Assistant]:
    """An assistant with the store, on the demo warehouse (closed after the test)."""
    a = _assistant(demo_path, store)
    yield a
    a.session.close()


def _verify(assistant: Assistant, store: AppStore, question: str = VERIFIED_Q, **kw: object) -> int:
    """Ask, record and verify a question as the finance owner; return the verified id."""
    request = Request(question, as_of=AS_OF, account=str(kw.pop("account", ACCOUNT)))
    answer = assistant.ask(request)
    assert answer.status == "answered" and answer.verified is None
    cid = store.start_conversation("owner", request.account or ACCOUNT, at=AT)
    turn = store.record_turn(cid, request, answer, at=AT)
    assert assistant.verifier is not None
    return assistant.verifier.verify(turn.id, by="Dana (CFO)", at=AT, **kw).id  # type: ignore[arg-type]


def _ask(
    assistant: Assistant, question: str, as_of: date = AS_OF, account: str = ACCOUNT
) -> Answer:
    return assistant.ask(Request(question, as_of=as_of, account=account))


def test_a_paraphrase_with_the_same_plan_is_answered_as_verified(
    checked: Assistant, store: AppStore
) -> None:
    vid = _verify(checked, store)
    answer = _ask(checked, "monthly recurring revenue per plan in the previous quarter")
    assert answer.verified is not None and answer.verified.stale is None
    assert (answer.verified.id, answer.verified.by) == (vid, "Dana (CFO)")
    assert answer.notices[0] == "Verified by Dana (CFO) on 2025-07-16."
    plain = Assistant(checked.settings, checked.session.executor)  # no store: as before
    assert plain.ask(Request(VERIFIED_Q, as_of=AS_OF, account=ACCOUNT)).verified is None


def test_a_different_plan_is_not_verified(checked: Assistant, store: AppStore) -> None:
    _verify(checked, store)
    for question in ("MRR by product last quarter", "MRR by plan in Q1 2025", "ARR by plan"):
        answer = _ask(checked, question)
        assert answer.status == "answered", question
        assert answer.verified is None and not any("Verified" in n for n in answer.notices)
    euros = checked.ask(Request(VERIFIED_Q, as_of=AS_OF, account=ACCOUNT, currency="eur"))
    assert euros.verified is None  # another reporting currency is another answer


def test_a_relative_period_matches_on_a_later_day(checked: Assistant, store: AppStore) -> None:
    _verify(checked, store)
    later = _ask(checked, "MRR per plan last quarter", as_of=date(2025, 10, 15))
    assert later.plan is not None and later.plan.time is not None
    assert later.plan.time.start == date(2025, 7, 1)  # Q3 now, Q2 when verified
    assert later.verified is not None and later.verified.stale is None
    fixed = _ask(checked, "MRR by plan in Q2 2025", as_of=date(2025, 10, 15))
    assert fixed.verified is not None  # same period as the verified reading
    other = _ask(checked, "MRR by plan in Q1 2025", as_of=date(2025, 10, 15))
    assert other.verified is None


def test_verification_is_per_account_unless_global(checked: Assistant, store: AppStore) -> None:
    _verify(checked, store)
    assert _ask(checked, VERIFIED_Q, account="acct_demo_02").verified is None
    _verify(checked, store, "gross volume last month", scope="global")
    assert _ask(checked, "gross volume last month", account="acct_demo_02").verified is not None


def test_a_model_change_makes_the_verification_stale(
    checked: Assistant, store: AppStore, demo_path: Path
) -> None:
    _verify(checked, store)
    changed = _assistant(demo_path, store)
    try:
        changed.session.model = changed.session.model.model_copy(update={"sha256": "0" * 64})
        answer = _ask(changed, VERIFIED_Q)
        assert answer.status == "answered"
        assert answer.verified is not None and answer.verified.stale is not None
        assert "semantic model has changed" in answer.notices[0]
        assert answer.notices[0].startswith("Not verified:")
        assert changed.verifier is not None
        renewed = changed.verifier.reverify(answer.verified.id, by="Dana (CFO)", at=AT)
        assert renewed.model_sha == "0" * 64
        again = _ask(changed, VERIFIED_Q)
        assert again.verified is not None and again.verified.stale is None
        assert _ask(checked, VERIFIED_Q).verified.stale is not None  # type: ignore[union-attr]
    finally:
        changed.session.close()


def test_a_schema_change_makes_the_verification_stale(
    checked: Assistant, store: AppStore, tmp_path: Path
) -> None:
    _verify(checked, store)
    same = ensure_warehouse("alt_seed_2")  # other data, same schema: still verified
    copy = tmp_path / "altered.duckdb"
    shutil.copy(same, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("ALTER TABLE charges ADD COLUMN internal_note VARCHAR")
    for path, stale in ((same, False), (copy, True)):
        other = _assistant(path, store)
        try:
            answer = _ask(other, VERIFIED_Q)
            assert answer.verified is not None
            assert (answer.verified.stale is not None) is stale, path
            if stale:
                assert "warehouse schema has changed" in (answer.verified.stale or "")
        finally:
            other.session.close()


def test_the_schema_fingerprint_sees_columns_and_types(checked: Assistant) -> None:
    first = schema_fingerprint(checked.session)
    assert first == schema_fingerprint(checked.session)
    assert len(first) == 64


def test_unverify_withdraws_the_badge(checked: Assistant, store: AppStore) -> None:
    vid = _verify(checked, store)
    assert _ask(checked, VERIFIED_Q).verified is not None
    store.unverify(vid)
    assert _ask(checked, VERIFIED_Q).verified is None
    with pytest.raises(StoreError):
        store.unverify(vid)


def test_only_an_answer_with_a_result_can_be_verified(checked: Assistant, store: AppStore) -> None:
    request = Request("what is the weather in Paris", as_of=AS_OF, account=ACCOUNT)
    answer = checked.ask(request)
    assert answer.status != "answered"
    turn = store.record_turn(store.start_conversation("o", ACCOUNT, at=AT), request, answer, at=AT)
    assert checked.verifier is not None
    with pytest.raises(StoreError, match="no result to verify"):
        checked.verifier.verify(turn.id, by="Dana", at=AT)
