"""A metric's share of the plan: its dimension columns and the plan's filters, as expressions."""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from app.core.errors import CompileError
from app.semantic.model import Dimension, Metric
from app.sql.compile.sqlbuild import fragment, in_list, literal, literals, none_of
from app.sql.compile.state import CompileState

_COMPARE: dict[str, type[exp.Binary]] = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
_NEGATED = {"neq", "not_in"}


def dim_expr(dim: Dimension, table: str | None, **values: exp.Expr) -> exp.Expr:
    """The dimension's column; a dimension of every table (`table: "*"`) reads the metric's.

    `values` binds the expression's `@name` tokens (`@as_of_end` for receivables aging).
    """
    expr = fragment(dim.expr, **values)
    if dim.table == "*" and table:
        for column in expr.find_all(exp.Column):
            if not column.table:
                column.set("table", exp.to_identifier(table))
    return expr


def _as_of_end(q: CompileState) -> exp.Expr:
    """The end of the as-of day (UTC), which a dimension may read as `@as_of_end`."""
    return literal(q.frame.as_of_end_utc)


def dim_exprs(q: CompileState, metric: Metric) -> list[tuple[str, exp.Expr]]:
    """(output name, expression) for each requested dimension (a keyed one adds its id first)."""
    out: list[tuple[str, exp.Expr]] = []
    for name in q.dim_names:
        dim = q.ctx.model.dimensions[name]
        if dim.key:
            out.append((f"{name}_id", fragment(dim.key)))
        out.append((name, dim_expr(dim, metric.table, as_of_end=_as_of_end(q))))
    return out


def dim_fragments(q: CompileState) -> list[str]:
    """The model fragments the requested dimensions read (to plan joins)."""
    out: list[str] = []
    for name in q.dim_names:
        dim = q.ctx.model.dimensions[name]
        out += [dim.key, dim.expr] if dim.key else [dim.expr]
    return out


def filter_conditions(q: CompileState, metric: Metric) -> list[exp.Expr]:
    """One condition per filter of the plan, on this metric's rows."""
    out: list[exp.Expr] = []
    for f in q.plan.filters:
        if f.dimension == "currency":
            if metric.currency is None:
                continue
            column = fragment(metric.currency)
            values: tuple[str | int | Decimal, ...] = tuple(str(v).lower() for v in f.values)
        else:
            dim = q.ctx.model.dimensions.get(f.dimension)
            if dim is None:
                raise CompileError(f"unknown filter dimension {f.dimension}")
            column = dim_expr(dim, metric.table, as_of_end=_as_of_end(q))
            values = f.values
        if f.op in _COMPARE:
            out.append(_COMPARE[f.op](this=column, expression=literal(values[0])))
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
            out.append(dim.expr)
    return out
