"""Tool: raw SQL → guard → execute → a compact preview for the model; failures come back as text.

The model gets text it can act on (`SqlToolResult.text`); the application gets the structured
`Result` for the answer (`SqlToolResult.result`). Guard rejections, DuckDB errors and timeouts
are results with `ok=False`, never exceptions, so the agent can correct itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.core.errors import ExecutionError, GuardError, QueryTimeout
from app.run.warehouse import Result
from tools.context import ToolContext

MAX_CELL_CHARS = 60
MAX_PREVIEW_CHARS = 4000  # characters of preview text; later rows are left out


@dataclass
class SqlToolResult:
    """Outcome of one run_sql call: text for the model, data and SQL for the application."""

    ok: bool
    text: str
    result: Result | None = None
    sql: str | None = None
    rule: str | None = None


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date | Decimal):
        text = str(value)
    else:
        text = str(value).replace("\n", " ").replace("|", "/")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 3] + "..."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def preview(result: Result, rows: int, max_chars: int = MAX_PREVIEW_CHARS) -> str:
    """A text table of the first rows (at least one, then as many as fit max_chars), with notes."""
    total = f"{_plural(len(result.rows), 'row')}{' or more' if result.truncated else ''}"
    cols = ", ".join(f"{n} {t}" for n, t in zip(result.columns, result.types, strict=True))
    lines = [f"OK: {total}. Columns: {cols}."]
    body = [" | ".join(_cell(v) for v in row) for row in result.rows[: max(0, rows)]]
    size = sum(len(line) + 1 for line in lines)
    shown = 0
    if body:
        lines.append(" | ".join(result.columns))
        size += len(lines[-1]) + 1
        for line in body:
            if size + len(line) + 1 > max_chars and shown:
                break
            lines.append(line)
            size += len(line) + 1
            shown += 1
    if shown < len(result.rows):
        lines.append(f"(first {shown} of {total} shown)")
    if result.truncated:
        lines.append(
            "The result hit the row cap and was cut; aggregate further or add filters so the "
            "answer does not depend on the missing rows."
        )
    return "\n".join(lines)


def run_sql(ctx: ToolContext, sql: str) -> SqlToolResult:
    """Run one read-only DuckDB SELECT on the account's data and return a preview of the rows.

    Only when no QueryPlan can express the question. One SELECT (or WITH ... SELECT) over the
    warehouse tables; the account filter and a row cap are added automatically. Money columns
    are integers in minor units. Errors come back as text: fix the SQL and try again.

    Args:
        sql: One DuckDB SELECT statement.

    """
    try:
        guarded = ctx.session.guard(sql, ctx.account)
    except GuardError as err:
        return SqlToolResult(
            ok=False,
            text=f"Rejected by rule {err.rule}: {err.detail}. Rewrite it as one read-only "
            "SELECT over the warehouse tables (no DDL, writes, settings, files or table "
            "functions), without filtering on merchant_id.",
            rule=err.rule,
        )
    try:
        result = ctx.session.executor.run(guarded)
    except QueryTimeout as err:
        return SqlToolResult(
            ok=False,
            text=f"Timed out: {err} Simplify the query: aggregate earlier, filter by time, "
            "avoid cross joins.",
            sql=guarded.sql,
            rule="timeout",
        )
    except ExecutionError as err:
        return SqlToolResult(
            ok=False,
            text=f"DuckDB error: {err}\nFix the SQL (check names with describe_table) and retry.",
            sql=guarded.sql,
        )
    return SqlToolResult(
        ok=True, text=preview(result, ctx.preview_rows), result=result, sql=guarded.sql
    )
