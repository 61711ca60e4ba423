"""Executor tests on a small multi-account warehouse: limits, honesty, lock-down, threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from app.core.errors import ExecutionError, QueryTimeout, WarehouseMissing
from app.core.settings import Settings
from app.run.duckdb import Executor, connection_config, open_executor
from app.run.warehouse import Result
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Guarded, Policy, check_sql
from tests.held_statements import eventually, stragglers
from tests.test_guard import build_test_warehouse

BIG_ROWS = 3000
BIG_SEED = f"""
INSERT INTO charges (merchant_id, id, amount, currency, status, created)
SELECT 'acct_big', 'ch_big_' || i, i, 'usd', 'succeeded',
    TIMESTAMP '2025-01-01' + INTERVAL (i) MINUTE
FROM range({BIG_ROWS}) AS t(i);
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("executor") / "warehouse.duckdb"
    build_test_warehouse(path)
    conn = duckdb.connect(str(path))
    conn.execute(BIG_SEED)
    conn.close()
    return path


@pytest.fixture(scope="module")
def settings(warehouse: Path) -> Settings:
    return Settings(
        warehouse_path=warehouse, max_rows=50, query_timeout_ms=10_000, memory_limit="512MB"
    )


@pytest.fixture(scope="module")
def executor(settings: Settings) -> Iterator[Executor]:
    with open_executor(settings) as ex:
        yield ex


def guarded(sql: str, account: str | None = "acct_a", max_rows: int = 50) -> Guarded:
    return check_sql(sql, Policy(account, warehouse_tables(), max_rows))


def raw(sql: str) -> Guarded:
    """A Guarded that skipped the guard: proves the connection itself refuses."""
    return Guarded(exp.Command(this="RAW", expression=exp.Literal.string(sql)), sql, ())


# --- opening -------------------------------------------------------------------------------


def test_missing_warehouse_is_reported(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(WarehouseMissing, match="ledgerlens data build"):
        Executor(tmp_path / "missing.duckdb", settings)


def test_run_accepts_only_guarded(executor: Executor) -> None:
    with pytest.raises(TypeError, match="check_sql"):
        executor.run("SELECT 1")  # type: ignore[arg-type]


def test_connection_config_names() -> None:
    config = connection_config(Settings(memory_limit="1GB", threads=3))
    assert config == {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "memory_limit": "1GB",
        "max_temp_directory_size": "1GB",
        "threads": 3,
        "lock_configuration": True,
    }


def test_settings_are_applied_and_locked(executor: Executor) -> None:
    sql = (
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
        "'lock_configuration', 'threads', 'access_mode', 'python_enable_replacements', "
        "'autoload_known_extensions', 'autoinstall_known_extensions')"
    )
    values = dict(executor.run(raw(sql)).rows)
    assert values == {
        "access_mode": "read_only",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "enable_external_access": "false",
        "lock_configuration": "true",
        "python_enable_replacements": "false",
        "threads": "2",
    }


# --- lock-down, even if the guard were bypassed ------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET memory_limit",
        "SET threads = 64",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/*')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE leak AS SELECT * FROM charges",
        "UPDATE charges SET amount = 0",
        "DROP TABLE charges",
    ],
)
def test_connection_refuses_escape_hatches(executor: Executor, sql: str) -> None:
    with pytest.raises(ExecutionError):
        executor.run(raw(sql))


def test_copy_to_file_is_refused(executor: Executor, tmp_path: Path) -> None:
    target = tmp_path / "leak.csv"
    with pytest.raises(ExecutionError, match="disabled by configuration"):
        executor.run(raw(f"COPY charges TO '{target}'"))
    assert not target.exists()


def test_attach_is_refused(executor: Executor, tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="disabled by configuration"):
        executor.run(raw(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other"))


def test_data_is_unchanged_after_attempts(executor: Executor) -> None:
    rows = executor.run(guarded("SELECT sum(amount) FROM charges", None)).rows
    assert rows == ((16800 + sum(range(BIG_ROWS)),),)


# --- results -------------------------------------------------------------------------------


def test_result_keeps_exact_decimals_and_type_names(executor: Executor) -> None:
    sql = (
        "SELECT id, amount, CAST(amount AS DECIMAL(18, 2)) * 0.01 AS major, "
        "CAST(created AS DATE) AS day FROM charges WHERE id = 'ch_a2'"
    )
    result = executor.run(guarded(sql))
    assert isinstance(result, Result)
    assert result.columns == ("id", "amount", "major", "day")
    assert result.types[0] == "VARCHAR" and result.types[1] == "BIGINT"
    assert result.types[2] == "DECIMAL(18,4)" and result.types[3] == "DATE"
    ((charge, amount, major, day),) = result.rows
    assert (charge, amount, major) == ("ch_a2", 2000, Decimal("20.0000"))
    assert isinstance(major, Decimal)
    assert str(day) == "2025-02-10"
    assert result.truncated is False and result.elapsed_ms > 0


def test_duckdb_errors_become_execution_errors(executor: Executor) -> None:
    with pytest.raises(ExecutionError) as caught:
        executor.run(guarded("SELECT no_such_column FROM charges"))
    assert "no_such_column" in str(caught.value)
    assert "Traceback" not in str(caught.value)


# --- truncation honesty --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "account", "rows", "truncated"),
    [
        ("SELECT id FROM charges", "acct_big", 50, True),
        ("SELECT id FROM charges LIMIT 50", "acct_big", 50, False),
        ("SELECT id FROM charges LIMIT 51", "acct_big", 50, True),
        ("SELECT id FROM charges LIMIT 100000", "acct_big", 50, True),
        ("SELECT id FROM charges", "acct_a", 3, False),
    ],
)
def test_truncated_is_honest(
    executor: Executor, sql: str, account: str, rows: int, truncated: bool
) -> None:
    result = executor.run(guarded(sql, account))
    assert (len(result.rows), result.truncated) == (rows, truncated)


def test_smaller_executor_cap_wins(executor: Executor) -> None:
    big = executor.run(guarded("SELECT id FROM charges", "acct_big"), max_rows=10)
    assert (len(big.rows), big.truncated) == (10, True)
    exact = executor.run(guarded("SELECT id FROM charges", "acct_a"), max_rows=3)
    assert (len(exact.rows), exact.truncated) == (3, False)


def test_guard_cap_is_respected_when_executor_cap_is_larger(executor: Executor) -> None:
    result = executor.run(guarded("SELECT id FROM charges", "acct_big", max_rows=20), max_rows=500)
    assert (len(result.rows), result.truncated) == (20, True)


def test_hand_built_guarded_is_capped_by_settings(executor: Executor) -> None:
    result = executor.run(raw("SELECT * FROM range(1000)"))
    assert (len(result.rows), result.truncated) == (50, True)


# --- time limit ----------------------------------------------------------------------------

SLOW = (
    "SELECT count(*) FROM charges a, charges b, charges c WHERE hash(a.id, b.id, c.id) % 1000 = 7"
)


def test_slow_query_is_interrupted(executor: Executor) -> None:
    with pytest.raises(QueryTimeout, match="query_timeout_ms"):
        executor.run(guarded(SLOW, "acct_big"), timeout_ms=200)  # 2.7e10 rows: never ends alone
    eventually(lambda: stragglers(executor) == 0, "the interrupted query ends")
    assert executor.run(guarded("SELECT count(*) FROM charges")).rows == ((3,),)


def test_timeout_setting_is_the_default(settings: Settings, warehouse: Path) -> None:
    quick = settings.model_copy(update={"query_timeout_ms": 150})
    with Executor(warehouse, quick) as ex, pytest.raises(QueryTimeout):
        ex.run(guarded(SLOW, "acct_big"))


# --- threads and freshness -----------------------------------------------------------------


def test_threads_share_one_connection(executor: Executor) -> None:
    accounts = ["acct_a", "acct_b", "acct_c", "acct_big"] * 4
    expected = {"acct_a": 3, "acct_b": 2, "acct_c": 1, "acct_big": BIG_ROWS}
    seen: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def work(account: str) -> None:
        try:
            result = executor.run(guarded("SELECT count(*) FROM charges", account))
            seen.append((account, result.rows[0][0]))
        except (ExecutionError, QueryTimeout) as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(account,)) for account in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(seen) == sorted((account, expected[account]) for account in accounts)


def test_freshness_is_per_account(executor: Executor) -> None:
    assert executor.freshness("acct_a") == datetime(2025, 2, 12, 10, 0)
    assert executor.freshness("acct_b") == datetime(2025, 3, 1, 16, 45)
    assert executor.freshness("acct_nobody") is None
    assert executor.freshness(None) == datetime(2025, 3, 1, 16, 45)


def test_closed_executor_reports_an_execution_error(settings: Settings) -> None:
    ex = open_executor(settings)
    ex.close()
    with pytest.raises(ExecutionError, match="not usable"):
        ex.run(guarded("SELECT 1"))
