"""A list question's plan: its row count, columns, order and groups, then the QueryPlan itself.

`read_listing` (lists.py) reads the words; this module turns what it read into plan fields.
"""

from __future__ import annotations

from app.core.plan import Assumption, ListOrder, PerGroup, QueryPlan
from app.semantic.model import ListSpec, SemanticModel
from app.understand.list_columns import Columns
from app.understand.list_entity import CUSTOMERS, Entity
from app.understand.list_words import OrderWords, is_stripe_id
from app.understand.reading import Reading


def row_limit(
    order: OrderWords | None,
    count: tuple[int, int, int] | None,
    group: str | None,
    entity: Entity,
) -> int | None:
    """How many rows: the number said, one for 'the latest invoice', else the default."""
    if group is not None:
        return None
    if order is not None and order.n:
        return order.n
    if count is not None:
        return count[2]
    if order is not None and not entity.plural:
        return 1
    return None


def list_shape(
    spec: ListSpec,
    cols: Columns,
    order: OrderWords | None,
    group: str | None,
    entity: Entity,
    least: int | None = None,
    by_id: bool = False,
) -> tuple[tuple[str, ...], ListOrder | None, PerGroup | None]:
    """The plan's columns, order and groups from what was read.

    `least`: "customers with two or more failed charges" keeps groups with that many rows.
    `by_id`: the rows are picked by another object's Stripe id ("invoices of subscription
    sub_123"): a history of that object, in date order (newest first) unless told otherwise.
    """
    plan_order = None
    if order is not None:
        column = spec.recent if order.recent else (spec.order or spec.recent)
        plan_order = ListOrder(column=column, direction="desc" if order.desc else "asc")
    per_group = None
    if group is not None:
        per_group = PerGroup(column=group, n=(order.n if order and order.n else 1))
    names = list(cols.names)
    if entity.subject and entity.name != CUSTOMERS and spec.column("customer") is not None:
        if (cols.counted or least) and order is None:  # "customers with two or more failed ..."
            names = [n for n in names if n != "customer"]
            per_group = PerGroup(column="customer", count=True, at_least=least)
            return tuple(names or ("customer_id",)), None, per_group
        if all(spec.describes(n, "customer") for n in names) and order is None:
            per_group = PerGroup(column="customer")
            plan_order = ListOrder(column="customer", direction="asc")
            return tuple(names or ("customer", "customer_id")), plan_order, per_group
        names = ["customer", *names]
    elif names and not cols.exact:
        names = [*spec.base, *names]
    if by_id:
        plan_order = plan_order or ListOrder(column=spec.recent, direction="desc")
    if names and plan_order is not None and plan_order.column not in names:
        names.append(plan_order.column)
    return tuple(dict.fromkeys(names)), plan_order, per_group


def list_plan(r: Reading, listing: str, model: SemanticModel) -> QueryPlan:
    """A row-by-row list plan; filters the listed table can't reach are dropped."""
    spec = model.lists[listing]
    state_words_ = set(spec.states)
    keep = []
    notes = list(r.assumptions)
    for f in (*r.list_filters, *r.filters):
        if f.dimension in ("state", "amount") or (
            f.dimension not in model.dimensions and model.list_column(spec, f.dimension) is not None
        ):
            keep.append(f)  # a state, an amount, or a catalogue column (an id)
            continue
        dim = model.dimensions.get(f.dimension)
        if dim is None or dim.table == "*":
            continue
        if model.join_path(spec.table, dim.table, spec.joins) is None:
            continue
        if (
            dim.values
            and isinstance(dim.values, dict)
            and any(w in state_words_ for vals in dim.values.values() for w in vals)
        ):
            continue
        keep.append(f)
    if r.threshold is not None and spec.amount is not None:
        keep.append(r.threshold)
    elif r.threshold is not None:
        text = f"{spec.label} have no amount to compare; the amount condition is not applied."
        notes.append(Assumption(key="list_threshold_ignored", text=text))
    return QueryPlan(
        metrics=("gross_volume",),
        listing=listing,
        filters=tuple(keep),
        time=r.range,
        limit=r.list_limit,  # none said: every row, up to the max_rows setting (which says so)
        columns=_with_state_time(r, spec),
        order=r.list_order,
        per_group=r.list_group,
        limit_by=r.list_limit_by,
        stripe_ids=any(f.dimension != spec.key and is_stripe_id(f.values) for f in r.list_filters),
        assumptions=tuple(notes),
        chart="none",
    )


def _with_state_time(r: Reading, spec: ListSpec) -> tuple[str, ...]:
    """The columns, with the day a state began when the period applies to it ('canceled in May')."""
    states = [
        str(f.values[0]) for f in r.list_filters if f.dimension == "state" and len(f.values) == 1
    ]
    when = next((spec.state_times[s] for s in states if s in spec.state_times), None)
    column = next((c.name for c in spec.columns if c.local and c.expr == when), None)
    if r.range is None or column is None or column in r.list_columns:
        return r.list_columns
    return (*(r.list_columns or spec.default), column)
