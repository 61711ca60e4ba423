"""Compile row-by-row lists ("unpaid invoices over $1,000", "the 5 most recent failed charges").

A list is one SELECT over the entity's table with its many-to-one joins (so it has one row per
entity row), the chosen catalogue columns, the filters, an order with the row key as the last
tie-break, a limit, and optionally the first n rows of each group (a window in a subquery).
Money stays in each row's own currency, exact.
"""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import Assumption, ListOrder, QueryPlan
from app.semantic.model import Join, ListColumn, ListSpec, SemanticModel, tables_in
from app.sql.compile.listing_parts import compare, describe, notes, state_time, threshold
from app.sql.compile.listing_ranked import first_of_groups, ranked_parents
from app.sql.compile.sqlbuild import (
    Type,
    all_of,
    cast,
    col,
    decimal,
    fn,
    fragment,
    in_list,
    join,
    literal,
    literals,
    named,
    none_of,
    ordered,
    paren,
    table,
)
from app.sql.compile.state import CompileContext, Compiled
from app.sql.compile.timeframe import local_expr, time_filter, to_utc


def compile_listing(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a plan whose `listing` names an entity of lists.yaml."""
    spec = ctx.model.lists.get(plan.listing or "")
    if spec is None:
        raise CompileError(f"cannot list {plan.listing}")
    where, used = _conditions(plan, spec, ctx)
    if plan.per_group is not None and plan.per_group.count:
        return _counted(plan, spec, ctx, where, used)
    shown = _shown(plan, spec, ctx.model)
    order = plan.order or ListOrder(column=spec.order or spec.recent)
    sort_col = _column(spec, order.column, ctx.model)
    key = _column(spec, spec.key, ctx.model)
    tz = ctx.account.timezone
    select = [named(_value(c, spec, ctx.model, tz), c.name) for c in shown]
    exprs = [*(c.expr for c in shown if c.via is None), *used, sort_col.sort or sort_col.expr]
    exprs += [key.expr, *([spec.currency] if spec.currency else [])]
    exprs += [c.currency for c in shown if c.currency]
    group = _column(spec, plan.per_group.column, ctx.model) if plan.per_group else None
    if group is not None:
        exprs.append(group.key or group.expr)
    base = _scan(exp.select(*select), ctx.model, spec, exprs)
    desc = order.direction == "desc"
    parent = _column(spec, plan.limit_by, ctx.model) if plan.limit_by and plan.limit else None
    if parent is not None:
        exprs.append(parent.expr)
        base = _scan(exp.select(*select), ctx.model, spec, exprs)
    if parent is not None and group is None:
        sort_value = _sort_value(sort_col, spec, ctx)
        query = ranked_parents(plan, base, where, shown, parent, sort_value, key, desc)
    elif group is None:
        query = base.where(all_of(where), copy=False)
        if plan.order is None and sort_col in shown and spec.order:  # by output names
            by = [ordered(col(order.column), desc=True), ordered(col(shown[0].name))]
        else:
            by = [_ordered(sort_col, shown, spec, ctx, desc), _ordered(key, shown, spec)]
        query = query.order_by(*by, copy=False)
    else:
        sort_value = _sort_value(sort_col, spec, ctx)
        query = first_of_groups(plan, base, where, shown, group, sort_value, key, desc)
    limit = plan.ranking.n if plan.ranking else (plan.limit or None)
    if limit and parent is None:
        query = query.limit(literal(limit), copy=False)
    columns = [
        Column(name=c.name, kind=c.kind, label=c.label or c.name.replace("_", " ").capitalize())
        for c in shown
    ]
    title, counted = describe(plan, spec, ctx, order, limit)
    period = None
    if plan.time is not None:
        period = Period(
            start=plan.time.start, end=plan.time.end, timezone=tz, label=plan.time.label
        )
    return Compiled(
        expression=query,
        columns=columns,
        chart=None,
        period=period,
        currency=None,
        notes=notes(plan, spec, shown, group),
        title=title,
        row_limit=None if counted else limit,
    )


def _column(spec: ListSpec, name: str, model: SemanticModel) -> ListColumn:
    column = model.list_column(spec, name)
    if column is None:
        known = ", ".join(c.name for c in spec.columns)
        raise CompileError(f"{spec.label} have no column '{name}' (columns: {known})")
    return column


def _shown(plan: QueryPlan, spec: ListSpec, model: SemanticModel) -> list[ListColumn]:
    """The plan's columns (or the default ones), the group first, money with its currency."""
    names = list(dict.fromkeys(plan.columns or spec.default))
    if plan.per_group and plan.per_group.column not in names:
        names.insert(0, plan.per_group.column)
    shown = [_column(spec, n, model) for n in names]
    if plan.stripe_ids:  # the question names objects by Stripe id: label rows by theirs too
        shown = [_stripe_id(c) for c in shown]
    money = [c for c in shown if c.kind == "money"]
    if spec.currency is None and any(c.currency is None for c in money):
        raise CompileError(f"{spec.label} have no currency for money columns")
    if money and "currency" not in [c.name for c in shown]:
        own = spec.column("currency") if spec.currency else None
        currency = own or ListColumn(name="currency", expr=str(money[0].currency), kind="label")
        shown.insert(shown.index(money[0]), currency)
    return shown


def _stripe_id(c: ListColumn) -> ListColumn:
    """A numbered object's column showing its Stripe id instead ('in_…' for the invoice)."""
    if c.stripe_id is None:
        return c
    label = f"{c.label or c.name.replace('_', ' ').capitalize()} ID"
    return c.model_copy(update={"expr": c.stripe_id, "label": label, "sort": None})


def _value(c: ListColumn, spec: ListSpec, model: SemanticModel, tz: str) -> exp.Expr:
    """The column's value: its fragment or a child table's roll-up, money in major units.

    A local date is the day in the account's time zone (`tz`) of its UTC timestamp.
    """
    if c.local:
        return cast(local_expr(c.expr, "utc", tz), Type.DATE)
    value = _rollup(c, spec, model) if c.via else fragment(c.expr)
    if c.kind != "money":
        return value
    currency = c.currency or spec.currency
    assert currency is not None
    return _major(value, currency, model)


def _major(value: exp.Expr, currency: str, model: SemanticModel) -> exp.Expr:
    """Minor units in major units of the row's currency (zero-decimal currencies unchanged)."""
    whole = in_list(fragment(currency), literals(model.zero_decimal_currencies))
    minor = cast(value, Type.INT128)  # whole minor units: some Sigma amounts are DOUBLE
    cents = exp.Mul(this=minor.copy(), expression=exp.Literal.number("0.01"))
    case = exp.case().when(whole, cast(minor, decimal(38, 2)), copy=False)
    return case.else_(cents, copy=False)


def _same_object(model: SemanticModel, spec: ListSpec, c: ListColumn, group: ListColumn) -> bool:
    """Whether a column is the id of the object a group column names (customer_id, customer)."""
    other = model.names_object(spec, c)
    return other is not None and group.key is not None and tables_in(group.key) == {other.table}


def _counted(
    plan: QueryPlan, spec: ListSpec, ctx: CompileContext, where: list[exp.Expr], used: list[str]
) -> Compiled:
    """One row per group and currency: what describes the group, its rows counted, money summed.

    'Customers with two or more failed charges': HAVING count(*) >= 2.
    """
    assert plan.per_group is not None
    model, tz = ctx.model, ctx.account.timezone
    group = _column(spec, plan.per_group.column, model)
    ids = [c.name for c in spec.columns if c.key is None and _same_object(model, spec, c, group)]
    names = dict.fromkeys((group.name, *ids[:1], *plan.columns))
    asked = [_column(spec, n, model) for n in names]
    labels = [c for c in asked if c is group or spec.describes(c.name, group.name)]
    money = [c for c in asked if c.kind == "money" and c.via is None and c.currency is None]
    currency = spec.currency if money else None
    values = [_value(c, spec, model, tz) for c in labels]
    select = [named(v, c.name) for v, c in zip(values, labels, strict=True)]
    keys = [fragment(group.key or group.expr), *(v.copy() for v in values)]
    if currency is not None:
        select.append(named(fragment(currency), "currency"))
        keys.append(fragment(currency))
    rows = exp.Count(this=exp.Star())
    select.append(named(rows, spec.name))
    select += [
        named(_major(fn("sum", fragment(c.expr)), str(currency), model), c.name) for c in money
    ]
    exprs = [*(c.expr for c in labels), *(c.expr for c in money), *used, group.key or group.expr]
    query = _scan(exp.select(*select), model, spec, [*exprs, *([currency] if currency else [])])
    has_group = exp.Not(this=exp.Is(this=fragment(group.key or group.expr), expression=exp.Null()))
    query = query.where(all_of([*where, has_group]), copy=False).group_by(*keys, copy=False)
    if plan.per_group.at_least:
        least = exp.GTE(this=rows.copy(), expression=literal(plan.per_group.at_least))
        query = query.having(least, copy=False)
    query = query.order_by(ordered(rows.copy(), desc=True), ordered(col(group.name)), copy=False)
    if plan.limit:
        query = query.limit(literal(plan.limit), copy=False)
    columns = [
        Column(name=c.name, kind=c.kind, label=c.label or c.name.capitalize()) for c in labels
    ]
    if currency is not None:
        columns.append(Column(name="currency", kind="label", label="Currency"))
    columns.append(Column(name=spec.name, kind="count", label=f"Number of {spec.label.lower()}"))
    columns += [
        Column(name=c.name, kind="money", label=c.label or c.name.capitalize()) for c in money
    ]
    order = ListOrder(column=group.name, direction="asc")
    title, _ = describe(plan, spec, ctx, order, plan.limit)
    period = None
    if plan.time is not None:
        period = Period(
            start=plan.time.start, end=plan.time.end, timezone=tz, label=plan.time.label
        )
    text = (
        f"One row per {group.name.replace('_', ' ')} and currency; amounts summed, not converted."
    )
    return Compiled(
        expression=query,
        columns=columns,
        chart=None,
        period=period,
        currency=None,
        notes=[Assumption(key="list_counted", text=text)],
        title=title,
        row_limit=plan.limit,
    )


def _rollup(c: ListColumn, spec: ListSpec, model: SemanticModel) -> exp.Expr:
    """`(SELECT agg(expr) FROM child ... WHERE child.fk = entity.id)`: one value per row."""
    assert c.via is not None
    path = model.join_path(c.via, spec.table)
    if not path:
        raise CompileError(f"{c.via} is no child of {spec.table}")
    value = fragment(c.expr)
    if c.kind == "label":
        ordered_values = exp.Order(this=exp.Distinct(expressions=[value]), expressions=[])
        ordered_values.append("expressions", ordered(value.copy()))
        agg: exp.Expr = exp.GroupConcat(this=ordered_values, separator=exp.Literal.string(", "))
    else:
        agg = fn("coalesce", fn("sum", value), exp.Literal.number(0))
    inner_joins = [j.to for j in path[:-1]]
    inner = _scan(exp.select(agg), model, None, [c.expr], base=c.via, also=inner_joins)
    last = path[-1]
    link = exp.EQ(this=col(last.column, last.from_), expression=col("id", spec.table))
    return exp.Subquery(this=inner.where(link, copy=False))


def _scan(
    select: exp.Select,
    model: SemanticModel,
    spec: ListSpec | None,
    exprs: list[str],
    base: str | None = None,
    also: list[str] | None = None,
) -> exp.Select:
    """FROM the base table plus the many-to-one joins the fragments need (no fan-out)."""
    source = base or (spec.table if spec else "")
    extra: tuple[Join, ...] = spec.joins if spec else ()
    needed = list(also or [])
    for e in exprs:
        needed += [t for t in sorted(tables_in(e)) if t != source and t not in needed]
    select = select.from_(table(source), copy=False)
    joined = {source}
    for t in needed:
        path = model.join_path(source, t, extra)
        if path is None:
            raise CompileError(f"{t} cannot be reached from {source} without multiplying rows")
        for j in path:
            if j.to not in joined:
                on = exp.EQ(this=col(j.column, j.from_), expression=col("id", j.to))
                select = select.join(join(table(j.to), on, side="LEFT"), copy=False)
                joined.add(j.to)
    return select


def _ordered(
    c: ListColumn,
    shown: list[ListColumn],
    spec: ListSpec,
    ctx: CompileContext | None = None,
    desc: bool | None = None,
) -> exp.Ordered:
    """Order by a column: its sort fragment, its output name when shown, else its value."""
    if c.sort:
        return ordered(fragment(c.sort), desc=desc)
    if c in shown:
        return ordered(col(c.name), desc=desc)
    if ctx is not None and c.via:
        return ordered(_value(c, spec, ctx.model, ctx.account.timezone), desc=desc)
    return ordered(fragment(c.expr), desc=desc)


def _sort_value(sort_col: ListColumn, spec: ListSpec, ctx: CompileContext) -> exp.Expr:
    """What ordering by a column sorts on: its sort fragment, else its value."""
    if sort_col.sort:
        return fragment(sort_col.sort)
    return _value(sort_col, spec, ctx.model, ctx.account.timezone)


def _conditions(
    plan: QueryPlan, spec: ListSpec, ctx: CompileContext
) -> tuple[list[exp.Expr], list[str]]:
    """The WHERE conditions of the plan's filters and time range, and the fragments they use."""
    model = ctx.model
    tz = ctx.account.timezone
    as_of_end = literal(to_utc(ctx.as_of + timedelta(days=1), tz))
    where: list[exp.Expr] = []
    used: list[str] = []
    for f in plan.filters:
        if f.dimension == "state":  # one of the states: each is all of its conditions
            either = []
            for v in f.values:
                frags = spec.states.get(str(v))
                if frags is None:
                    raise CompileError(f"{spec.label} have no state '{v}'")
                either.append([fragment(w, as_of_end=as_of_end) for w in frags])
                used += list(frags)
            if len(either) == 1:
                where += either[0]
            else:
                where.append(exp.or_(*(paren(all_of(conditions)) for conditions in either)))
        elif f.dimension == "amount":
            if spec.amount is None or spec.currency is None:
                raise CompileError(f"{spec.label} have no amount to compare")
            where.append(threshold(spec.amount, spec.currency, f.op, f.values[0], f.currency, ctx))
            used += [spec.amount, spec.currency]
        elif f.dimension in model.dimensions:
            dim = model.dimensions[f.dimension]
            if dim.table == "*" or (f.dimension == "currency" and spec.currency is None):
                raise CompileError(f"cannot filter {spec.label.lower()} by {f.dimension}")
            column = spec.currency if f.dimension == "currency" else dim.expr
            assert column is not None
            values = (
                tuple(str(v).lower() for v in f.values) if f.dimension == "currency" else f.values
            )
            test = none_of if f.op in ("neq", "not_in") else in_list
            where.append(test(fragment(column), literals(values)))
            used.append(column)
        else:
            c = _column(spec, f.dimension, model)
            if c.via:
                raise CompileError(f"cannot filter {spec.label.lower()} by {c.name}")
            value = _value(c, spec, model, tz) if c.local else fragment(c.expr)
            where.append(compare(value, f.op, f.values, day=c.kind == "date"))
            used.append(c.expr)
    if plan.time is not None:
        when = state_time(plan, spec)
        where += time_filter(when, "utc", tz, (plan.time.start, plan.time.end))
        used.append(when)
    else:  # nothing after the as-of day: the list is what had happened by then
        where.append(exp.LT(this=fragment(spec.time), expression=as_of_end))
    used.append(spec.time)
    return where, used
