"""Custom metrics: a vetted query of the semantic model, run once per period of the answer."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlglot import exp

from app.core.errors import CompileError
from app.semantic.model import Metric
from app.sql.compile.sqlbuild import col, fragment, literal, named
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import Bucket


def custom(q: CompileState, m: Metric) -> str:
    """Add the CTE running the metric's template for each bucket; return its name.

    The template is a whole query over one [@start, @end) range, so a series or a comparison
    runs it once per period (one row each); a breakdown has no such query and is refused.
    """
    if q.dim_names or q.plan.filters or q.target is None:
        raise CompileError(
            f"{m.label} is available as a single total or a time series only (no breakdowns "
            "or filters)"
        )
    rows = [_bucket_row(m, b) for b in q.frame.buckets]
    union = rows[0] if len(rows) == 1 else exp.union(*rows, distinct=False, copy=False)
    return q.cte(f"m_{m.name}", union)


def _bucket_row(m: Metric, b: Bucket) -> exp.Select:
    """`SELECT label AS period, (SELECT value FROM (template over the bucket)) AS v`."""
    assert m.template
    body = fragment(m.template, start=literal(_midnight(b.start)), end=literal(_midnight(b.end)))
    assert isinstance(body, exp.Query)
    value = exp.select(col(m.name)).from_(body.subquery("t", copy=False), copy=False)
    return exp.select(named(literal(b.label), "period"), named(value.subquery(copy=False), "v"))


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())
