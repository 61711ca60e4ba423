"""Stocks of the MRR ledger (subscription item change events), attributed per item at each point."""

from __future__ import annotations

from sqlglot import exp

from app.semantic.model import Metric, tables_in
from app.sql.compile.breakdown import dim_exprs, dim_fragments, filter_conditions, filter_fragments
from app.sql.compile.ledger_rollups import attributed_totals
from app.sql.compile.money import convert_stock, sum_by_keys
from app.sql.compile.points import before_last_point, points, points_cte
from app.sql.compile.rollups import covering, plan_filters, running_totals
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

LEDGER = "subscription_item_change_events"
_ITEM_COLUMNS = ("price_id", "customer_id", "subscription_id", "product_id", "currency")
# An item belongs to one subscription, customer and currency for life: grouping by them is the
# same grouping as by item alone, and cheaper than carrying them through any_value().
_ITEM_KEYS = ("customer_id", "subscription_id", "currency")


def _item_column(name: str) -> exp.Expr:
    """A per-item column: the price at the point is the item's latest, the product any of it."""
    if name == "price_id":
        return fn("arg_max", col("price_id", LEDGER), col("local_event_timestamp", LEDGER))
    if name == "product_id":
        return fn("any_value", col("product_id", LEDGER))
    return col(name, LEDGER)


def _item_columns(q: CompileState, m: Metric, sources: list[str]) -> list[str]:
    """The per-item columns a breakdown, filter or entity count reads (joins included)."""
    used = " ".join([*sources, m.entity or ""])
    needed = {c for c in _ITEM_COLUMNS if f"{LEDGER}.{c}" in used}
    for t in sorted({t for e in [*sources, m.entity or ""] if e for t in tables_in(e)} - {LEDGER}):
        path = q.ctx.model.join_path(LEDGER, t) or []
        needed |= {j.column for j in path if j.from_ == LEDGER}
    currency_filter = any(f.dimension == "currency" for f in q.plan.filters)
    if m.unit == "money" or q.target is None or currency_filter:
        needed.add("currency")
    return [c for c in _ITEM_COLUMNS if c in needed]


def _upto_points(q: CompileState, m: Metric, at: str, *select: exp.Expr) -> exp.Select:
    """`SELECT ... FROM points AS p JOIN ledger ON local day <= p.point WHERE conditions`."""
    day = cast(col("local_event_timestamp", LEDGER), Type.DATE)
    on = exp.LTE(this=day, expression=col("point", "p"))
    as_of_end = literal(q.frame.as_of_end_utc)
    where = [fragment(w, as_of_end=as_of_end) for w in m.where]
    where.append(before_last_point(q, m, at))
    query = exp.select(*select).from_(table(points_cte(q, at), alias="p"), copy=False)
    return query.join(join(table(LEDGER), on), copy=False).where(*where, copy=False)


def _items(q: CompileState, m: Metric, at: str, columns: list[str]) -> str:
    """Per (point, subscription item): the columns asked for and the item's running measure.

    Metrics with the same measure, conditions and columns share one CTE, so the range join over
    the ledger runs once.
    """
    assert m.measure
    key = ("ledger_items", at, m.measure, m.where, m.time, m.time_zone, *columns)
    if key in q.memo:
        return q.memo[key]
    query = _upto_points(
        q,
        m,
        at,
        col("period", "p"),
        col("point", "p"),
        col("subscription_item_id", LEDGER),
        *(named(_item_column(c), c) for c in columns),
        named(fragment(m.measure), "v"),
    )
    keys = [col(c, LEDGER) for c in columns if c in _ITEM_KEYS]
    group = [col("period", "p"), col("point", "p"), col("subscription_item_id", LEDGER), *keys]
    query = query.group_by(*group, copy=False)
    count = sum(n.startswith("sice_items_") for n, _ in q.ctes)
    q.memo[key] = q.cte(f"sice_items_{at}_{count}", query)
    return q.memo[key]


def ledger_stock(q: CompileState, m: Metric, at: str = "end") -> str:
    """MRR-ledger stocks per subscription item, attributed to the item's price at the point."""
    assert m.measure
    name = f"m_{m.name}_{at}"
    dims = dim_exprs(q, m)
    filters = filter_conditions(q, m)
    money = m.unit == "money"
    keeps_currency = money or q.target is None  # converted, or kept per original currency
    currency = [named(col("currency", LEDGER), "currency")] if keeps_currency else []
    if not dims and not filters and not m.entity:
        # Totals need no per-item attribution: sum the ledger up to each point directly
        # (the same running total, without grouping every item at every point).
        period, point = col("period", "p"), col("point", "p")
        totals = _upto_points(q, m, at, period, point, *currency, named(fragment(m.measure), "v"))
        rolled = running_totals(q, m, points_cte(q, at), max(points(q, at)))
        base = q.cte(f"{name}_dims", rolled or group_by_all(totals))
    elif m.entity and not dims and not filters:
        # A count of entities with a positive balance: the entity's own running total (the
        # definition, e.g. customers with positive MRR), no per-item attribution needed.
        per_entity = _upto_points(
            q,
            m,
            at,
            col("period", "p"),
            col("point", "p"),
            named(fragment(m.entity), "entity"),
            *currency,
            named(fragment(m.measure), "v"),
        )
        positive = exp.GT(this=col("v", "e"), expression=exp.Literal.number(0))
        count = exp.Filter(this=fn("count", exp.Star()), expression=exp.Where(this=positive))
        per_currency = [col("currency", "e")] if currency else []
        counts = exp.select(col("period", "e"), col("point", "e"), *per_currency, named(count, "v"))
        counts = counts.from_(group_by_all(per_entity).subquery("e", copy=False), copy=False)
        base = q.cte(f"{name}_dims", group_by_all(counts))
        return q.cte(name, sum_by_keys(q, base))
    elif not m.entity and (r := covering(q, m, attributed=True)) is not None:
        # Each item's total attributed to its latest price or customer, summed ahead per day.
        at_points = (points_cte(q, at), max(points(q, at)))
        rolled = attributed_totals(q, m, r, at_points, plan_filters(q, m, r.table))
        base = q.cte(f"{name}_dims", rolled)
    else:
        sources = [*dim_fragments(q), *filter_fragments(q)]
        items = _items(q, m, at, _item_columns(q, m, sources))
        value: exp.Expr
        if m.entity:
            positive = exp.GT(this=col("v", LEDGER), expression=exp.Literal.number(0))
            distinct = fn("count", exp.Distinct(expressions=[fragment(m.entity)]))
            value = exp.Filter(this=distinct, expression=exp.Where(this=positive))
        else:
            value = fn("sum", col("v", LEDGER))
        select = exp.select(
            col("period", LEDGER),
            col("point", LEDGER),
            *(named(e, n) for n, e in dims),
            *currency,
            named(value, "v"),
        )
        query = scan(select, q.ctx.model, LEDGER, sources, alias_source=items)
        base = q.cte(f"{name}_dims", group_by_all(query.where(all_of(filters), copy=False)))
    if not money:
        return q.cte(name, sum_by_keys(q, base))
    return convert_stock(q, base, name)
