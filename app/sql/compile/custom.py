"""Custom metrics: a vetted query of the semantic model, for one total over one period."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlglot import exp

from app.core.errors import CompileError
from app.semantic.model import Metric
from app.sql.compile.sqlbuild import col, fragment, literal, named
from app.sql.compile.state import CompileState


def custom(q: CompileState, m: Metric) -> str:
    """Add the CTE running the metric's template over the period; return its name."""
    if q.dim_names or q.plan.grain or q.plan.comparison or q.plan.filters or q.target is None:
        raise CompileError(
            f"{m.label} is available as a single total only (no breakdowns or filters)"
        )
    assert m.template
    b = q.frame.buckets[0]
    body = fragment(m.template, start=literal(_midnight(b.start)), end=literal(_midnight(b.end)))
    assert isinstance(body, exp.Query)
    value = exp.select(col(m.name)).from_(body.subquery("t", copy=False), copy=False)
    select = exp.select(named(literal(b.label), "period"), named(value.subquery(copy=False), "v"))
    return q.cte(f"m_{m.name}", select)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())
