"""Run guarded SQL on a read-only, locked-down DuckDB connection with a time limit and a row cap.

The warehouse is opened once, read-only, with file and network access, extension auto-install and
auto-load, and Python replacement scans switched off, then the configuration is locked, so even
SQL that skipped the guard cannot `SET` its way back, read files, `COPY`, `ATTACH` or `INSTALL`.
Each run gets its own cursor (DuckDB's rule for several Python threads); a `threading.Timer`
interrupts the cursor when the `query_timeout_ms` setting runs out. Rows are fetched at cap + 1
so `truncated` is known, not guessed. DECIMAL values stay `Decimal` (exact money).

Timestamps: the warehouse stores naive UTC `TIMESTAMP`s. A `TIMESTAMP WITH TIME ZONE` result
(e.g. from `AT TIME ZONE`) needs `pytz` to become Python values; when it is missing the
run fails with an `ExecutionError` asking for a cast to `TIMESTAMP`, so compiled SQL should return
local times as plain `TIMESTAMP`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
from sqlglot import exp

from app.errors import ExecutionError, QueryTimeout, WarehouseMissing
from app.guard import Guarded, Policy, check_sql, warehouse_tables
from app.settings import Settings


def connection_config(settings: Settings) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB configuration for the shared read-only connection, locked last."""
    return {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "memory_limit": settings.memory_limit,
        "threads": settings.threads,
        "lock_configuration": True,
    }


def _interrupt(cursor: duckdb.DuckDBPyConnection) -> None:
    # Runs on the timer thread; the cursor may have finished and closed in the meantime.
    with contextlib.suppress(duckdb.Error):
        cursor.interrupt()


@dataclass(frozen=True)
class Result:
    """Rows of one query, capped at max_rows, with their DuckDB column types."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    elapsed_ms: float


class Executor:
    """Runs `Guarded` statements on one shared read-only DuckDB connection."""

    def __init__(self, path: Path, settings: Settings) -> None:
        """Open the warehouse read-only; raise WarehouseMissing if the file does not exist."""
        if not path.is_file():
            raise WarehouseMissing(
                f"No warehouse at {path}; build it with `ledgerlens data build` "
                "or point the `warehouse_path` setting at one."
            )
        self.path = path
        self.settings = settings
        self._lock = threading.Lock()
        try:
            self._conn = duckdb.connect(
                str(path), read_only=True, config=connection_config(settings)
            )
        except duckdb.Error as err:
            raise ExecutionError(f"Could not open the warehouse {path}: {err}") from err

    def run(
        self, guarded: Guarded, *, max_rows: int | None = None, timeout_ms: int | None = None
    ) -> Result:
        """Run a guarded statement and return at most max_rows rows."""
        if not isinstance(guarded, Guarded):
            raise TypeError("Executor.run takes a Guarded; pass SQL through guard.check_sql first")
        limit = self.settings.max_rows if max_rows is None else max_rows
        if guarded.max_rows is not None:
            limit = min(limit, guarded.max_rows)  # the guard already cut at its cap + 1
        timeout = self.settings.query_timeout_ms if timeout_ms is None else timeout_ms
        try:
            with self._lock:
                cursor = self._conn.cursor()
        except duckdb.Error as err:
            raise ExecutionError(f"The warehouse connection is not usable: {err}") from err
        timer = threading.Timer(timeout / 1000, _interrupt, args=(cursor,))
        timer.daemon = True
        started = time.perf_counter()
        try:
            timer.start()
            cursor.execute(guarded.sql)
            description = cursor.description or []
            rows = cursor.fetchmany(limit + 1)
        except duckdb.InterruptException as err:
            raise QueryTimeout(
                f"The query ran longer than {timeout} ms and was stopped; the time limit is "
                "controlled by the `query_timeout_ms` setting."
            ) from err
        except duckdb.Error as err:
            message = str(err)
            if "pytz" in message:
                message += " (cast TIMESTAMP WITH TIME ZONE columns to TIMESTAMP)"
            raise ExecutionError(message) from err
        finally:
            timer.cancel()
            cursor.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        return Result(
            columns=tuple(str(d[0]) for d in description),
            types=tuple(str(d[1]) for d in description),
            rows=tuple(tuple(row) for row in rows[:limit]),
            truncated=len(rows) > limit,
            elapsed_ms=elapsed_ms,
        )

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        query = exp.select(exp.Max(this=exp.column("created"))).from_("balance_transactions")
        guarded = check_sql(query, Policy(account=account, tables=warehouse_tables(), max_rows=1))
        result = self.run(guarded, max_rows=1)
        value = result.rows[0][0] if result.rows else None
        return value if isinstance(value, datetime) else None

    def close(self) -> None:
        """Close the shared connection."""
        self._conn.close()

    def __enter__(self) -> Executor:
        """Use the executor as a context manager that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection on leaving the block."""
        self.close()


def open_executor(settings: Settings) -> Executor:
    """Open the warehouse named by the `warehouse_path` setting."""
    return Executor(settings.warehouse_path, settings)
