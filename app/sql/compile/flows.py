"""Flow metrics: the measure over the rows whose time falls in each bucket."""

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
from app.sql.compile.money import convert, sum_by_keys, uses_rates
from app.sql.compile.ranked_rollups import ranked_rows
from app.sql.compile.rollups import covering, rollup_rows
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    fn,
    fragment,
    group_by_all,
    literal,
    named,
    scan,
    table,
)
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import time_filter


def flow(q: CompileState, m: Metric) -> str:
    """Add the CTEs of a flow metric per (period, dims[, currency]); return the last one's name.

    With `once_per`, the rows are grouped by that key too, so the measure (an aggregate of a value
    its rows repeat) counts each key once per group; the keys are then summed per group and day,
    so money is converted as for any flow.
    """
    assert m.table and m.measure and m.time
    name = f"m_{m.name}"
    if (ranked := ranked_rows(q, m)) is not None:  # a year's first keys, ranked ahead of time
        uses_rates(q)
        return q.cte(name, ranked)
    tz = q.ctx.account.timezone
    money = m.unit == "money"
    period = q.frame.bucket_expr(m.time, m.time_zone, tz)
    select = [named(period, "period"), *(named(e, n) for n, e in dim_exprs(q, m))]
    sources = [*dim_fragments(q), m.measure, m.time, *m.where, *filter_fragments(q)]
    currency = currency_column(m)
    if money or q.target is None:  # converted, or kept per original currency
        assert currency
        select.append(named(fragment(currency), "currency"))
        sources.append(currency)
    if money and q.target is not None:
        select.append(named(cast(fragment(m.time), Type.DATE), "day"))
    if m.once_per:
        select.append(named(fragment(m.once_per), "once_key"))
        sources.append(m.once_per)
    select.append(named(fragment(m.measure), "v"))
    as_of_end = literal(q.frame.as_of_end_utc)
    where = [fragment(w, as_of_end=as_of_end) for w in m.where]
    where += time_filter(m.time, m.time_zone, tz, q.frame.scan_range)
    where += filter_conditions(q, m)
    rows = scan(exp.select(*select), q.ctx.model, m.table, sources).where(*where, copy=False)
    rows = group_by_all(rows)
    rolled = (r := covering(q, m)) is not None
    if r is not None:  # the same rows' sums, read from a daily rollup
        rows = rollup_rows(q, m, r, money)
    base = q.cte(f"{name}_rows", rows)
    if m.once_per and not rolled:  # one value per key and group; then summed as any flow's rows
        kept = [col(str(e.alias)) for e in select if e.alias not in ("once_key", "v")]
        once = exp.select(*kept, named(fn("sum", col("v")), "v")).from_(table(base), copy=False)
        base = q.cte(f"{name}_once", group_by_all(once))
    if not money:
        return q.cte(name, sum_by_keys(q, base))
    return convert(q, base, name, rates_per_key=rolled)
