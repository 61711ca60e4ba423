"""Pasted or model-written SQL: guard, run and describe one raw SELECT as an Answer."""

from __future__ import annotations

import time
from typing import Any, Literal

from app.core.answer import Answer, Column, Timings
from app.core.errors import ExecutionError, GuardError, QueryTimeout
from app.core.plan import Assumption
from app.core.request import Request
from app.explain.prose import explain
from app.pipeline.answering import ms_since, row_cap_notices
from app.pipeline.session import Session
from app.run.warehouse import Result


def answer_sql(
    session: Session,
    sql: str,
    request: Request,
    *,
    read_dialect: str = "duckdb",
    backend: str = "sql",
) -> Answer:
    """Guard, run and describe one raw SELECT (pasted SQL, Sigma queries, the agent's SQL)."""
    t0 = time.perf_counter()
    account = session.account(request)
    base: dict[str, Any] = {
        "question": request.question or sql,
        "account": account,
        "as_of": request.as_of,
        "backend": backend,
    }
    timings = Timings()
    try:
        guarded = session.guard(sql, account, read_dialect=read_dialect)
    except GuardError as err:
        return Answer(
            status="rejected",
            error=str(err),
            headline=f"This query was not run: {err.detail}",
            timings=timings.model_copy(update={"total_ms": ms_since(t0)}),
            **base,
        )
    timings.guard_ms = ms_since(t0)
    t = time.perf_counter()
    try:
        result = session.executor.run(guarded)
    except (QueryTimeout, ExecutionError) as err:
        return Answer(
            status="error",
            error=str(err),
            headline="The query could not finish.",
            sql=guarded.sql,
            timings=timings.model_copy(update={"total_ms": ms_since(t0)}),
            **base,
        )
    timings.execute_ms = ms_since(t)
    timings.total_ms = ms_since(t0)
    return answer_result(session, result, guarded.sql, request, backend=backend, timings=timings)


def answer_result(
    session: Session,
    result: Result,
    sql: str,
    request: Request,
    *,
    backend: str,
    timings: Timings | None = None,
) -> Answer:
    """Describe the result of an already guarded and executed raw SELECT."""
    account = session.account(request)
    columns = [
        Column(name=n, kind=_kind_of(t)) for n, t in zip(result.columns, result.types, strict=True)
    ]
    ex = explain(columns, result.rows, metric_labels={}, period=None, truncated=result.truncated)
    return Answer(
        status="answered",
        question=request.question or sql,
        account=account,
        as_of=request.as_of,
        headline=ex.headline,
        value=ex.value,
        columns=columns,
        rows=[list(r) for r in result.rows],
        truncated=result.truncated,
        notices=row_cap_notices(result),
        sql=sql,
        explanation=ex.explanation if ex.numbers_verified else "",
        numbers_verified=ex.numbers_verified,
        assumptions=[
            Assumption(
                key="raw_sql",
                text="Computed by the SQL shown, not by a semantic-model metric; amounts are "
                "as the query returns them (minor units unless the query converts them).",
            )
        ],
        backend=backend,
        freshness=session.freshness(account),
        timings=timings or Timings(),
        read_back=f"the SQL shown, run as written on {account}'s data ({backend})",
    )


def _kind_of(duck_type: str) -> Literal["count", "number", "date", "label"]:
    t = duck_type.upper()
    if t in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER"):
        return "count"
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return "number"
    if t == "DATE":
        return "date"
    return "label"
