"""A metric's share of the plan: its dimension columns and the plan's filters, as expressions."""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from app.core.errors import CompileError
from app.semantic.catalog import warehouse_catalog
from app.semantic.model import Dimension, Metric, SemanticModel
from app.sql.compile.sqlbuild import fragment, in_list, literal, literals, none_of
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import local_expr

_COMPARE: dict[str, type[exp.Binary]] = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
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


def dim_expr(dim: Dimension, table: str | None, **binds: exp.Expr) -> exp.Expr:
    """The dimension's column; a dimension of every table (`table: "*"`) reads the metric's.

    `binds` fills the expression's `@name` tokens (`@as_of_end` for receivables aging,
    `@local_time` for weekday and hour of day).
    """
    expr = fragment(dim.expr, **binds)
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
        binds = time_binds(q, metric, dim)
        if dim.key:
            out.append((f"{name}_id", fragment(dim.key, **binds)))
        out.append((name, dim_expr(dim, metric.table, **binds)))
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
        out += [dim.key, dim.expr] if dim.key else [dim.expr]
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
            column = dim_expr(dim, metric.table, **time_binds(q, metric, dim))
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
