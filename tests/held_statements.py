"""A test double around the executor's DuckDB connection, and a wait on the executor's state.

`Hold` wraps an open `Executor`'s connection so that one statement (by its SQL) misbehaves in
one of three ways:

* `deaf`: it stops inside `execute`, ignoring every interrupt, until the test releases it, then
  runs on DuckDB (a statement stuck inside one long DuckDB call, at no CPU cost);
* `busy`: it runs on DuckDB at once, but its interrupts are swallowed until the test releases it
  (the same, with DuckDB really busy, e.g. so that it refuses to close the connection);
* `late`: it starts on DuckDB only after the executor has sent its first interrupt (a worker
  thread the host did not schedule before the time limit ran out), so that interrupt reaches
  DuckDB before the statement has started.

Every other statement, and every cursor call but `execute` and `interrupt`, goes to DuckDB as is.
The tests then check the executor's own logic, whatever DuckDB's interrupt latency and the
machine's speed: they wait on events and on the straggler count, never on the clock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import duckdb

from app.run.duckdb import Executor

Mode = Literal["deaf", "busy", "late"]
HANG_GUARD_S = 120.0  # only ends a wait that would otherwise hang the suite; not a speed limit


class HeldCursor:
    """One run's cursor: holds the statement `Hold` names, passes everything else through."""

    def __init__(self, hold: Hold, cursor: duckdb.DuckDBPyConnection) -> None:
        self._hold, self._cursor = hold, cursor
        self.held = False
        self.interrupts = 0
        self.interrupted = threading.Event()  # at least one interrupt was sent
        self.released = threading.Event()  # the test let a deaf or busy statement go
        self.ended = threading.Event()  # `execute` returned or raised
        self.error: BaseException | None = None

    def execute(self, sql: str) -> Any:
        """Run `sql`, holding it first when it is the held statement."""
        if sql != self._hold.sql:
            return self._cursor.execute(sql)
        self.held = True
        self._hold.add(self)
        try:
            if self._hold.mode == "deaf":
                self.released.wait()
            elif self._hold.mode == "late":
                self.interrupted.wait()
            return self._cursor.execute(sql)
        except BaseException as err:
            self.error = err
            raise
        finally:
            self.ended.set()

    def interrupt(self) -> None:
        """Count the interrupt and pass it to DuckDB, unless the held statement is deaf to it."""
        self.interrupts += 1
        mode = self._hold.mode
        deaf = self.held and (mode == "deaf" or (mode == "busy" and not self.released.is_set()))
        try:
            if not deaf:
                self._cursor.interrupt()  # a late statement's first one: before it has started
        finally:
            self.interrupted.set()

    def stop(self) -> bool:
        """Teardown: release the statement, interrupt it on DuckDB; True once it has ended."""
        self.released.set()
        self.interrupted.set()
        with contextlib.suppress(duckdb.Error):
            self._cursor.interrupt()
        return self.ended.wait(0.05)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _Connection:
    """The executor's shared connection, handing out `HeldCursor`s."""

    def __init__(self, hold: Hold, conn: duckdb.DuckDBPyConnection) -> None:
        self._hold, self._conn = hold, conn

    def cursor(self) -> HeldCursor:
        return HeldCursor(self._hold, self._conn.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class Hold:
    """Hold one statement (by its SQL) on an open executor; see the module docstring."""

    def __init__(self, executor: Executor, sql: str, mode: Mode) -> None:
        self.sql, self.mode = sql, mode
        self._lock = threading.Lock()
        self._held: list[HeldCursor] = []
        executor._conn = _Connection(self, executor._conn)  # type: ignore[assignment]

    def add(self, cursor: HeldCursor) -> None:
        with self._lock:
            self._held.append(cursor)

    @property
    def statements(self) -> list[HeldCursor]:
        """The held statements so far, oldest first."""
        with self._lock:
            return list(self._held)

    def release(self, index: int) -> None:
        """Let the deaf or busy statement at `index` go (a busy one then hears interrupts)."""
        self.statements[index].released.set()

    def end_all(self) -> None:
        """Teardown: end every held statement, whatever the test left behind."""
        for held in self.statements:
            eventually(held.stop, "a held statement ends")


def stragglers(executor: Executor) -> int:
    """Statements the executor answered with a timeout that are still running."""
    return len(executor._stragglers)


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds; fail naming `what` if the suite would otherwise hang."""
    give_up = time.monotonic() + HANG_GUARD_S
    while not check():
        if time.monotonic() > give_up:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)
