"""Faults the assistant must survive: a missing, damaged or locked warehouse, interrupted and stuck
queries, and many threads at once. Each ends in a clear message or a correct answer, never a crash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from app.core.errors import AssistantError, ExecutionError, QueryTimeout, WarehouseMissing
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.rawsql import answer_sql
from app.run.duckdb import DuckDBWarehouse, Executor
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Guarded, Policy, check_sql
from tests.held_statements import Hold, eventually, stragglers

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"
BIN = Path(sys.executable).parent
CARTESIAN = "SELECT count(*) FROM charges a, charges b, charges c"  # never ends on demo
STUCK = "SELECT 'held by the test' AS stuck"  # see tests/held_statements.py
ROOMY_MS = 120_000  # for the queries that must answer: a busy host is no reason to fail them

Record = Callable[[str, object], None]


@pytest.fixture
def copy(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture
def writer(copy: Path) -> Iterator[Path]:
    """Another process holding a read-write DuckDB connection (and so the file lock)."""
    code = (
        "import duckdb, sys; conn = duckdb.connect(sys.argv[1]); "
        "print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    yield copy
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    holder.stdout.close()


def trusted(sql: str) -> Guarded:
    """Test-authored SQL the guard would refuse (no tenant filter), run as is."""
    return Guarded(sqlglot.parse_one(sql, read="duckdb"), sql, ())


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere" / "demo.duckdb"


def _garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.duckdb"
    path.write_bytes(os.urandom(64 * 1024))
    return path


def _truncated(tmp_path: Path, demo_path: Path) -> Path:
    path = tmp_path / "truncated.duckdb"
    path.write_bytes(demo_path.read_bytes()[:3_000_000])
    return path


def _broken(kind: str, tmp_path: Path, demo_path: Path) -> Path:
    if kind == "missing":
        return _missing(tmp_path)
    if kind == "garbage":
        return _garbage(tmp_path)
    return _truncated(tmp_path, demo_path)


BROKEN = {
    "missing": (WarehouseMissing, "ledgerlens data build"),
    "garbage": (ExecutionError, "not a readable DuckDB database"),
    "truncated": (ExecutionError, "not a readable DuckDB database"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_warehouse_is_a_clear_error(
    kind: str, tmp_path: Path, demo_path: Path, record_property: Record
) -> None:
    path = _broken(kind, tmp_path, demo_path)
    error, words = BROKEN[kind]
    with pytest.raises(error) as caught:
        Assistant(Settings(warehouse_path=path))
    assert words in str(caught.value) and str(path) in str(caught.value)
    record_property("fault", f"warehouse_{kind}")


def test_locked_warehouse_is_a_clear_error(writer: Path, record_property: Record) -> None:
    with pytest.raises(ExecutionError) as caught:
        Assistant(Settings(warehouse_path=writer))
    assert "locked by another process" in str(caught.value)
    assert "PID" in str(caught.value)
    record_property("fault", "warehouse_locked")


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGERLENS_", "OPENAI_"))}
    command = [str(BIN / "ledgerlens"), "ask", "gross volume last month", "--as-of"]
    return subprocess.run(
        [*command, "2025-12-31", "--warehouse", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("kind", [*sorted(BROKEN), "locked"])
def test_cli_reports_a_broken_warehouse(
    kind: str, tmp_path: Path, demo_path: Path, request: pytest.FixtureRequest
) -> None:
    path = request.getfixturevalue("writer") if kind == "locked" else None
    done = _cli(path or _broken(kind, tmp_path, demo_path))
    # No file at that path is the user's to fix (2); a damaged or locked file is a fault (1).
    assert done.returncode == (2 if kind == "missing" else 1), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    words = "locked by another process" if kind == "locked" else BROKEN[kind][1]
    assert words in done.stderr


# --- interrupted and stuck queries ---------------------------------------------------------


def test_next_question_works_after_a_timeout(copy: Path, record_property: Record) -> None:
    assistant = Assistant(Settings(warehouse_path=copy, query_timeout_ms=ROOMY_MS))
    try:
        before = assistant.ask(Request("refunds by customer this year", as_of=AS_OF, account=HOME))
        assistant.settings.query_timeout_ms = 300  # the executor reads the live setting per query
        stopped = answer_sql(
            assistant.session, CARTESIAN, Request(CARTESIAN, as_of=AS_OF, account=HOME)
        )
        assistant.settings.query_timeout_ms = ROOMY_MS
        assert stopped.status == "error" and "query_timeout_ms" in (stopped.error or "")
        after = assistant.ask(Request("refunds by customer this year", as_of=AS_OF, account=HOME))
        assert after.status == before.status == "answered"
        assert after.rows == before.rows
        executor = assistant.session.executor
        assert isinstance(executor, DuckDBWarehouse)
        eventually(lambda: stragglers(executor.executor) == 0, "the stopped query ends")
    finally:
        assistant.session.executor.close()
    record_property("fault", "interrupted_query")


def test_a_query_stuck_past_the_interrupt_is_left_behind(
    copy: Path, record_property: Record
) -> None:
    """Statements held deaf to interrupts (a test double, see tests/held_statements.py): each is
    answered with the timeout while it is still running and counted as a straggler; while
    `threads` of them run, new queries are refused; each one that ends frees its place."""
    settings = Settings(warehouse_path=copy, threads=2)
    quick = check_sql("SELECT count(*) FROM disputes", Policy(HOME, warehouse_tables(), 10))
    with Executor(copy, settings) as executor:
        hold = Hold(executor, STUCK, "deaf")
        try:
            for n in (1, 2):
                with pytest.raises(QueryTimeout, match=r"200 ms .*`query_timeout_ms`"):
                    executor.run(trusted(STUCK), timeout_ms=200)
                held = hold.statements[-1]
                assert held.interrupts >= 1 and not held.ended.is_set()  # answered, not stuck
                assert stragglers(executor) == n
                if n == 1:  # one straggler of `threads`: still serving
                    assert executor.run(quick, timeout_ms=ROOMY_MS).rows == ((48,),)
            with pytest.raises(ExecutionError, match="still finishing"):
                executor.run(quick, timeout_ms=ROOMY_MS)  # `threads` stragglers: no pile-up
            sent = held.interrupts
            eventually(lambda: held.interrupts > sent, "a straggler is interrupted again")
            hold.release(0)
            eventually(lambda: stragglers(executor) == 1, "the first straggler is counted out")
            assert executor.run(quick, timeout_ms=ROOMY_MS).rows == ((48,),)
            hold.release(1)
            eventually(lambda: stragglers(executor) == 0, "the second straggler is counted out")
            assert all(h.ended.is_set() and h.error is None for h in hold.statements)
        finally:
            hold.end_all()
    record_property("fault", "stuck_query")


def test_an_interrupt_sent_before_the_query_starts_is_sent_again(
    copy: Path, record_property: Record
) -> None:
    """DuckDB drops an interrupt that arrives before the statement has started (on a busy host
    the worker thread may not have been scheduled when the time limit runs out); the executor
    interrupts again until the statement ends, so it never runs on unbounded."""
    settings = Settings(warehouse_path=copy, threads=1)
    with Executor(copy, settings) as executor:
        hold = Hold(executor, CARTESIAN, "late")
        try:
            with pytest.raises(QueryTimeout, match="query_timeout_ms"):
                executor.run(trusted(CARTESIAN), timeout_ms=200)
            eventually(lambda: bool(hold.statements), "the statement starts")
            [held] = hold.statements
            eventually(held.ended.is_set, "the statement ends")
            assert isinstance(held.error, duckdb.InterruptException), held.error
            eventually(lambda: stragglers(executor) == 0, "no straggler is left")
        finally:
            hold.end_all()
    record_property("fault", "interrupt_before_start")


def test_closing_waits_for_a_query_left_running(copy: Path, record_property: Record) -> None:
    """DuckDB refuses to close a connection while one of its cursors runs: `close` interrupts the
    query left running until it ends, then closes."""
    with Executor(copy, Settings(warehouse_path=copy, threads=1)) as executor:
        hold = Hold(executor, CARTESIAN, "busy")
        try:
            with pytest.raises(QueryTimeout, match="query_timeout_ms"):
                executor.run(trusted(CARTESIAN), timeout_ms=200)
            assert stragglers(executor) == 1
            [held] = hold.statements
            closing = ThreadPoolExecutor(max_workers=1)
            closed = closing.submit(executor.close)
            sent = held.interrupts
            eventually(lambda: held.interrupts > sent + 1, "the straggler is interrupted again")
            assert not closed.done() and not held.ended.is_set()  # still running: not closed
            hold.release(0)  # now it hears the interrupts
            closed.result()  # closed without an error, once the straggler has ended
            closing.shutdown()
            assert held.ended.is_set() and isinstance(held.error, duckdb.InterruptException)
            with pytest.raises(ExecutionError, match="not usable"):
                executor.run(trusted("SELECT 1"))
        finally:
            hold.end_all()
    record_property("fault", "close_with_a_straggler")


# --- concurrency ---------------------------------------------------------------------------

QUESTIONS = (
    ("MRR by plan", "acct_demo_01"),
    ("gross volume last month", "acct_demo_02"),
    ("top 5 customers by revenue this year", "acct_demo_03"),
    ("refund rate by month last year", "acct_demo_01"),
    ("tax collected by country this year", "acct_demo_02"),
    ("show charges with description", "acct_demo_03"),
    ("show acct_demo_02's revenue", "acct_demo_01"),
    ("net revenue this quarter vs last quarter", "acct_demo_01"),
)


def _comparable(answer: Any) -> dict[str, Any]:
    data: dict[str, Any] = answer.model_dump(exclude={"timings"})
    return data


def test_32_concurrent_questions_match_sequential_answers(
    copy: Path, record_property: Record
) -> None:
    jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(32)]
    # Empty caches: the threads race to fill them. 32 questions share the cores: no time limit
    # is what is tested here, so it is roomy.
    cold = Assistant(Settings(warehouse_path=copy, query_timeout_ms=ROOMY_MS))
    try:
        barrier = threading.Barrier(len(jobs))

        def ask(job: tuple[str, str]) -> dict[str, Any]:
            barrier.wait(timeout=60)
            return _comparable(cold.ask(Request(job[0], as_of=AS_OF, account=job[1])))

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            together = list(pool.map(ask, jobs))
    finally:
        cold.session.close()
    alone = Assistant(Settings(warehouse_path=copy, query_timeout_ms=ROOMY_MS))
    try:
        one_by_one = [_comparable(alone.ask(Request(q, as_of=AS_OF, account=a))) for q, a in jobs]
    finally:
        alone.session.close()
    assert {a["status"] for a in together} >= {"answered", "refused"}
    for got, want in zip(together, one_by_one, strict=True):
        assert got == want, (got["question"], got["account"])
    record_property("fault", "concurrent_asks")


def test_errors_are_assistant_errors() -> None:
    """The faults above surface as the one root type the CLI and UI catch."""
    assert issubclass(WarehouseMissing, AssistantError)
    assert issubclass(ExecutionError, AssistantError) and issubclass(QueryTimeout, AssistantError)
