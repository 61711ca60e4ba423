"""Stock and snapshot metrics: the running total of the measure at each bucket's point."""

from __future__ import annotations

from sqlglot import exp

from app.semantic.model import Metric
from app.sql.compile.breakdown import (
    currency_column,
    dim_exprs,
    dim_fragments,
    filter_conditions,
    filter_fragments,
)
from app.sql.compile.ledger import LEDGER, ledger_stock
from app.sql.compile.money import convert_stock, sum_by_keys
from app.sql.compile.points import before_last_point, points_cte
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    fn,
    fragment,
    group_by_all,
    join,
    literal,
    named,
    scan,
    table,
)
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import local_expr


def stock(q: CompileState, m: Metric, at: str = "end") -> str:
    """A stock at each bucket's point: the subscription ledger's own way, or a running total."""
    at = "start" if m.read_at == "start" else at  # an opening balance
    if m.aggregation == "stock" and m.table == LEDGER:
        return ledger_stock(q, m, at)
    return table_stock(q, m, at)


def snapshot(q: CompileState, m: Metric) -> str:
    """A current-state metric (receivables): the running total at the as-of point."""
    return table_stock(q, m)


def table_stock(q: CompileState, m: Metric, at: str = "end") -> str:
    """Running total (or current snapshot) of the measure at each bucket's point."""
    assert m.table and m.measure and m.time
    name = f"m_{m.name}_{at}"
    tz = q.ctx.account.timezone
    points_name = points_cte(q, at)
    dims = dim_exprs(q, m)
    money = m.unit == "money"
    single = len(q.frame.buckets) == 1  # one point: the time filter alone decides, no day join
    select = [named(e, n) for n, e in dims]
    if not single:
        select.append(named(cast(local_expr(m.time, m.time_zone, tz), Type.DATE), "day"))
    sources = [*dim_fragments(q), m.measure, m.time, *m.where, *filter_fragments(q)]
    currency = currency_column(m)
    keeps_currency = money or q.target is None  # converted, or kept per original currency
    if keeps_currency:
        assert currency
        select.append(named(fragment(currency), "currency"))
        sources.append(currency)
    select.append(named(fragment(m.measure), "v"))
    as_of_end = literal(q.frame.as_of_end_utc)
    where = [fragment(w, as_of_end=as_of_end) for w in m.where] or [exp.true()]
    where += filter_conditions(q, m)
    where.append(before_last_point(q, m, at))
    rows = scan(exp.select(*select), q.ctx.model, m.table, sources).where(*where, copy=False)
    rows_name = q.cte(f"{name}_rows", group_by_all(rows))
    at_point = exp.select(
        col("period", "p"),
        col("point", "p"),
        *(col(n, "r") for n, _ in dims),
        *([col("currency", "r")] if keeps_currency else []),
        named(fn("sum", col("v", "r")), "v"),
    ).from_(table(points_name, alias="p"), copy=False)
    on = exp.true() if single else exp.LTE(this=col("day", "r"), expression=col("point", "p"))
    at_point = at_point.join(join(table(rows_name, alias="r"), on), copy=False)
    at_point_name = q.cte(f"{name}_pts", group_by_all(at_point))
    if not money:
        return q.cte(name, sum_by_keys(q, at_point_name))
    return convert_stock(q, at_point_name, name)
