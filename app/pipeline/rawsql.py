"""Pasted or model-written SQL: guard, run and describe one raw SELECT as an Answer."""

from __future__ import annotations

import time
from datetime import date
from typing import Any, Literal

from app.core.answer import Answer, Column, Timings
from app.core.errors import ExecutionError, GuardError, QueryTimeout
from app.core.plan import Assumption
from app.explain.prose import explain
from app.pipeline.assistant import Assistant, Conversation, ms_since
from app.run.warehouse import Result


def answer_sql(
    assistant: Assistant,
    sql: str,
    *,
    as_of: date,
    account: str | None = None,
    question: str = "",
    read_dialect: str = "duckdb",
    conversation: Conversation | None = None,
    backend: str = "sql",
) -> Answer:
    """Guard, run and describe one raw SELECT (pasted SQL, Sigma queries, the agent's SQL)."""
    t0 = time.perf_counter()
    account = account or assistant.settings.default_account
    base: dict[str, Any] = {"question": question or sql, "account": account, "as_of": as_of}
    timings = Timings()
    try:
        guarded = assistant.guard(sql, account, read_dialect=read_dialect)
    except GuardError as err:
        answer = Answer(
            status="rejected",
            error=str(err),
            headline=f"This query was not run: {err.detail}",
            backend=backend,
            **base,
        )
        return assistant.finish(answer, t0, timings, conversation)
    timings.guard_ms = ms_since(t0)
    t = time.perf_counter()
    try:
        result = assistant.executor.run(guarded)
    except (QueryTimeout, ExecutionError) as err:
        answer = Answer(
            status="error",
            error=str(err),
            headline="The query could not finish.",
            sql=guarded.sql,
            backend=backend,
            **base,
        )
        return assistant.finish(answer, t0, timings, conversation)
    timings.execute_ms = ms_since(t)
    answer = answer_result(
        assistant,
        result,
        guarded.sql,
        question=question or sql,
        as_of=as_of,
        account=account,
        backend=backend,
    )
    return assistant.finish(answer, t0, timings, conversation)


def answer_result(
    assistant: Assistant,
    result: Result,
    sql: str,
    *,
    question: str,
    as_of: date,
    account: str,
    backend: str,
    conversation: Conversation | None = None,
) -> Answer:
    """Describe the result of an already guarded and executed raw SELECT."""
    base: dict[str, Any] = {"question": question, "account": account, "as_of": as_of}
    columns = [
        Column(name=n, kind=_kind_of(t)) for n, t in zip(result.columns, result.types, strict=True)
    ]
    ex = explain(columns, result.rows, metric_labels={}, period=None, truncated=result.truncated)
    answer = Answer(
        status="answered",
        headline=ex.headline,
        value=ex.value,
        columns=columns,
        rows=[list(r) for r in result.rows],
        truncated=result.truncated,
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
        freshness=assistant.freshness(account),
        **base,
    )
    return assistant.remember(answer, conversation)


def _kind_of(duck_type: str) -> Literal["count", "number", "date", "label"]:
    t = duck_type.upper()
    if t in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER"):
        return "count"
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return "number"
    if t == "DATE":
        return "date"
    return "label"
