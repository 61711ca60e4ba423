"""Stable fingerprints: of a result (exact money), of a plan's meaning, and typed rows back.

`result_hash` is what a share link and feedback compare: the column names and every cell, money
as an exact decimal (`8450.40` and `8450.4` are the same amount), floats to 12 significant digits
(a parallel sum of doubles may differ in its last bits between runs), dates in ISO form.
`plan_key` is what a verified answer is matched on: the plan without the words it was read from
(time label, assumptions, confidence, ignored words) and without its time range, which is
compared separately so that a relative period ("last quarter") can match on another day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.answer import Answer, Column
from app.core.plan import QueryPlan

_WORDING = {"assumptions": True, "confidence": True, "ignored": True, "time": True}


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | Decimal):
        return "d:" + format(Decimal(value).normalize(), "f")
    if isinstance(value, float):
        return f"f:{value:.12g}"
    if isinstance(value, datetime | date):
        return "t:" + value.isoformat()
    return "s:" + str(value)


def result_hash(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of the column names and the rows in order, money compared as exact decimals."""
    payload = {"columns": list(columns), "rows": [[_cell(v) for v in row] for row in rows]}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def answer_hash(answer: Answer) -> str | None:
    """The result hash of an answered Answer (None when it has no result)."""
    if answer.status != "answered":
        return None
    return result_hash([c.name for c in answer.columns], answer.rows)


def plan_key(plan: QueryPlan) -> str:
    """What a plan computes, apart from its period: equal keys compile to the same query shape."""
    body = plan.model_dump(mode="json", exclude=_WORDING)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def same_period(a: QueryPlan, b: QueryPlan) -> bool:
    """Whether two plans cover the same half-open range (or both have none)."""
    if a.time is None or b.time is None:
        return a.time is None and b.time is None
    return (a.time.start, a.time.end) == (b.time.start, b.time.end)


def _revive(value: Any, column: Column) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if column.kind in ("money", "number", "ratio"):
            return Decimal(value)
        if column.kind == "count":
            return int(value)
        if column.kind == "date":
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except (InvalidOperation, ValueError):
        return value
    return value


def revive_answer(text: str) -> Answer:
    """An Answer read back from its JSON, money, counts and dates typed again (rows, Total row)."""
    answer = Answer.model_validate_json(text)
    width = len(answer.columns)
    rows = [
        [_revive(v, c) for v, c in zip(row, answer.columns, strict=True)]
        if len(row) == width
        else row
        for row in answer.rows
    ]
    total = answer.total
    if total is not None and len(total) == width:  # the Total row is typed like the rows
        total = [_revive(v, c) for v, c in zip(total, answer.columns, strict=True)]
    return answer.model_copy(update={"rows": rows, "total": total})
