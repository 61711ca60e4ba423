"""Compile row-by-row lists ("unpaid invoices over $1,000", "open disputes")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlglot import exp

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import QueryPlan
from app.sql.compile.money import FX_SOURCE
from app.sql.compile.sqlbuild import (
    Type,
    all_of,
    cast,
    col,
    decimal,
    fragment,
    in_list,
    literal,
    literals,
    named,
    none_of,
    ordered,
    scan,
    table,
)
from app.sql.compile.state import CompileContext, Compiled
from app.sql.compile.timeframe import time_filter, to_utc

_COMPARE: dict[str, type[exp.Binary]] = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}


def compile_listing(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a plan whose `listing` names an entity of lists.yaml."""
    model = ctx.model
    spec = model.lists.get(plan.listing or "")
    if spec is None:
        raise CompileError(f"cannot list {plan.listing}")
    tz = ctx.account.timezone
    as_of_end = literal(to_utc(ctx.as_of + timedelta(days=1), tz))
    where: list[exp.Expr] = []
    filter_exprs: list[str] = []
    for f in plan.filters:
        if f.dimension == "state":
            for v in f.values:
                frags = spec.states.get(str(v))
                if frags is None:
                    raise CompileError(f"{spec.label} have no state '{v}'")
                where += [fragment(w, as_of_end=as_of_end) for w in frags]
        elif f.dimension == "amount":
            where.append(_threshold(spec.amount, spec.currency, f.op, f.values[0], f.currency, ctx))
        else:
            dim = model.dimensions.get(f.dimension)
            if dim is None or dim.table == "*":
                raise CompileError(f"cannot filter {spec.label.lower()} by {f.dimension}")
            column = spec.currency if f.dimension == "currency" else dim.expr
            values = (
                tuple(str(v).lower() for v in f.values) if f.dimension == "currency" else f.values
            )
            test = none_of if f.op in ("neq", "not_in") else in_list
            where.append(test(fragment(column), literals(values)))
            filter_exprs.append(column)
    if plan.time is not None:
        where += time_filter(spec.time, "utc", tz, (plan.time.start, plan.time.end))
    select: list[exp.Expr] = []
    for c in spec.columns:
        value = fragment(c.expr)
        if c.kind == "money":
            whole = in_list(fragment(spec.currency), literals(model.zero_decimal_currencies))
            cents = exp.Mul(this=fragment(c.expr), expression=exp.Literal.number("0.01"))
            value = exp.case().when(whole, cast(value, decimal(38, 2)), copy=False)
            value = value.else_(cents, copy=False)
        select.append(named(value, c.name))
    exprs = [c.expr for c in spec.columns] + filter_exprs + [spec.amount, spec.currency]
    query = scan(exp.select(*select), model, spec.table, exprs).where(all_of(where), copy=False)
    query = query.order_by(
        ordered(col(spec.order), desc=True), ordered(col(spec.columns[0].name)), copy=False
    )
    limit = plan.ranking.n if plan.ranking else (plan.limit or None)
    if limit:
        query = query.limit(literal(limit), copy=False)
    columns = [
        Column(name=c.name, kind=c.kind, label=c.name.replace("_", " ").capitalize())
        for c in spec.columns
    ]
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
        notes=[],
    )


def _threshold(
    amount: str,
    currency: str,
    op: str,
    value: object,
    thr_currency: str | None,
    ctx: CompileContext,
) -> exp.Expr:
    """Amount threshold in a currency; other currencies converted with the as-of day's rate."""
    compare = _COMPARE.get(op, exp.GT)
    cur = (thr_currency or ctx.account.currency).lower()
    exp10 = 0 if cur in ctx.model.zero_decimal_currencies else 2
    minor = int(Decimal(str(value)).scaleb(exp10))

    def rates() -> exp.Expr:
        """`(SELECT rates FROM exchange_rates_from_usd WHERE day = as_of LIMIT 1)`."""
        on_day = exp.EQ(this=cast(col("date", FX_SOURCE), Type.DATE), expression=literal(ctx.as_of))
        query = exp.select(col("buy_currency_exchange_rates", FX_SOURCE))
        query = query.from_(table(FX_SOURCE), copy=False).where(on_day, copy=False)
        return query.limit(exp.Literal.number(1), copy=False).subquery(copy=False)

    def rate(path: exp.Expr) -> exp.Expr:
        return cast(exp.JSONExtractScalar(this=rates(), expression=path), Type.DOUBLE)

    source = exp.DPipe(this=exp.Literal.string("$."), expression=fragment(currency), safe=True)
    converted = exp.Div(
        this=exp.Mul(this=fragment(amount), expression=rate(literal(f"$.{cur}"))),
        expression=rate(source),
    )
    same = exp.EQ(this=fragment(currency), expression=literal(cur))
    case = exp.case().when(same, fragment(amount), copy=False).else_(converted, copy=False)
    return compare(this=case, expression=literal(minor))
