"""Run guarded SQL on a read-only, locked-down DuckDB connection with a time limit and a row cap.

The warehouse is opened once, read-only, with file and network access, extension auto-install and
auto-load, and Python replacement scans switched off, then the configuration is locked, so even
SQL that skipped the guard cannot `SET` its way back, read files, `COPY`, `ATTACH` or `INSTALL`.
Each run gets its own cursor (DuckDB's rule for several Python threads) and runs in a worker
thread; when the `query_timeout_ms` setting runs out the cursor is interrupted, again and again
until the statement ends: DuckDB drops an interrupt that arrives before the statement has started
(a worker thread not yet scheduled on a busy host) and sees one only between vectors. A statement
stuck inside one long call gets half a second more, then the caller is answered with the timeout
anyway and the call finishes alone, still interrupted until it notices; while `threads` such
stragglers are still running, new queries are refused (the host is not piled on), and `close`
waits for them (DuckDB refuses to close a connection while one of its cursors runs).
Spilling to disk beside the warehouse is capped at `memory_limit`. Rows are fetched at cap + 1
so `truncated` is known, not guessed. DECIMAL values stay `Decimal` (exact money); a value Python
cannot hold (an interval of 10⁸ years) is an `ExecutionError`, not a crash.

Hot pick-up: before each query the executor compares the warehouse file's identity (device, inode,
size, mtime) with the one it opened; when `ledgerlens data import` has swapped a new file in (an
`os.replace`), it opens the new file and bumps `generation` (the session drops its cached lookups
on that). It does so when no query is running (DuckDB keeps one database per path in a process,
so the old connection is closed first); until then queries keep answering from the old file.

Timestamps: the warehouse stores naive UTC `TIMESTAMP`s. A `TIMESTAMP WITH TIME ZONE` result
(e.g. from `AT TIME ZONE`) needs `pytz` to become Python values; when it is missing the
run fails with an `ExecutionError` asking for a cast to `TIMESTAMP`, so compiled SQL should return
local times as plain `TIMESTAMP`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from app.core.errors import ExecutionError, QueryTimeout, WarehouseMissing
from app.core.settings import Settings
from app.run.warehouse import Result, Warehouse, freshness_query, latest
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Guarded


def connection_config(settings: Settings) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB configuration for the shared read-only connection, locked last."""
    return {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "memory_limit": settings.memory_limit,
        "max_temp_directory_size": settings.memory_limit,  # spill beside the file, bounded
        "threads": settings.threads,
        "lock_configuration": True,
    }


_GRACE_S = 0.5  # how long an interrupted query may take to notice before the caller moves on
_NUDGE_S = 0.05  # how often the interrupt is sent again: DuckDB drops one sent before the start


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """What tells one warehouse file from the next one swapped in at the same path."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _interrupt(cursor: duckdb.DuckDBPyConnection) -> None:
    # The cursor may have finished and closed in the meantime.
    with contextlib.suppress(duckdb.Error):
        cursor.interrupt()


def _timeout(timeout_ms: int) -> QueryTimeout:
    return QueryTimeout(
        f"The query ran longer than {timeout_ms} ms and was stopped; the time limit is "
        "controlled by the `query_timeout_ms` setting."
    )


def _open_failure(path: Path, err: duckdb.Error) -> str:
    """Say why the warehouse would not open, and what to do about it."""
    text = str(err)
    if "Could not set lock" in text:
        holder = text.split("Conflicting lock is held in", 1)[-1].split(". See", 1)[0].strip()
        return (
            f"The warehouse {path} is locked by another process that has it open for writing "
            f"({holder}); Ledgerlens reads it once that process closes it."
        )
    if "not a valid DuckDB database" in text or "Could not read enough bytes" in text:
        return (
            f"The warehouse {path} is not a readable DuckDB database (damaged or not a "
            "warehouse); rebuild it with `ledgerlens data build` or point the `warehouse_path` "
            f"setting at another file. ({text})"
        )
    return f"Could not open the warehouse {path}: {text}"


class _Run:
    """One statement executing on its own cursor in a worker thread."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, sql: str, limit: int) -> None:
        self.cursor, self.sql, self.limit = cursor, sql, limit
        self.description: list[Any] = []
        self.rows: list[Any] = []
        self.error: Exception | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)

    def _work(self) -> None:
        try:
            self.cursor.execute(self.sql)
            self.description = list(self.cursor.description or [])
            self.rows = self.cursor.fetchmany(self.limit + 1)
        except Exception as err:  # handed to the caller's thread, which decides
            self.error = err
        finally:
            with contextlib.suppress(duckdb.Error):
                self.cursor.close()
            self.done.set()

    def stop(self, seconds: float | None) -> bool:
        """Interrupt until the statement ends (True) or `seconds` pass (False; None: no limit)."""
        rounds = itertools.count() if seconds is None else range(max(1, round(seconds / _NUDGE_S)))
        for _ in rounds:
            _interrupt(self.cursor)
            if self.done.wait(_NUDGE_S):
                return True
        return False


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
        self._stragglers: set[_Run] = set()  # timed out, still running: interrupted until they end
        self._runs: set[_Run] = set()  # started and maybe still running
        self._generation = 0  # bumped each time a new file at the same path is opened
        self._identity: tuple[int, int, int, int] | None = _identity(path)
        try:
            self._conn = duckdb.connect(
                str(path), read_only=True, config=connection_config(settings)
            )
        except duckdb.Error as err:
            raise ExecutionError(_open_failure(path, err)) from err

    @property
    def generation(self) -> int:
        """How many newly imported files at the same path were opened (checks the file now)."""
        with self._lock:
            self._follow_file()
            return self._generation

    def _follow_file(self) -> None:
        """Open the file now at the path if an import replaced it (caller holds the lock).

        Only when no query is running: DuckDB keeps one database per path in a process, so the
        old connection must be closed before the path opens the new file.
        """
        self._runs = {r for r in self._runs if not r.done.is_set()}
        now = _identity(self.path)
        if now is None or now == self._identity or self._runs:
            return
        self._conn.close()
        self._identity = now
        self._generation += 1
        try:
            self._conn = duckdb.connect(
                str(self.path), read_only=True, config=connection_config(self.settings)
            )
        except duckdb.Error as err:
            self._identity = None  # the next query tries again
            raise ExecutionError(_open_failure(self.path, err)) from err

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
        with self._lock:
            if len(self._stragglers) >= self.settings.threads:
                raise ExecutionError(
                    "The warehouse is still finishing queries stopped by the `query_timeout_ms` "
                    "setting; try again in a moment."
                )
            self._follow_file()
            try:
                cursor = self._conn.cursor()
            except duckdb.Error as err:
                raise ExecutionError(f"The warehouse connection is not usable: {err}") from err
            run = _Run(cursor, guarded.sql, limit)
            self._runs.add(run)
        started = time.perf_counter()
        try:
            run.thread.start()
        except RuntimeError as err:  # no thread left (the host is out of resources)
            cursor.close()
            run.done.set()
            raise ExecutionError(f"The query could not be started: {err}") from err
        if not run.done.wait(timeout / 1000):
            if not run.stop(_GRACE_S):
                self._abandon(run)  # stuck inside one call: answer now, let it finish alone
            raise _timeout(timeout)  # over the limit, even if it ended after the interrupt
        if isinstance(run.error, duckdb.InterruptException):
            raise _timeout(timeout) from run.error
        if isinstance(run.error, duckdb.OutOfMemoryException):
            raise ExecutionError(
                f"{str(run.error).splitlines()[0]} The memory limit ({self.settings.memory_limit}) "
                "is controlled by the `memory_limit` setting."
            ) from run.error
        if isinstance(run.error, duckdb.Error):
            message = str(run.error)
            if "pytz" in message:
                message += " (cast TIMESTAMP WITH TIME ZONE columns to TIMESTAMP)"
            raise ExecutionError(message) from run.error
        if isinstance(run.error, OverflowError | ValueError | TypeError):
            raise ExecutionError(
                f"A result value cannot be represented in Python: {run.error}"
            ) from run.error
        if run.error is not None:
            raise run.error
        elapsed_ms = (time.perf_counter() - started) * 1000
        return Result(
            columns=tuple(str(d[0]) for d in run.description),
            types=tuple(str(d[1]) for d in run.description),
            rows=tuple(tuple(row) for row in run.rows[:limit]),
            truncated=len(run.rows) > limit,
            elapsed_ms=elapsed_ms,
        )

    def _abandon(self, run: _Run) -> None:
        """Count a query that ignored the interrupt, interrupting it again until its thread ends."""
        with self._lock:
            self._stragglers.add(run)

        def settle() -> None:
            run.stop(None)
            with self._lock:
                self._stragglers.discard(run)

        threading.Thread(target=settle, daemon=True).start()

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        return latest(self.run(freshness_query(account), max_rows=1))

    def close(self) -> None:
        """Close the shared connection once the queries left running have ended."""
        with self._lock:
            left = list(self._stragglers)
        for run in left:  # DuckDB refuses to close a connection while one of its cursors runs
            run.stop(None)
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


class DuckDBWarehouse:
    """The embedded default: the read-only, locked-down DuckDB executor."""

    dialect = "duckdb"

    def __init__(self, executor: Executor) -> None:
        """Wrap an open executor."""
        self.executor = executor

    def run(
        self, guarded: Guarded, *, max_rows: int | None = None, timeout_ms: int | None = None
    ) -> Result:
        """Run the guarded DuckDB SQL as is."""
        return self.executor.run(guarded, max_rows=max_rows, timeout_ms=timeout_ms)

    @property
    def generation(self) -> int:
        """How many times a newly imported file at the same path has been opened."""
        return self.executor.generation

    def tables(self) -> frozenset[str]:
        """The DDL's tables and views, which every warehouse built by `data build` holds."""
        return warehouse_tables()

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        return latest(self.run(freshness_query(account), max_rows=1))

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.executor.close()


def open_duckdb_warehouse(settings: Settings) -> Warehouse:
    """The embedded default: DuckDB over the `warehouse_path` file."""
    return DuckDBWarehouse(open_executor(settings))
