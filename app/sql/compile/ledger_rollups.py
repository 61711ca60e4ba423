"""Attributed rollups of the MRR ledger: breakdowns of its stocks without grouping every item.

A stock of the ledger split by plan is each subscription item's running total at the point,
attributed to the item's latest price (app/sql/compile/ledger.py): the facts path groups every
event up to the point by item. An attributed rollup (`attributed: true` in rollups.yaml) holds
instead, per account, local day, currency and dimension values, the change of those attributed
totals: on each day an item changes, `+` its running total at the end of the day under its
dimensions of that day, `-` its running total at its previous change under the dimensions of
then, and ±1 item. Summed over the days up to a point, an item's rows telescope to its total at
the point under its dimensions at the point, so the sums per group are the facts path's, and a
group holds an item exactly when its item count is positive. Its dimensions are the price's
(the item's latest) or the customer's (an item's customer never changes).
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from app.semantic.model import Metric, SemanticModel
from app.semantic.rollups import Rollup
from app.sql.compile.breakdown import dim_expr
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    fn,
    fragment,
    group_by_all,
    literal,
    named,
    ordered,
    scan,
    table,
)
from app.sql.compile.state import CompileState

LEDGER = "subscription_item_change_events"
_TENANT = "merchant_id"


def _per_day(served: list[Metric]) -> exp.Select:
    """Per item and local day: its currency, customer, price at the end of the day, changes."""
    ts = col("local_event_timestamp", LEDGER)
    select = [
        col(_TENANT, LEDGER),
        col("subscription_item_id", LEDGER),
        named(cast(ts, Type.DATE), "local_day"),
        col("currency", LEDGER),
        named(fn("any_value", col("customer_id", LEDGER)), "customer_id"),
        named(fn("arg_max", col("price_id", LEDGER), ts.copy()), "price_id"),
        *(named(fragment(m.measure or ""), f"d_{m.name}") for m in served),
    ]
    keys = [col(_TENANT, LEDGER), col("subscription_item_id", LEDGER), cast(ts, Type.DATE)]
    query = exp.select(*select).from_(table(LEDGER), copy=False)
    return query.group_by(*keys, col("currency", LEDGER), copy=False)


def _states(served: list[Metric]) -> exp.Select:
    """Each item-day with its running totals, and its previous change's price and totals."""
    over = exp.Window(
        partition_by=[col(_TENANT), col("subscription_item_id")],
        order=exp.Order(expressions=[ordered(col("local_day"))]),
    )

    def windowed(func: exp.Expr) -> exp.Expr:
        w = over.copy()
        w.set("this", func)
        return w

    running = [named(windowed(fn("sum", col(f"d_{m.name}"))), f"v_{m.name}") for m in served]
    select = [
        col(_TENANT),
        col("subscription_item_id"),
        col("local_day"),
        col("currency"),
        col("customer_id"),
        col("price_id"),
        named(windowed(fn("lag", col("price_id"))), "prev_price_id"),
        named(windowed(fn("row_number")), "nth"),
        *running,
    ]
    return exp.select(*select).from_(_per_day(served).subquery("d", copy=False), copy=False)


def _changes(served: list[Metric], states: exp.Select) -> exp.Select:
    """Per state, a `+` row (its totals, today's price) and, after the first, a `-` row (before)."""
    over = exp.Window(
        partition_by=[col(_TENANT), col("subscription_item_id")],
        order=exp.Order(expressions=[ordered(col("local_day"))]),
    )
    lagged = []
    for m in served:
        w = over.copy()
        w.set("this", fn("lag", col(f"v_{m.name}")))
        lagged.append(named(w, f"p_{m.name}"))
    with_prev = exp.select(exp.Star(), *lagged).from_(states.subquery("t", copy=False))
    plus = exp.EQ(this=col("sign", "k"), expression=exp.Literal.number(1))

    def either(now: exp.Expr, before: exp.Expr) -> exp.Expr:
        return exp.case().when(plus.copy(), now).else_(before)

    select: list[exp.Expr] = [
        col(_TENANT),
        col("local_day"),
        col("currency"),
        col("customer_id"),
        named(either(col("price_id"), col("prev_price_id")), "price_id"),
        named(col("sign", "k"), "items"),
        *(
            named(either(col(f"v_{m.name}"), exp.Neg(this=col(f"p_{m.name}"))), f"v_{m.name}")
            for m in served
        ),
    ]
    signs = exp.values([(1,), (-1,)], alias="k", columns=["sign"])
    first = exp.GT(this=col("nth"), expression=exp.Literal.number(1))
    query = exp.select(*select).from_(with_prev.subquery("s", copy=False), copy=False)
    query = query.join(signs, join_type="CROSS", copy=False)
    return query.where(exp.or_(plus, first, copy=False), copy=False)


def attributed_select(model: SemanticModel, r: Rollup) -> exp.Select:
    """The SELECT (all accounts) of an attributed rollup's rows, sorted by account and day."""
    served = [model.metrics[n] for n in r.metrics]
    changes = _changes(served, _states(served))
    dims = [(name, dim_expr(model.dimensions[name], LEDGER, model)) for name in r.dimensions]
    select = [
        named(col(_TENANT, LEDGER), _TENANT),
        named(col("local_day", LEDGER), "local_day"),
        named(col("currency", LEDGER), "currency"),
        *(named(e, n) for n, e in dims),
    ]
    for m in served:
        select.append(named(fn("sum", col(f"v_{m.name}", LEDGER)), f"v_{m.name}"))
        select.append(named(fn("sum", col("items", LEDGER)), f"n_{m.name}"))
    sources = [model.dimensions[name].expr for name in r.dimensions]
    query = scan(exp.select(*select), model, LEDGER, sources)
    query.set("from_", exp.From(this=changes.subquery(LEDGER, copy=False)))
    for j in query.args.get("joins") or []:  # facts are joined within their account
        joined = j.this.alias_or_name
        same = exp.EQ(this=col(_TENANT, joined), expression=col(_TENANT, LEDGER))
        j.set("on", exp.and_(j.args["on"], same, copy=False))
    on = exp.EQ(this=col("id", "accounts"), expression=col(_TENANT, LEDGER))
    query = query.join(exp.Join(this=table("accounts"), on=on), copy=False)
    query = group_by_all(query)
    return query.order_by(ordered(col(_TENANT)), ordered(col("local_day")), copy=False)


def attributed_totals(
    q: CompileState, m: Metric, r: Rollup, at: tuple[str, date], filters: list[exp.Expr]
) -> exp.Select:
    """The stock's totals at each point (CTE, last day) by the plan's dimensions, from rollup r.

    `SELECT p.period, p.point, dims, currency, sum(v) FROM points p JOIN rollup ON local_day <=
    p.point WHERE filters GROUP BY ALL HAVING sum(items) > 0`: the facts path's `_dims` rows.
    """
    points, last = at
    src = r.table
    day = col("local_day", src)
    keeps_currency = m.unit == "money" or q.target is None
    select = exp.select(
        col("period", "p"),
        col("point", "p"),
        *(named(col(name, src), name) for name in q.dim_names),
        *([named(col("currency", src), "currency")] if keeps_currency else []),
        named(fn("sum", col(f"v_{m.name}", src)), "v"),
    ).from_(table(points, alias="p"), copy=False)
    on = exp.LTE(this=day, expression=col("point", "p"))
    select = select.join(exp.Join(this=table(src), on=on), copy=False)
    where = [exp.LTE(this=day.copy(), expression=literal(last)), *filters]
    select = group_by_all(select.where(*where, copy=False))
    items = exp.GT(this=fn("sum", col(f"n_{m.name}", src)), expression=exp.Literal.number(0))
    return select.having(items, copy=False)
