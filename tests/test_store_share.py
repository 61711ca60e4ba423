"""Share tokens: the question, account, as-of date and currency come back and are rerun."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.shares import open_share
from app.store import AppStore, StoreError, answer_hash
from app.store.store import SHARE_TOKEN_BYTES
from evals.warehouses import ensure_warehouse

AT = datetime(2025, 7, 16, 8, 0, tzinfo=UTC)
AS_OF = date(2025, 7, 15)


@pytest.fixture
def store(tmp_path: Path) -> AppStore:
    return AppStore(tmp_path / "state.sqlite3")


@pytest.fixture
def other_data() -> Iterator[Assistant]:
    """The same accounts with other data (another seed): 'current data' after a reload."""
    a = Assistant(Settings(warehouse_path=ensure_warehouse("alt_seed_1")))
    yield a
    a.session.close()


def _shared(assistant: Assistant, store: AppStore, request: Request) -> str:
    answer = assistant.ask(request)
    assert answer.status == "answered"
    cid = store.start_conversation("ann", request.account or "", at=AT)
    turn = store.record_turn(cid, request, answer, at=AT)
    return store.share(turn.id, user="ann", at=AT)


def test_a_share_token_reproduces_the_question_and_its_settings(
    assistant: Assistant, store: AppStore
) -> None:
    request = Request("net volume by month this year", as_of=AS_OF, account="acct_demo_02",
                      currency="usd")  # fmt: skip
    token = _shared(assistant, store, request)
    assert len(token) == SHARE_TOKEN_BYTES * 4 // 3 and token.isascii()
    share = store.shared(token)
    assert (share.question, share.account, share.as_of, share.currency) == (
        request.question, "acct_demo_02", AS_OF, "usd"
    )  # fmt: skip
    shown = open_share(assistant, store, token)
    original = assistant.ask(request)
    assert not shown.changed
    assert shown.answer.rows == original.rows and shown.answer.currency == "usd"
    assert shown.answer.account == "acct_demo_02" and shown.answer.as_of == AS_OF
    assert shown.answer.notices[0].endswith("the result is unchanged.")


def test_a_share_rerun_on_other_data_says_the_result_changed(
    assistant: Assistant, other_data: Assistant, store: AppStore
) -> None:
    request = Request("gross volume last quarter", as_of=AS_OF, account="acct_demo_01")
    token = _shared(assistant, store, request)
    shown = open_share(other_data, store, token)
    assert shown.changed and shown.answer.status == "answered"
    assert answer_hash(shown.answer) != store.shared(token).result_hash
    assert "the result has changed since it was shared" in shown.answer.notices[0]


def test_a_pasted_sql_answer_is_shared_by_its_sql(assistant: Assistant, store: AppStore) -> None:
    from app.pipeline.rawsql import answer_sql

    request = Request("SELECT count(*) AS n FROM charges", as_of=AS_OF, account="acct_demo_01")
    answer = answer_sql(assistant.session, request.question, request)
    cid = store.start_conversation("ann", "acct_demo_01", at=AT)
    turn = store.record_turn(cid, request, answer, at=AT)
    shown = open_share(assistant, store, store.share(turn.id, user="ann", at=AT))
    assert not shown.changed and shown.answer.rows == answer.rows


def test_an_unknown_token_is_a_clear_error(store: AppStore, assistant: Assistant) -> None:
    with pytest.raises(StoreError, match="mistyped"):
        open_share(assistant, store, "nope")
