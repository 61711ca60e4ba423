"""The warehouse port: run a guarded statement under limits, on whichever engine holds the data.

The guard always runs first, on the DuckDB-dialect AST (allow-list, tenant scoping, row cap);
an adapter only renders the resulting `Guarded.expression` in its own dialect and runs it with the
time limit and row cap. `Warehouse.run` accepts only a `Guarded`, so no path reaches an engine
without the guard. Results come back as `app.executor.Result`, the same on every engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlglot import exp

from app.executor import Executor, Result, open_executor
from app.guard import Guarded, Policy, check_sql, warehouse_tables
from app.settings import Settings


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

    def tables(self) -> frozenset[str]:
        """The DDL's tables and views, which every warehouse built by `data build` holds."""
        return warehouse_tables()

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        return latest(self.run(freshness_query(account), max_rows=1))

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.executor.close()


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse named by the `engine` setting (DuckDB, or Spark over `parquet_dir`)."""
    if settings.engine == "spark":
        from app.warehouses.spark import open_spark_warehouse

        return open_spark_warehouse(settings)
    return DuckDBWarehouse(open_executor(settings))
