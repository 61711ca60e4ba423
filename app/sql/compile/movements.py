"""MRR movements: each customer's MRR change in a month, classified the way Stripe classifies it.

Per customer (and currency) and month, the MRR at the end of the month is compared with the MRR
at the end of the previous month (dbt_stripe's customer MRR analysis):

    new           no MRR event before the month, MRR at its end > 0
    reactivation  MRR 0 at the end of the previous month (after earlier events), > 0 now
    expansion     MRR grew from a positive amount
    contraction   MRR fell and stayed positive
    churned       MRR fell from a positive amount to 0

A movement's amount is the change (contraction and churn shown positive), so per currency
new + expansion − contraction − churned + reactivation is the MRR change over the period. A
period is cut into calendar months (the last one ends on the as-of day at the latest); a longer
bucket sums its months' amounts and counts each customer once. Amounts are converted with the
rates of the day each month's MRR is read, as MRR itself is. A movement is a customer's, so it
breaks down and filters only by customer attributes (and currency).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from app.core.errors import CompileError
from app.core.plan import Assumption
from app.semantic.model import Metric
from app.sql.compile.breakdown import dim_exprs, dim_fragments, filter_conditions, filter_fragments
from app.sql.compile.money import convert, sum_by_keys
from app.sql.compile.sqlbuild import (
    Type,
    all_of,
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
from app.sql.compile.timeframe import local_expr, step, trunc, utc_bounds

_LOSSES = ("contraction", "churned")


def movement(q: CompileState, m: Metric) -> str:
    """Add the CTEs of one movement metric per key; return the last one's name."""
    assert m.table and m.movement and m.entity
    _check_breakdown(q, m)
    classified = classified_months(q, m)
    entity, currency = _column(m.entity), _column(m.currency) if m.currency else None
    is_kind = exp.EQ(this=col("movement", m.table), expression=literal(m.movement))
    value: exp.Expr
    if m.unit == "count":
        picked = exp.case().when(is_kind, col(entity, m.table), copy=False)
        value = fn("count", exp.Distinct(expressions=[picked]))
    else:
        change: exp.Expr = col("change", m.table)
        if m.movement in _LOSSES:  # shown as a positive amount
            change = exp.Neg(this=change)
        summed = fn("sum", exp.case().when(is_kind, change, copy=False))
        value = fn("coalesce", summed, exp.Literal.number(0))
    select = [named(col("period", m.table), "period"), *(named(e, n) for n, e in dim_exprs(q, m))]
    if m.unit == "money":
        assert currency
        day = exp.Add(this=col("point", m.table), expression=exp.Literal.number(1))
        select += [named(col(currency, m.table), "currency"), named(day, "day")]
    select.append(named(value, "v"))
    moved = exp.Not(this=exp.Is(this=col("movement", m.table), expression=exp.Null()))
    sources = [*dim_fragments(q), *filter_fragments(q)]
    rows = scan(exp.select(*select), q.ctx.model, m.table, sources, alias_source=classified)
    rows = rows.where(all_of([moved, *filter_conditions(q, m)]), copy=False)
    base = q.cte(f"m_{m.name}_rows", group_by_all(rows))
    if m.unit != "money":
        return q.cte(f"m_{m.name}", sum_by_keys(q, base))
    if q.target is not None and not any(n.key == "movement_conversion" for n in q.notes):
        text = (
            "MRR movements are converted with the rates of the day each month's MRR is read "
            "(the month's last day, or the as-of day)."
        )
        q.notes.append(Assumption(key="movement_conversion", text=text))
    return convert(q, base, f"m_{m.name}")


def classified_months(q: CompileState, m: Metric) -> str:
    """The CTE of each customer-month's MRR before and after, change and kind (built once)."""
    key = ("movements", m.table, m.measure, m.entity, m.time, m.currency, m.where)
    return q.once(key, lambda: _classify(q, m))


def check_breakdown(q: CompileState, m: Metric) -> None:
    """Movements are a customer's: only customer attributes (and currency) break them down."""
    _check_breakdown(q, m)


def _check_breakdown(q: CompileState, m: Metric) -> None:
    """Movements are a customer's: only customer attributes (and currency) break them down."""
    assert m.entity
    model, column = q.ctx.model, _column(m.entity)
    owner = next((j.to for j in model.joins if (j.from_, j.column) == (m.table, column)), None)
    names = [*q.dim_names, *(f.dimension for f in q.plan.filters if f.dimension != "currency")]
    for name in names:
        dim = model.dimensions.get(name)
        if dim is None or dim.table == "*" or owner is None:
            reached = False
        else:
            reached = model.join_path(owner, dim.table) is not None
        if not reached:
            label = dim.label.lower() if dim else name
            raise CompileError(
                f"{m.label} is classified per customer, so it can't be split by {label}; "
                "break it down by a customer attribute (customer, country, state) or currency"
            )


def _month_slices(q: CompileState) -> list[tuple[date | str, date, date]]:
    """(bucket label, day before the month slice, day its MRR is read) for each month slice."""
    out: list[tuple[date | str, date, date]] = []
    for b in q.frame.buckets:
        start = b.start
        while start < b.end and start <= q.ctx.as_of:
            end = min(step(trunc(start, "month"), "month"), b.end)
            out.append((b.label, start - timedelta(days=1), min(end - timedelta(days=1), b.point)))
            start = end
    if not out:
        raise CompileError("the period starts after the as-of date")
    return out


def _classify(q: CompileState, m: Metric) -> str:
    """Per (month slice, customer, currency): the MRR change and its movement kind."""
    assert m.table and m.measure and m.time and m.entity
    measure = fragment(m.measure)
    if not isinstance(measure, exp.AggFunc):
        raise CompileError(f"{m.label}: a movement's measure must be one aggregate")
    slices = _month_slices(q)
    rows = [
        exp.select(
            named(literal(label), "period"),
            named(literal(prior), "prior"),
            named(literal(point), "point"),
        )
        for label, prior, point in slices
    ]
    union = rows[0] if len(rows) == 1 else exp.union(*rows, distinct=False, copy=False)
    n = sum(name.startswith("movement_classified") for name, _ in q.ctes)
    suffix = f"_{n}" if n else ""
    months = q.cte(f"movement_months{suffix}", union)
    tz = q.ctx.account.timezone
    day = cast(local_expr(m.time, m.time_zone, tz), Type.DATE)
    keys = [_column(m.entity), *([_column(m.currency)] if m.currency else [])]
    sources = [m.entity, *([m.currency] if m.currency else [])]
    before = exp.Filter(
        this=measure.copy(),
        expression=exp.Where(this=exp.LTE(this=day.copy(), expression=col("prior", "mo"))),
    )
    select = exp.select(
        col("period", "mo"),
        col("point", "mo"),
        *(named(fragment(e), k) for e, k in zip(sources, keys, strict=True)),
        named(before, "mrr_before"),
        named(measure, "mrr_after"),
    ).from_(table(months, alias="mo"), copy=False)
    on = exp.LTE(this=day, expression=col("point", "mo"))
    select = select.join(join(table(m.table), on), copy=False)
    last = max(point for _, _, point in slices) + timedelta(days=1)
    upper = utc_bounds(last, last, m.time_zone, tz)[0]
    as_of_end = literal(q.frame.as_of_end_utc)
    where: list[exp.Expr] = [exp.LT(this=fragment(m.time), expression=literal(upper))]
    where += [fragment(w, as_of_end=as_of_end) for w in m.where]
    per_customer = group_by_all(select.where(*where, copy=False))
    customers = q.cte(f"movement_customers{suffix}", per_customer)
    return q.cte(f"movement_classified{suffix}", _classified(customers, keys))


def _classified(customers: str, keys: list[str]) -> exp.Select:
    """The movement kind of each customer-month (NULL: unchanged) and its MRR change."""
    before, after, zero = col("mrr_before"), col("mrr_after"), exp.Literal.number(0)

    def gt(a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.GT(this=a.copy(), expression=b.copy())

    def eq(a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.EQ(this=a.copy(), expression=b.copy())

    kinds: list[tuple[exp.Expr, str]] = [
        (all_of([exp.Is(this=before.copy(), expression=exp.Null()), gt(after, zero)]), "new"),
        (all_of([eq(before, zero), gt(after, zero)]), "reactivation"),
        (gt(after, before), "expansion"),
        (all_of([gt(before, after), gt(after, zero)]), "contraction"),
        (all_of([eq(after, zero), gt(before, zero)]), "churned"),
    ]
    kind = exp.case()
    for condition, name in kinds:
        kind = kind.when(condition, literal(name), copy=False)
    change = exp.Sub(this=after.copy(), expression=fn("coalesce", before.copy(), zero.copy()))
    select = exp.select(
        col("period"),
        col("point"),
        *(col(k) for k in keys),
        named(kind, "movement"),
        named(change, "change"),
        col("mrr_before"),
        col("mrr_after"),
    )
    return select.from_(table(customers), copy=False)


def _column(fragment_sql: str) -> str:
    """The column name of a one-column model fragment (`table.customer_id` → customer_id)."""
    column = fragment(fragment_sql)
    if not isinstance(column, exp.Column):
        raise CompileError(f"expected a column, got {fragment_sql}")
    return column.name
