"""A session over one warehouse: the guarded way to run SQL, and caches of account lookups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlglot import exp

from app.core.errors import ExecutionError, GuardError
from app.core.request import Request
from app.core.settings import Settings
from app.run.engines import open_warehouse
from app.run.warehouse import Result, Warehouse
from app.semantic.catalog import warehouse_tables
from app.semantic.load import semantic_model
from app.semantic.model import SemanticModel
from app.sql.compile import AccountInfo
from app.sql.compile.rollups import builds_query, counts_query, fingerprint, rollup_tables
from app.sql.guard.checks import Guarded, Policy, check_sql


class Session:
    """One open warehouse with its limits and cached lookups; safe to share between threads."""

    def __init__(self, settings: Settings, executor: Warehouse | None = None) -> None:
        """Open (or reuse) the warehouse: read-only DuckDB, or Spark (the `engine` setting)."""
        self.settings = settings
        self.executor: Warehouse = executor or open_warehouse(settings)
        self.model: SemanticModel = semantic_model()
        self._accounts: dict[str, AccountInfo] = {}
        self._values: dict[str, dict[str, dict[str, str]]] = {}
        self._fresh: dict[str, datetime | None] = {}
        self._rates_end: dict[str, date | None] = {}
        self._rollups: dict[str, frozenset[str]] = {}
        self._generation = getattr(self.executor, "generation", 0)

    def account(self, request: Request) -> str:
        """The account a request is for: its own, else the `default_account` setting."""
        return request.account or self.settings.default_account

    def guard(self, sql: Any, account: str | None, read_dialect: str = "duckdb") -> Guarded:
        """Apply the guard with this session's limits."""
        policy = Policy(
            account=account,
            tables=warehouse_tables() | rollup_tables(self.model),
            max_rows=self.settings.max_rows,
            read_dialect=read_dialect,
        )
        return check_sql(sql, policy)

    def run_sql(self, sql: Any, account: str | None, max_rows: int | None = None) -> Result:
        """Guard then execute SQL for an account (the only path to the warehouse)."""
        return self.executor.run(self.guard(sql, account), max_rows=max_rows)

    def _follow_file(self) -> None:
        """Drop the cached lookups when the warehouse reopened a newly imported file."""
        generation = getattr(self.executor, "generation", 0)
        if generation != self._generation:
            self._generation = generation
            for cache in (self._accounts, self._values, self._fresh, self._rates_end):
                cache.clear()
            self._rollups.clear()  # the new file's rollups are checked afresh

    def account_info(self, account: str) -> AccountInfo | None:
        """Time zone, currency and name of an account (None when it does not exist)."""
        self._follow_file()
        if account not in self._accounts:
            res = self.run_sql(
                "SELECT id, settings_dashboard_timezone, default_currency, business_profile_name "
                "FROM accounts",
                account,
            )
            if not res.rows:
                return None
            r = res.rows[0]
            self._accounts[account] = AccountInfo(
                id=str(r[0]), timezone=str(r[1]), currency=str(r[2]), name=str(r[3] or "")
            )
        return self._accounts[account]

    def freshness(self, account: str) -> datetime | None:
        """Latest loaded balance-transaction time of the account (the warehouse is read-only)."""
        self._follow_file()
        if account not in self._fresh:
            self._fresh[account] = self.executor.freshness(account)
        return self._fresh[account]

    def rates_end(self, account: str) -> date | None:
        """The last day an exchange rate applies to (a rate applies to the day after its date)."""
        self._follow_file()
        if account not in self._rates_end:
            res = self.run_sql(
                "SELECT max(CAST(date AS DATE)) + 1 FROM exchange_rates_from_usd", account
            )
            value = res.rows[0][0] if res.rows else None
            self._rates_end[account] = value if isinstance(value, date) else None
        return self._rates_end[account]

    def candidate_rollups(self, account: str) -> frozenset[str]:
        """The rollups a compilation may pick: the fresh ones once checked, else all (on, DuckDB).

        The check costs two queries, so it runs only when a compiled plan reads a rollup
        (`rollups_fresh`); a plan that reads none never pays it.
        """
        if not self.settings.rollups or self.settings.engine != "duckdb":
            return frozenset()
        self._follow_file()
        if account in self._rollups:
            return self._rollups[account]
        return frozenset(self.model.rollups)

    def rollups_fresh(self, account: str, expression: exp.Expression) -> bool:
        """Whether every rollup a compiled statement reads is fresh (checked once per account)."""
        tables = {t.name for t in expression.find_all(exp.Table)}
        used = {r.name for r in self.model.rollups.values() if r.table in tables}
        return not used or used <= self.fresh_rollups(account)

    def fresh_rollups(self, account: str) -> frozenset[str]:
        """The rollups the compiler may read for the account: on, built, and not stale.

        A rollup is fresh when the fingerprint recomputed now (its definition and the account's
        row counts of its source tables) equals the one stamped when it was built; a warehouse
        without rollups, or an engine that has none (Spark's Parquet export), has none fresh.
        """
        if not self.settings.rollups or self.settings.engine != "duckdb":
            return frozenset()
        self._follow_file()
        if account not in self._rollups:
            fresh: set[str] = set()
            try:
                stamps = dict(self.run_sql(builds_query(), account).rows)
                res = self.run_sql(counts_query(self.model), account) if stamps else None
                counts = (
                    dict(zip(res.columns, (int(v) for v in res.rows[0]), strict=True))
                    if res
                    else {}
                )
                for r in self.model.rollups.values():
                    if r.name in stamps and stamps[r.name] == fingerprint(self.model, r, counts):
                        fresh.add(r.name)
            except (GuardError, ExecutionError):  # no rollup_builds table: built before rollups
                fresh.clear()
            self._rollups[account] = frozenset(fresh)
        return self._rollups[account]

    def data_values(self, account: str) -> dict[str, dict[str, str]]:
        """Plan and product names of the account, so the engine recognises them as filters."""
        self._follow_file()
        if account not in self._values:
            plans = self.run_sql(
                "SELECT DISTINCT nickname FROM prices WHERE nickname IS NOT NULL", account
            )
            prods = self.run_sql(
                "SELECT DISTINCT name FROM products WHERE name IS NOT NULL", account
            )
            values: dict[str, dict[str, str]] = {"plan": {}, "product": {}}
            for (n,) in plans.rows:
                values["plan"][str(n).lower()] = str(n)
            for (n,) in prods.rows:
                values["product"][str(n).lower()] = str(n)
                values["product"][f"{str(n).lower()} plan"] = str(n)
            self._values[account] = values
        return self._values[account]

    def close(self) -> None:
        """Release the warehouse connection."""
        self.executor.close()
