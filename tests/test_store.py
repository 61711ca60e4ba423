"""The app-state store: persistence across a reopen, concurrent writers, never the warehouse."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.answer import Answer, Column
from app.core.conversation import Conversation
from app.core.plan import QueryPlan
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.store import AppStore, StoreError, answer_hash, result_hash
from app.store.db import MIGRATIONS, Database

AT = datetime(2025, 7, 15, 9, 30, tzinfo=UTC)
AS_OF = date(2025, 7, 15)
ACCOUNT = "acct_demo_01"


def small_answer(question: str, value: Decimal) -> Answer:
    """An answered Answer built by hand (no warehouse needed)."""
    return Answer(
        status="answered",
        question=question,
        headline=f"${value}",
        value=value,
        columns=[Column(name="gross_volume", kind="money", currency="usd")],
        rows=[[value]],
        plan=QueryPlan(metrics=("gross_volume",)),
        account=ACCOUNT,
        as_of=AS_OF,
    )


def test_conversations_and_answers_survive_a_reopen(tmp_path: Path, assistant: Assistant) -> None:
    path = tmp_path / "state.sqlite3"
    store = AppStore(path)
    cid = store.start_conversation("ann", ACCOUNT, at=AT)
    asked = []
    for n, question in enumerate(["gross volume by month in 2025", "what about last year?"]):
        conversation = store.load_conversation(cid, user="ann", keep=10)
        request = Request(question, as_of=AS_OF, account=ACCOUNT, conversation=conversation)
        answer = assistant.ask(request)
        assert answer.status == "answered"
        store.record_turn(cid, request, answer, at=AT + timedelta(minutes=n))
        asked.append(answer)
    del store

    again = AppStore(path)
    [summary] = again.conversations("ann")
    assert (summary.id, summary.account, summary.turns) == (cid, ACCOUNT, 2)
    assert summary.title == "gross volume by month in 2025"
    assert summary.last == AT + timedelta(minutes=1)
    turns = again.turns(cid, user="ann")
    assert [t.question for t in turns] == ["gross volume by month in 2025", "what about last year?"]
    for turn, answer in zip(turns, asked, strict=True):
        assert turn.answer.rows == answer.rows  # money back as Decimal, months back as dates
        assert turn.answer.plan == answer.plan and turn.answer.sql == answer.sql
        assert turn.result_hash == answer_hash(answer) == answer_hash(turn.answer)
    # the follow-up edited the first plan: its year moved, the monthly grain stayed
    assert asked[1].plan is not None and asked[1].plan.grain == "month"
    assert asked[1].plan.time is not None and asked[1].plan.time.start == date(2024, 1, 1)
    reloaded = again.load_conversation(cid, user="ann", keep=10)
    assert reloaded.previous == asked[1].plan


def test_a_conversation_belongs_to_its_user(tmp_path: Path) -> None:
    store = AppStore(tmp_path / "s.sqlite3")
    cid = store.start_conversation("ann", ACCOUNT, at=AT)
    store.record_turn(cid, Request("q", as_of=AS_OF), small_answer("q", Decimal("1.00")), at=AT)
    assert store.conversations("bob") == []
    with pytest.raises(StoreError):
        store.turns(cid, user="bob")
    with pytest.raises(StoreError, match="user id"):
        store.start_conversation("  ", ACCOUNT, at=AT)
    assert [c.id for c in store.conversations("ann", account="acct_demo_02")] == []


def test_the_history_lists_the_latest_activity_first(tmp_path: Path) -> None:
    store = AppStore(tmp_path / "s.sqlite3")
    old = store.start_conversation("ann", ACCOUNT, at=AT)
    new = store.start_conversation("ann", ACCOUNT, at=AT + timedelta(hours=1))
    assert [c.id for c in store.conversations("ann")] == [new, old]
    later = AT + timedelta(hours=2)
    store.record_turn(old, Request("q", as_of=AS_OF), small_answer("q", Decimal(1)), at=later)
    assert [c.id for c in store.conversations("ann")] == [old, new]


def test_the_result_hash_compares_money_exactly() -> None:
    base = result_hash(["mrr"], [[Decimal("8450.40")]])
    assert result_hash(["mrr"], [[Decimal("8450.4")]]) == base  # the same amount
    assert result_hash(["mrr"], [[Decimal("8450.41")]]) != base  # a cent off
    assert result_hash(["arr"], [[Decimal("8450.40")]]) != base  # another column
    assert result_hash(["x"], [[0.1 + 0.2]]) == result_hash(["x"], [[0.3]])  # float noise
    assert result_hash(["x"], [[None]]) != result_hash(["x"], [[0]])  # NULL is not zero


def _write_turns(path: str, conversation_id: str, who: str, count: int) -> list[int]:
    """Record `count` turns (a worker of the concurrency test; also run in other processes)."""
    store = AppStore(Path(path))
    ids = []
    for n in range(count):
        answer = small_answer(f"{who} {n}", Decimal(n))
        turn = store.record_turn(conversation_id, Request(f"{who} {n}", as_of=AS_OF), answer, at=AT)
        store.give_feedback(turn.id, user=who, rating="down" if n % 2 else "up", at=AT)
        ids.append(turn.id)
    return ids


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = AppStore(path)
    cid = store.start_conversation("ann", ACCOUNT, at=AT)
    per_writer, results, errors = 15, [], []

    def thread(who: str) -> None:
        try:
            results.append(_write_turns(str(path), cid, who, per_writer))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=thread, args=(f"t{n}",)) for n in range(4)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_write_turns, str(path), cid, f"p{n}", per_writer) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results += [f.result() for f in futures]
    assert errors == []
    turns = store.turns(cid, user="ann")
    assert len(turns) == 6 * per_writer == len({i for ids in results for i in ids})
    assert [t.seq for t in turns] == list(range(1, 6 * per_writer + 1))
    assert len(store.feedback(rating="down")) == 6 * (per_writer // 2)


def test_migrations_run_once_and_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    assert Database(path).version() == len(MIGRATIONS)
    assert Database(path).version() == len(MIGRATIONS)  # reopening applies nothing twice
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from_the_future')")
    with pytest.raises(StoreError, match="schema version 99"):
        AppStore(path)


def test_the_store_is_never_the_warehouse(tmp_path: Path, demo_path: Path) -> None:
    before = (demo_path.stat().st_size, demo_path.stat().st_mtime_ns)
    with pytest.raises(ValidationError, match="state_path"):
        Settings(warehouse_path=demo_path, state_path=demo_path)
    with pytest.raises(StoreError, match="DuckDB"):
        AppStore(demo_path)  # a DuckDB file is refused whatever the settings say
    with pytest.raises(StoreError, match="is the warehouse"):
        AppStore(tmp_path / "w.duckdb", warehouse=tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists()
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(StoreError, match="not a SQLite file"):
        AppStore(tmp_path / "notes.txt")
    assert (demo_path.stat().st_size, demo_path.stat().st_mtime_ns) == before
    settings = Settings(warehouse_path=demo_path, state_path=tmp_path / "state.sqlite3")
    store = AppStore.open(settings)
    assert store.db.path == settings.state_path != settings.warehouse_path
    default = Settings()
    assert default.state_path.resolve() != default.warehouse_path.resolve()


def test_a_reloaded_conversation_keeps_only_the_allowed_turns(tmp_path: Path) -> None:
    store = AppStore(tmp_path / "s.sqlite3")
    cid = store.start_conversation("ann", ACCOUNT, at=AT)
    for n in range(5):
        answer = small_answer(f"q{n}", Decimal(n))
        store.record_turn(cid, Request(f"q{n}", as_of=AS_OF), answer, at=AT)
    conversation = store.load_conversation(cid, user="ann", keep=3)
    assert isinstance(conversation, Conversation)
    assert [a.question for a in conversation.answers] == ["q2", "q3", "q4"]


def test_a_reloaded_answer_has_its_total_row_typed_like_its_rows() -> None:
    from app.store.hashing import revive_answer

    answer = Answer(
        status="answered",
        question="Gross volume by card brand in 2025",
        columns=[
            Column(name="card_brand", kind="label"),
            Column(name="gross_volume", kind="money"),
        ],
        rows=[["Visa", Decimal("300.10")], ["Amex", Decimal("100.00")]],
        value=Decimal("400.10"),
        total=["Total", Decimal("400.10")],
    )
    back = revive_answer(answer.model_dump_json())
    assert back.total == ["Total", Decimal("400.10")] and back.total[1] == back.value
    assert back.rows == answer.rows
