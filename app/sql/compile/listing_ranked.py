"""Lists that keep some rows by rank: the first n of each group, every row of the first n parents.

Both rank in a subquery (row_number per group, dense_rank over the parents) and filter outside,
ordered by the sort value with the row key as the last tie-break.
"""

from __future__ import annotations

from sqlglot import exp

from app.core.plan import QueryPlan
from app.semantic.model import ListColumn
from app.sql.compile.sqlbuild import all_of, col, fragment, literal, named, ordered

RANK = "group_rank"
RANKED = "ranked"


def first_of_groups(
    plan: QueryPlan,
    base: exp.Select,
    where: list[exp.Expr],
    shown: list[ListColumn],
    group: ListColumn,
    sort_value: exp.Expr,
    key: ListColumn,
    desc: bool,
) -> exp.Select:
    """The first n rows of each group: row_number() in a subquery, filtered and ordered outside."""
    assert plan.per_group is not None
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[fragment(group.key or group.expr)],
        order=exp.Order(
            expressions=[ordered(sort_value.copy(), desc=desc), ordered(fragment(key.expr))]
        ),
        over="OVER",
    )
    inner = base.select(
        named(sort_value, "sort_value"), named(fragment(key.expr), "sort_key"), copy=False
    )
    inner = inner.select(named(window, RANK), copy=False)
    has_group = exp.Not(this=exp.Is(this=fragment(group.key or group.expr), expression=exp.Null()))
    inner = inner.where(all_of([*where, has_group]), copy=False)
    outer = exp.select(*(col(c.name, RANKED) for c in shown))
    outer = outer.from_(inner.subquery(RANKED, copy=False), copy=False)
    first_n = exp.LTE(this=col(RANK, RANKED), expression=literal(plan.per_group.n))
    outer = outer.where(first_n, copy=False)
    by = [ordered(col("sort_value", RANKED), desc=desc), ordered(col("sort_key", RANKED))]
    return outer.order_by(*by, copy=False)


def ranked_parents(
    plan: QueryPlan,
    base: exp.Select,
    where: list[exp.Expr],
    shown: list[ListColumn],
    parent: ListColumn,
    sort_value: exp.Expr,
    key: ListColumn,
    desc: bool,
) -> exp.Select:
    """Every row of the first n parents in `order`: dense_rank() over the parents, outside filtered.

    'The fee components of our 5 most recent transactions': each transaction ranked by its day
    (its id breaks ties), all of its components kept.
    """
    assert plan.limit is not None
    window = exp.Window(
        this=exp.Anonymous(this="dense_rank", expressions=[]),
        order=exp.Order(
            expressions=[ordered(sort_value.copy(), desc=desc), ordered(fragment(parent.expr))]
        ),
        over="OVER",
    )
    inner = base.select(
        named(sort_value, "sort_value"),
        named(fragment(parent.expr), "parent_key"),
        named(fragment(key.expr), "sort_key"),
        copy=False,
    )
    inner = inner.select(named(window, RANK), copy=False).where(all_of(where), copy=False)
    outer = exp.select(*(col(c.name, RANKED) for c in shown))
    outer = outer.from_(inner.subquery(RANKED, copy=False), copy=False)
    first_n = exp.LTE(this=col(RANK, RANKED), expression=literal(plan.limit))
    outer = outer.where(first_n, copy=False)
    by = [
        ordered(col("sort_value", RANKED), desc=desc),
        ordered(col("parent_key", RANKED)),
        ordered(col("sort_key", RANKED)),
    ]
    return outer.order_by(*by, copy=False)
