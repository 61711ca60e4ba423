"""A metric's share of the plan: its dimension columns and the plan's filters, as expressions."""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from app.core.errors import CompileError
from app.semantic.catalog import warehouse_catalog
from app.semantic.model import Dimension, Metric, SemanticModel
from app.sql.compile.sqlbuild import (
    COMPARE,
    col,
    fragment,
    in_list,
    literal,
    literals,
    none_of,
    ordered,
    scan,
)
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import local_expr

_NEGATED = {"neq", "not_in"}


def currency_column(m: Metric) -> str | None:
    """The fragment of the currency of a metric's rows: its own, else its table's `currency`.

    A money metric names its currency column; a count over a table with one (charges, refunds,
    the MRR ledger) is split and filtered by the currency of the rows it counts.
    """
    if m.currency or not m.table:
        return m.currency
    info = warehouse_catalog().get(m.table)
    return f"{m.table}.currency" if info and info.column("currency") else None


def splits_by_currency(model: SemanticModel, m: Metric) -> bool:
    """Whether the metric can be reported per original currency (a ratio: both its parts)."""
    if m.aggregation == "ratio":
        assert m.numerator and m.denominator
        parts = (model.metrics[m.numerator], model.metrics[m.denominator])
        return all(splits_by_currency(model, part) for part in parts)
    return m.aggregation != "custom" and currency_column(m) is not None


def dim_expr(
    dim: Dimension, table: str | None, model: SemanticModel | None = None, **binds: exp.Expr
) -> exp.Expr:
    """The dimension's column; a dimension of every table (`table: "*"`) reads the metric's.

    `binds` fills the expression's `@name` tokens (`@as_of_end` for receivables aging,
    `@local_time` for weekday and hour of day). A dimension read on a child table (`via`) is that
    table's values of the row, joined with ', ' (it needs the model).
    """
    if dim.via is not None:
        assert model is not None
        return rollup(model, dim.via, dim.table, dim.expr, dim.via_where)
    expr = fragment(dim.expr, **binds)
    if dim.table == "*" and table:
        for column in expr.find_all(exp.Column):
            if not column.table:
                column.set("table", exp.to_identifier(table))
    return expr


def rollup(
    model: SemanticModel, child: str, parent: str, expr: str, where: tuple[str, ...] = ()
) -> exp.Expr:
    """The child rows' values of each parent row, joined with ', ': one value per parent row.

    `(SELECT string_agg(DISTINCT expr ORDER BY expr, ', ') FROM child WHERE fk = parent.id)`, so
    a breakdown by it never multiplies rows.
    """
    path = model.join_path(child, parent)
    if not path:
        raise CompileError(f"{child} is no child of {parent}")
    value = fragment(expr)
    values = exp.Order(this=exp.Distinct(expressions=[value]), expressions=[])
    values.append("expressions", ordered(value.copy()))
    agg = exp.GroupConcat(this=values, separator=exp.Literal.string(", "))
    hops = [f"{j.to}.id" for j in path[:-1]]
    inner = scan(exp.select(agg), model, child, [expr, *where, *hops])
    last = path[-1]
    link = exp.EQ(this=col(last.column, last.from_), expression=col("id", parent))
    return exp.Subquery(this=inner.where(link, *(fragment(w) for w in where), copy=False))


def _as_of_end(q: CompileState) -> exp.Expr:
    """The end of the as-of day (UTC), which a dimension may read as `@as_of_end`."""
    return literal(q.frame.as_of_end_utc)


def dim_exprs(q: CompileState, metric: Metric) -> list[tuple[str, exp.Expr]]:
    """(output name, expression) for each requested dimension (a keyed one adds its id first)."""
    out: list[tuple[str, exp.Expr]] = []
    for name in q.dim_names:
        dim = q.ctx.model.dimensions[name]
        binds = time_binds(q, metric, dim)
        if dim.key:
            out.append((f"{name}_id", fragment(dim.key, **binds)))
        out.append((name, dim_expr(dim, metric.table, q.ctx.model, **binds)))
    return out


def time_binds(q: CompileState, metric: Metric, dim: Dimension) -> dict[str, exp.Expr]:
    """The `@name` values a dimension reads: `@as_of_end`; a time part's `@local_time`."""
    if "@local_time" not in dim.expr:
        return {"as_of_end": _as_of_end(q)} if "@as_of_end" in dim.expr else {}
    if metric.aggregation != "flow" or not metric.time:
        raise CompileError(
            f"{dim.label} splits flows (amounts and counts over time), not a balance "
            f"like {metric.label}"
        )
    return {"local_time": local_expr(metric.time, metric.time_zone, q.ctx.account.timezone)}


def dim_fragments(q: CompileState) -> list[str]:
    """The model fragments the requested dimensions read (to plan joins)."""
    out: list[str] = []
    for name in q.dim_names:
        dim = q.ctx.model.dimensions[name]
        out += [dim.key, _anchor(dim)] if dim.key else [_anchor(dim)]
    return out


def filter_conditions(q: CompileState, metric: Metric) -> list[exp.Expr]:
    """One condition per filter of the plan, on this metric's rows."""
    out: list[exp.Expr] = []
    for f in q.plan.filters:
        if f.dimension == "currency":
            currency = currency_column(metric)
            if currency is None:
                continue
            column = fragment(currency)
            values: tuple[str | int | Decimal, ...] = tuple(str(v).lower() for v in f.values)
        else:
            dim = q.ctx.model.dimensions.get(f.dimension)
            if dim is None:
                raise CompileError(f"unknown filter dimension {f.dimension}")
            column = dim_expr(dim, metric.table, q.ctx.model, **time_binds(q, metric, dim))
            values = f.values
        if f.op in COMPARE:
            out.append(COMPARE[f.op](this=column, expression=literal(values[0])))
        else:
            test = none_of if f.op in _NEGATED else in_list
            out.append(test(column, literals(values)))
    return out


def filter_fragments(q: CompileState) -> list[str]:
    """The model fragments the plan's filters read (to plan joins)."""
    out = []
    for f in q.plan.filters:
        dim = q.ctx.model.dimensions.get(f.dimension)
        if dim and dim.table != "*" and f.dimension != "currency":
            out.append(_anchor(dim))
    return out


def _anchor(dim: Dimension) -> str:
    """The fragment that brings a dimension's table into a scan (a rolled-up one: its parent)."""
    return f"{dim.table}.id" if dim.via is not None else dim.expr
