"""Every limit in app/core/settings.py does what its help text says, and says so to the user.

Each test opens its own copy of the demo warehouse: DuckDB keeps one configuration per open file
in a process, and these tests change the memory limit.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from app.core.conversation import Conversation
from app.core.errors import ExecutionError
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.rawsql import answer_sql
from app.router import Router
from app.run.duckdb import DuckDBWarehouse, Executor
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Guarded, Policy, check_sql
from tests.held_statements import eventually, stragglers

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"
CARTESIAN = "SELECT count(*) FROM charges a, charges b, charges c"
HUNGRY = "SELECT length(string_agg(a.id, '')) FROM charges a, charges b"
LIMITS = (
    "query_timeout_ms",
    "memory_limit",
    "threads",
    "max_rows",
    "max_question_chars",
    "max_conversation_turns",
)


@pytest.fixture
def copy(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture
def make(copy: Path) -> Iterator[Any]:
    opened: list[Assistant] = []

    def build(**limits: Any) -> Assistant:
        assistant = Assistant(Settings(warehouse_path=copy, **limits))
        opened.append(assistant)
        return assistant

    yield build
    for assistant in opened:
        assistant.session.executor.close()


def trusted(sql: str) -> Guarded:
    """Test-authored SQL that reads settings (the guard would rightly refuse it)."""
    return Guarded(sqlglot.parse_one(sql, read="duckdb"), sql, ())


def test_every_limit_is_a_documented_setting() -> None:
    fields = Settings.model_fields
    for name in LIMITS:
        assert name in fields and fields[name].description, name


# --- query_timeout_ms ----------------------------------------------------------------------


def test_expensive_query_is_stopped_and_the_setting_named(make: Any) -> None:
    assistant = make(query_timeout_ms=300)
    request = Request(CARTESIAN, as_of=AS_OF, account=HOME)
    answer = answer_sql(assistant.session, CARTESIAN, request)  # never ends by itself
    assert answer.status == "error"
    assert answer.error is not None and "query_timeout_ms" in answer.error
    assert "300 ms" in answer.error
    executor = assistant.session.executor
    assert isinstance(executor, DuckDBWarehouse)
    eventually(lambda: stragglers(executor.executor) == 0, "the stopped query ends")


def test_timed_out_question_names_the_setting_then_the_next_works(make: Any) -> None:
    # from the facts: a rollup can answer within the 1 ms limit, which would prove nothing
    assistant = make(query_timeout_ms=10_000, rollups=False)
    first = assistant.ask(Request("MRR by plan", as_of=AS_OF, account=HOME))
    assert first.status == "answered"
    assistant.settings.query_timeout_ms = 1  # the executor reads the live setting per query
    stopped = assistant.ask(Request("MRR by plan", as_of=AS_OF, account=HOME))
    assert stopped.status == "error", stopped.headline
    assert stopped.error is not None and "query_timeout_ms" in stopped.error
    assistant.settings.query_timeout_ms = 10_000
    again = assistant.ask(Request("MRR by plan", as_of=AS_OF, account=HOME))
    assert again.status == "answered"
    assert again.rows == first.rows


# --- memory_limit and threads ----------------------------------------------------------------


def _setting(executor: Executor, name: str) -> str:
    return str(executor.run(trusted(f"SELECT current_setting('{name}')")).rows[0][0])


def _duckdb_renders(name: str, value: str) -> str:
    conn = duckdb.connect(config={name: value})
    try:
        return str(conn.execute(f"SELECT current_setting('{name}')").fetchone()[0])  # type: ignore[index]
    finally:
        conn.close()


def test_memory_and_thread_settings_are_applied(copy: Path) -> None:
    settings = Settings(warehouse_path=copy, memory_limit="96MB", threads=1)
    with Executor(copy, settings) as executor:
        assert _setting(executor, "memory_limit") == _duckdb_renders("memory_limit", "96MB")
        assert _setting(executor, "max_temp_directory_size") == _duckdb_renders(
            "max_temp_directory_size", "96MB"
        )
        assert _setting(executor, "threads") == "1"


def test_query_over_a_tiny_memory_limit_fails_clearly(copy: Path) -> None:
    settings = Settings(warehouse_path=copy, memory_limit="48MB", query_timeout_ms=20_000)
    policy = Policy(HOME, warehouse_tables(), 100)
    with Executor(copy, settings) as executor:
        with pytest.raises(ExecutionError) as caught:
            executor.run(check_sql(HUNGRY, policy))
        assert "memory_limit" in str(caught.value) and "48MB" in str(caught.value)
        assert executor.run(check_sql("SELECT count(*) FROM disputes", policy)).rows == ((48,),)


def test_memory_error_reaches_the_answer(make: Any) -> None:
    assistant = make(memory_limit="48MB", query_timeout_ms=20_000)
    answer = answer_sql(assistant.session, HUNGRY, Request(HUNGRY, as_of=AS_OF, account=HOME))
    assert answer.status == "error"
    assert answer.error is not None and "`memory_limit`" in answer.error


# --- max_rows --------------------------------------------------------------------------------


def test_row_cap_is_honest_in_the_answer(make: Any) -> None:
    assistant = make(max_rows=10)
    capped = assistant.ask(Request("show charges with description", as_of=AS_OF, account=HOME))
    assert capped.status == "answered"
    assert (len(capped.rows), capped.truncated) == (10, True)
    assert any("Showing 10 rows of more" in n and "`max_rows`" in n for n in capped.notices)
    small = assistant.ask(
        Request("top 5 customers by revenue this year", as_of=AS_OF, account=HOME)
    )
    assert (len(small.rows), small.truncated) == (5, False)
    assert not any("max_rows" in n for n in small.notices)


def test_row_cap_applies_to_raw_sql(make: Any) -> None:
    assistant = make(max_rows=7)
    answer = answer_sql(
        assistant.session,
        "SELECT id FROM charges",
        Request("SELECT id FROM charges", as_of=AS_OF, account=HOME),
    )
    assert (len(answer.rows), answer.truncated) == (7, True)
    assert any("`max_rows`" in n for n in answer.notices)
    exact = answer_sql(
        assistant.session,
        "SELECT id FROM charges LIMIT 7",
        Request("SELECT id FROM charges LIMIT 7", as_of=AS_OF, account=HOME),
    )
    assert (len(exact.rows), exact.truncated) == (7, False)


# --- max_question_chars ----------------------------------------------------------------------


def test_question_length_limit(make: Any) -> None:
    assistant = make(max_question_chars=40)
    at_limit = "gross volume last month".ljust(40, "?")
    assert len(at_limit) == 40
    assert assistant.ask(Request(at_limit, as_of=AS_OF, account=HOME)).status == "answered"
    over = assistant.ask(Request(at_limit + "?", as_of=AS_OF, account=HOME))
    assert over.status == "refused"
    assert over.refusal is not None and over.refusal.reason_class == "too_long"
    assert "max_question_chars" in over.headline and "40" in over.headline


# --- max_conversation_turns ------------------------------------------------------------------


def test_conversation_keeps_the_latest_turns(make: Any) -> None:
    assistant = make(max_conversation_turns=3)
    router = Router(assistant.settings, assistant, engine_only=True)  # the conversation's owner
    conversation = Conversation()
    questions = [
        "gross volume last month",
        "refunds last month",
        "MRR by plan",
        "and by currency?",
        "net revenue this year",
    ]
    for question in questions:
        router.ask(Request(question, as_of=AS_OF, account=HOME, conversation=conversation))
    assert [a.question for a in conversation.answers] == questions[-3:]
    assert conversation.previous is not None  # follow-ups still edit the last plan
    follow = router.ask(
        Request("and last year?", as_of=AS_OF, account=HOME, conversation=conversation)
    )
    assert follow.status == "answered"
    assert len(conversation.answers) == 3 and conversation.answers[-1] is follow
