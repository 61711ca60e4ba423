"""The outer SELECT of a compiled plan: joins metric CTEs, formats units, compares, ranks."""

from __future__ import annotations

from sqlglot import exp

from app.semantic.model import Metric
from app.sql.compile.points import interval, periods
from app.sql.compile.sqlbuild import (
    Type,
    all_of,
    cast,
    col,
    date_trunc,
    decimal,
    fn,
    in_list,
    join,
    literal,
    literals,
    named,
    null_safe_equal,
    ordered,
    paren,
    table,
)
from app.sql.compile.state import CompileState


def _fmt(q: CompileState, m: Metric, v: exp.Expr, currency: exp.Expr | None = None) -> exp.Expr:
    """A metric's raw value (minor units, counts, ratios) in its display type.

    Amounts kept per original currency read the row's currency from `currency` (the output row's
    currency column, qualified: beside a comparison both sides have one).
    """
    if m.unit == "count":
        return cast(v, Type.BIGINT)
    if m.unit == "ratio":
        return cast(v, Type.DOUBLE)
    zero = q.ctx.model.zero_decimal_currencies
    if q.target is None:
        assert currency is not None, "amounts per currency need the row's currency column"
        whole = in_list(currency.copy(), literals(zero))
        minor = cast(v, Type.INT128)  # whole minor units: some Sigma amounts are DOUBLE (rev rec)
        cents = exp.Mul(this=minor.copy(), expression=exp.Literal.number("0.01"))
        return (
            exp.case().when(whole, cast(minor, decimal(38, 2)), copy=False).else_(cents, copy=False)
        )
    if q.target in zero:
        return cast(v, decimal(38, 0))
    return exp.Mul(this=cast(v, Type.INT128), expression=exp.Literal.number("0.01"))


def _currency(q: CompileState, *aliases: str) -> exp.Expr | None:
    """The output row's original currency (the first side's that has one), if amounts keep it."""
    if q.target is not None:
        return None
    sides = [col("currency", a) for a in aliases]
    return sides[0] if len(sides) == 1 else fn("coalesce", *sides)


def _zero(m: Metric) -> exp.Expr:
    return exp.Null() if m.unit == "ratio" else exp.Literal.number(0)


def _with_zero(
    q: CompileState, m: Metric, v: exp.Expr, name: str, currency: exp.Expr | None = None
) -> exp.Alias:
    """`coalesce(fmt(v), 0) AS name` (NULL for a ratio): a key row shows even without data."""
    return named(fn("coalesce", _fmt(q, m, v, currency), _zero(m)), name)


def _keyed_values(
    q: CompileState, metrics: list[Metric], currency: exp.Expr | None
) -> list[exp.Alias]:
    """Values per key row: a metric joined to the others' keys counts a missing row as zero."""
    out = []
    for i, m in enumerate(metrics):
        v = col(f"v{i}", "c")
        zeroed = len(metrics) > 1 and m.unit != "ratio"
        value = _fmt(q, m, v, currency)
        out.append(_with_zero(q, m, v, m.name, currency) if zeroed else named(value, m.name))
    return out


def _joined(q: CompileState, names: list[str], alias: str, period: str | None) -> exp.Subquery:
    """A subquery with the keys and one value column per metric (v0, v1, ...).

    With several metrics the keys are every metric's (a period or breakdown value only a later
    metric has rows for is kept), each metric joined to them.
    """
    keys, first = q.keys, names[0]
    values = [named(col("v", n), f"v{i}") for i, n in enumerate(names)]
    distinct = list(dict.fromkeys(names))
    source: exp.Expr = table(first)
    base, joined = first, distinct[1:]
    if len(distinct) > 1:
        rows = [exp.select(*(col(k) for k in keys)).from_(table(n), copy=False) for n in distinct]
        source = exp.union(*rows, distinct=True, copy=False).subquery("keys", copy=False)
        base, joined = "keys", distinct
    select = exp.select(*(col(k, base) for k in keys), *values).from_(source, copy=False)
    for n in joined:
        select = select.join(
            join(table(n), null_safe_equal(keys, base, n), side="LEFT"), copy=False
        )
    if period:
        select = select.where(
            exp.EQ(this=col("period", base), expression=literal(period)), copy=False
        )
    return select.subquery(alias, copy=False)


def _raw(alias: str, i: int, coalesced: bool) -> exp.Expr:
    """`alias.v{i}`, or `coalesce(alias.v{i}, 0)` where a missing side counts as zero."""
    v = col(f"v{i}", alias)
    return fn("coalesce", v, exp.Literal.number(0)) if coalesced else v


def _comparison_values(
    q: CompileState, metrics: list[Metric], currency: exp.Expr | None
) -> list[exp.Alias]:
    """Per metric: its value, the previous one, the change and the change in percent."""
    out: list[exp.Alias] = []
    totals = q.frame.grain is None and not [d for d in q.keys if d != "period"]
    for i, m in enumerate(metrics):
        zeroed = totals and m.unit != "ratio"
        c, p = _raw("c", i, zeroed), _raw("p", i, zeroed)
        change = paren(exp.Sub(this=c.copy(), expression=p.copy()))
        pct = exp.Div(
            this=cast(change.copy(), Type.DOUBLE),
            expression=fn("nullif", fn("abs", p.copy()), exp.Literal.number(0)),
        )
        out += [
            named(_fmt(q, m, c, currency), m.name),
            named(_fmt(q, m, p, currency), f"{m.name}_previous"),
            named(_fmt(q, m, change, currency), f"{m.name}_change"),
            named(pct, f"{m.name}_change_pct"),
        ]
    return out


def _since_start(q: CompileState, alias: str) -> exp.Expr:
    """`alias.period >= CAST(date_trunc(grain, range start) AS DATE)`."""
    assert q.frame.grain
    start = cast(date_trunc(q.frame.grain, literal(q.frame.range.start)), Type.DATE)
    return exp.GTE(this=col("period", alias), expression=start)


def _series(q: CompileState, metrics: list[Metric], names: list[str]) -> exp.Select:
    """A time series: one row per period (and dimension), optionally beside an earlier one."""
    frame, dims = q.frame, [d for d in q.keys if d != "period"]
    head: list[exp.Expr] = [col("period", "c"), *(col(d, "c") for d in dims)]
    if q.plan.comparison is not None and frame.shift is not None:
        earlier = cast(
            exp.Sub(this=col("period", "c"), expression=interval(frame.shift[0])), Type.DATE
        )
        on = all_of(
            [
                exp.EQ(this=col("period", "p"), expression=earlier),
                *(exp.NullSafeEQ(this=col(d, "p"), expression=col(d, "c")) for d in dims),
            ]
        )
        select = exp.select(*head, *_comparison_values(q, metrics, _currency(q, "c")))
        select = select.from_(_joined(q, names, "c", None), copy=False)
        select = select.join(join(_joined(q, names, "p", None), on, side="LEFT"), copy=False)
        return select.where(_since_start(q, "c"), copy=False)
    if q.keys != ["period"]:
        values = _keyed_values(q, metrics, _currency(q, "c"))
        select = exp.select(*head, *values).from_(_joined(q, names, "c", None), copy=False)
        return select.where(_since_start(q, "c"), copy=False)
    # one row per bucket, empty buckets included
    buckets = periods(q)
    values = [_with_zero(q, m, col(f"v{i}", "c"), m.name) for i, m in enumerate(metrics)]
    select = exp.select(col("period", "k"), *values)
    select = select.from_(buckets.subquery("k", copy=False), copy=False)
    on = exp.EQ(this=col("period", "c"), expression=col("period", "k"))
    select = select.join(join(_joined(q, names, "c", None), on, side="LEFT"), copy=False)
    return select.where(_since_start(q, "k"), copy=False)


def _totals(q: CompileState, metrics: list[Metric], names: list[str]) -> exp.Select:
    """One row (or one per dimension) for the period, optionally beside the previous one."""
    dims = [d for d in q.keys if d != "period"]
    if q.plan.comparison is None:
        if dims:
            values = _keyed_values(q, metrics, _currency(q, "c"))
            select = exp.select(*(col(d, "c") for d in dims), *values)
            return select.from_(_joined(q, names, "c", "current"), copy=False)
        values = [_with_zero(q, m, col(f"v{i}", "c"), m.name) for i, m in enumerate(metrics)]
        keyed = exp.select(named(literal("current"), "period")).subquery("k", copy=False)
        on: exp.Expr = exp.EQ(this=col("period", "c"), expression=col("period", "k"))
        select = exp.select(*values).from_(keyed, copy=False)
        return select.join(join(_joined(q, names, "c", None), on, side="LEFT"), copy=False)
    values = _comparison_values(q, metrics, _currency(q, "c", "p"))
    current, previous = _joined(q, names, "c", "current"), _joined(q, names, "p", "previous")
    if not dims:
        one = exp.select(exp.Literal.number(1)).subquery("k", copy=False)
        select = exp.select(*values).from_(one, copy=False)
        select = select.join(join(current, exp.true(), side="LEFT"), copy=False)
        return select.join(join(previous, exp.true(), side="LEFT"), copy=False)
    head = [named(fn("coalesce", col(d, "c"), col(d, "p")), d) for d in dims]
    select = exp.select(*head, *values).from_(current, copy=False)
    on = null_safe_equal(dims, "p", "c")
    return select.join(join(previous, on, side="FULL", kind="OUTER"), copy=False)


def _ranked_series(select: exp.Select, rank: list[exp.Ordered], n: int) -> exp.Select:
    """The first n rows of each period by `rank`, ordered by period then rank.

    `SELECT cols FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY period ORDER BY rank) AS
    period_rank FROM (series) AS s) AS r WHERE period_rank <= n ORDER BY period, period_rank`.
    """
    outputs = select.named_selects
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col("period")],
        order=exp.Order(expressions=rank),
    )
    numbered = exp.select(exp.Star(), named(window, "period_rank"))
    numbered = numbered.from_(select.subquery("s", copy=False), copy=False)
    top = exp.LTE(this=col("period_rank"), expression=literal(n))
    ranked = exp.select(*(col(c) for c in outputs))
    ranked = ranked.from_(numbered.subquery("r", copy=False), copy=False)
    ranked = ranked.where(top, copy=False)
    return ranked.order_by(ordered(col("period")), ordered(col("period_rank")), copy=False)


def final_select(q: CompileState, metrics: list[Metric], names: list[str]) -> exp.Select:
    """The outer SELECT over the metric CTEs, ordered and limited as the plan asks.

    A ranking ranks the rows of the whole period, or within each period of a series.
    """
    plan, dims = q.plan, [d for d in q.keys if d != "period"]
    select = _series(q, metrics, names) if q.frame.grain else _totals(q, metrics, names)
    order: list[exp.Ordered] = []
    if q.frame.grain:
        order = [ordered(col("period")), *(ordered(col(d)) for d in dims)]
    elif dims:
        order = [ordered(col(metrics[0].name), desc=True), *(ordered(col(d)) for d in dims)]
    if plan.ranking is not None:
        by = plan.ranking.metric if plan.ranking.metric in plan.metrics else metrics[0].name
        rank = [
            ordered(col(by), desc=plan.ranking.direction == "top"),
            *(ordered(col(d)) for d in dims),
        ]
        if q.frame.grain:
            return _ranked_series(select, rank, plan.ranking.n)
        order = rank
    if order:
        select = select.order_by(*order, copy=False)
    limit = plan.ranking.n if plan.ranking else plan.limit
    if limit:
        select = select.limit(literal(limit), copy=False)
    return select
