"""What every tool call needs: guarded SQL for one account, the semantic model, the date, limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from app.run.warehouse import Result, Warehouse
from app.semantic.model import SemanticModel
from app.sql.guard.checks import Guarded


class GuardedSql(Protocol):
    """What tools use of a session: guarded SQL and the model (`app.pipeline.session.Session`)."""

    model: SemanticModel
    executor: Warehouse

    def guard(self, sql: Any, account: str | None, read_dialect: str = "duckdb") -> Guarded:
        """Apply the guard for an account."""
        ...

    def run_sql(self, sql: Any, account: str | None, max_rows: int | None = None) -> Result:
        """Guard then execute SQL for an account."""
        ...


@dataclass
class ToolContext:
    """The request a tool runs for: the guarded session, one account, one as-of date, limits."""

    session: GuardedSql
    account: str
    as_of: date
    preview_rows: int = 20
    sample_cap: int = 25
