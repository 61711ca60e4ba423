"""Ranked rollups: the first and last N keys of each calendar year, ranked ahead of time.

A ranking of customers by revenue over a year must sum every customer's year to know the first
ten, so even a per-customer daily rollup reads one row per customer, currency and day: the cost
grows with the customers. A ranked rollup (`ranked: N` in rollups.yaml) holds, per account, local
calendar year, served metric and direction (`top`, `bottom`), the first N keys in the order the
compiler ranks them (the year's total converted into the account's default currency with each
day's rate, exactly as app/sql/compile/money.py converts, descending or ascending, then the keys
ascending), so "top 10 customers by revenue in 2025" reads ten rows. It serves only plans that
rank one served metric by exactly its dimensions over one whole local calendar year, unfiltered,
in the account's default currency, for at most N keys; every other plan reads the daily rollups
or the facts.
"""

from __future__ import annotations

from sqlglot import exp

from app.semantic.model import Metric, SemanticModel
from app.semantic.rollups import Rollup
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    date_trunc,
    fn,
    in_list,
    literal,
    literals,
    named,
    ordered,
    paren,
    table,
)
from app.sql.compile.state import CompileState

FX_SOURCE = "exchange_rates_from_usd"  # as money.py: each day's rates, applied the next day
_TENANT = "merchant_id"
DIRECTIONS = ("top", "bottom")


def _rate(path: exp.Expr) -> exp.Expr:
    return cast(exp.JSONExtractScalar(this=col("rates", "fx"), expression=path), Type.DOUBLE)


def _converted(model: SemanticModel, v: exp.Expr) -> exp.Expr:
    """`d`'s amount in the account's currency (`a.default_currency`), as money.convert_value."""
    zero = literals(model.zero_decimal_currencies)
    currency, target = col("currency", "d"), col("default_currency", "a")

    def factor(of: exp.Expr) -> exp.Expr:
        return paren(
            exp.case()
            .when(in_list(of, [z.copy() for z in zero]), exp.Literal.number(100))
            .else_(exp.Literal.number(1))
        )

    def path(of: exp.Expr) -> exp.Expr:
        return exp.DPipe(this=exp.Literal.string("$."), expression=of, safe=True)

    scaled: exp.Expr = exp.Mul(this=v.copy(), expression=factor(currency.copy()))
    scaled = exp.Mul(this=scaled, expression=_rate(path(target.copy())))
    scaled = exp.Div(this=scaled, expression=_rate(path(currency.copy())))
    scaled = exp.Div(this=scaled, expression=factor(target.copy()))
    same = exp.EQ(this=currency.copy(), expression=target.copy())
    return exp.case().when(same, v.copy()).else_(cast(fn("round", scaled), Type.INT128))


def _yearly(
    model: SemanticModel, daily: exp.Select, metrics: list[Metric], keys: list[str]
) -> exp.Select:
    """Per account, local year and key: each metric's year converted as the compiler does."""
    fx = exp.select(
        col(_TENANT, FX_SOURCE),
        named(exp.Add(this=cast(col("date", FX_SOURCE), Type.DATE), expression=literal(1)), "day"),
        named(col("buy_currency_exchange_rates", FX_SOURCE), "rates"),
    ).from_(table(FX_SOURCE), copy=False)
    last = exp.select(col(_TENANT), named(fn("max", col("day")), "day"))
    last = last.from_(fx.subquery("f"), copy=False).group_by(col(_TENANT), copy=False)
    sums: list[exp.Expr] = []
    for m in metrics:
        rows = exp.Where(this=exp.GT(this=col(f"n_{m.name}", "d"), expression=literal(0)))
        total = fn("sum", _converted(model, col(f"v_{m.name}", "d")))
        sums.append(named(exp.Filter(this=total, expression=rows), f"v_{m.name}"))
        count = exp.Filter(this=fn("count", exp.Star()), expression=rows.copy())
        sums.append(named(count, f"n_{m.name}"))
    select = exp.select(
        col(_TENANT, "d"),
        named(cast(date_trunc("year", col("local_day", "d")), Type.DATE), "year"),
        named(col("default_currency", "a"), "currency"),
        *(col(k, "d") for k in keys),
        *sums,
    ).from_(daily.subquery("d"), copy=False)
    same = exp.EQ(this=col("id", "a"), expression=col(_TENANT, "d"))
    select = select.join(table("accounts", alias="a"), on=same, copy=False)
    on_last = exp.EQ(this=col(_TENANT, "l"), expression=col(_TENANT, "d"))
    select = select.join(last.subquery("l"), on=on_last, copy=False)
    on_fx = exp.and_(
        exp.EQ(this=col(_TENANT, "fx"), expression=col(_TENANT, "d")),
        exp.EQ(this=col("day", "fx"), expression=fn("least", col("day", "d"), col("day", "l"))),
    )
    select = select.join(fx.subquery("fx"), on=on_fx, join_type="LEFT", copy=False)
    return select.group_by(*(exp.Literal.number(i) for i in range(1, 4 + len(keys))), copy=False)


_YEARLY = "yearly"  # the CTE of every metric's yearly totals, computed once


def ranked_select(
    model: SemanticModel, r: Rollup, daily: exp.Select, keys: list[str]
) -> exp.Select:
    """The SELECT of a ranked rollup's rows: the first `r.ranked` keys per year, metric, direction.

    `daily` is the daily rollup's SELECT of the same metrics and dimensions (its `keys` columns).
    """
    assert r.ranked
    metrics = [model.metrics[n] for n in r.metrics]
    parts = []
    for m in metrics:
        for direction in DIRECTIONS:
            v = col(f"v_{m.name}")
            order = [ordered(v, desc=direction == "top"), *(ordered(col(k)) for k in keys)]
            window = exp.Window(
                this=exp.RowNumber(),
                partition_by=[col(_TENANT), col("year")],
                order=exp.Order(expressions=order),
            )
            has_rows = exp.GT(this=col(f"n_{m.name}"), expression=literal(0))
            ranked = exp.select(exp.Star(), named(window, "rank")).from_(_YEARLY, copy=False)
            ranked = ranked.where(has_rows, copy=False)
            parts.append(
                exp.select(
                    col(_TENANT),
                    col("year"),
                    col("currency"),
                    named(literal(m.name), "metric"),
                    named(literal(direction), "direction"),
                    col("rank"),
                    *(col(k) for k in keys),
                    named(v.copy(), "v"),
                )
                .from_(ranked.subquery("k"), copy=False)
                .where(exp.LTE(this=col("rank"), expression=literal(r.ranked)), copy=False)
            )
    union = parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False)
    order = [ordered(col(c)) for c in (_TENANT, "metric", "year", "direction", "rank")]
    query = exp.select(exp.Star()).from_(union.subquery("u"), copy=False).order_by(*order)
    return query.with_(_YEARLY, _yearly(model, daily, metrics, keys), materialized=True)


def ranked_rows(q: CompileState, m: Metric) -> exp.Select | None:
    """A ranking's rows read from a fresh ranked rollup that holds it exactly, or None.

    `SELECT 'label' AS period, keys, v FROM rollup WHERE metric = m AND year = start AND
    direction = d AND rank <= n`: the first n rows of the year in the final order, with their
    converted totals; the final SELECT orders and limits them as it would all of them.
    """
    plan, frame = q.plan, q.frame
    ranking = plan.ranking
    if ranking is None or ranking.metric != m.name or list(plan.metrics) != [m.name]:
        return None
    if plan.filters or frame.grain or len(frame.buckets) != 1 or q.target != q.ctx.account.currency:
        return None
    bucket = frame.buckets[0]
    start, end = bucket.start, bucket.end
    whole_year = (start.month, start.day, end.month, end.day) == (1, 1, 1, 1)
    if not whole_year or end.year != start.year + 1 or frame.scan_range != (start, end):
        return None
    for r in q.ctx.model.rollups.values():
        if not r.ranked or r.name not in q.ctx.rollups or m.name not in r.metrics:
            continue
        if set(q.dim_names) != set(r.dimensions) or ranking.n > r.ranked:
            continue
        src = r.table
        where = [
            exp.EQ(this=col("metric", src), expression=literal(m.name)),
            exp.EQ(this=col("year", src), expression=literal(start)),
            exp.EQ(this=col("direction", src), expression=literal(ranking.direction)),
            exp.LTE(this=col("rank", src), expression=literal(ranking.n)),
        ]
        select = exp.select(
            named(literal(bucket.label), "period"),
            *(named(col(c, src), c) for c in q.dim_cols),
            named(col("v", src), "v"),
        )
        return select.from_(table(src), copy=False).where(*where, copy=False)
    return None
