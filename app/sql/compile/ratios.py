"""Ratio metrics: numerator over denominator per key, both compiled as metrics of their own."""

from __future__ import annotations

from sqlglot import exp

from app.semantic.model import Metric
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    fn,
    join,
    literal,
    named,
    null_safe_equal,
    table,
)
from app.sql.compile.state import CompileState
from app.sql.compile.stocks import stock


def ratio(q: CompileState, m: Metric) -> str:
    """Add the CTEs of a ratio (a money ratio rounds to minor units); return the last one's name."""
    assert m.numerator and m.denominator
    model = q.ctx.model
    num_m, den_m = model.metrics[m.numerator], model.metrics[m.denominator]
    num = q.metric(num_m)
    if m.denominator_at == "start" and den_m.aggregation == "stock":
        den = q.once(("metric", den_m.name, "start"), lambda: stock(q, den_m, at="start"))
    else:
        den = q.metric(den_m)
    numerator = fn("coalesce", col("v", "n"), exp.Literal.number(0))
    denominator = fn("nullif", col("v", "d"), exp.Literal.number(0))
    value: exp.Expr
    if m.unit == "money":
        value = cast(fn("round", exp.Div(this=numerator, expression=denominator)), Type.INT128)
    else:
        share = exp.Div(this=cast(numerator, Type.DOUBLE), expression=denominator)
        value = exp.Add(this=literal(m.offset), expression=share)
    keys = [named(fn("coalesce", col(k, "n"), col(k, "d")), k) for k in q.keys]
    select = exp.select(*keys, named(value, "v")).from_(table(num, alias="n"), copy=False)
    on = null_safe_equal(q.keys, "n", "d")
    select = select.join(join(table(den, alias="d"), on, side="FULL", kind="OUTER"), copy=False)
    return q.cte(f"m_{m.name}", select)
