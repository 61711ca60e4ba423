"""The warehouse port: run a guarded statement under limits, on whichever engine holds the data.

The guard always runs first, on the DuckDB-dialect AST (allow-list, tenant scoping, row cap);
an adapter only renders the resulting `Guarded.expression` in its own dialect and runs it with the
time limit and row cap. `Warehouse.run` accepts only a `Guarded`, so no path reaches an engine
without the guard. Results come back as `Result`, the same on every engine; `app.run.engines`
opens the one the
`engine` setting names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlglot import exp

from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Guarded, Policy, check_sql


@dataclass(frozen=True)
class Result:
    """Rows of one query, capped at max_rows, with their DuckDB column types."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    elapsed_ms: float


@runtime_checkable
class Warehouse(Protocol):
    """Where guarded SQL runs; `dialect` is the sqlglot dialect the adapter renders."""

    dialect: str

    def run(
        self, guarded: Guarded, *, max_rows: int | None = None, timeout_ms: int | None = None
    ) -> Result:
        """Run a guarded statement; at most max_rows rows, stopped after timeout_ms."""
        ...

    def tables(self) -> frozenset[str]:
        """Lowercase names of the relations this warehouse can read."""
        ...

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        ...

    def close(self) -> None:
        """Release the connection or session."""
        ...


def freshness_query(account: str | None) -> Guarded:
    """The guarded `max(created)` over balance_transactions that every adapter runs."""
    query = exp.select(exp.Max(this=exp.column("created"))).from_("balance_transactions")
    return check_sql(query, Policy(account=account, tables=warehouse_tables(), max_rows=1))


def latest(result: Result) -> datetime | None:
    """The single datetime value of a freshness result, if any."""
    value = result.rows[0][0] if result.rows else None
    return value if isinstance(value, datetime) else None
