"""Compile row-by-row lists ("unpaid invoices over $1,000", "open disputes")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import QueryPlan
from app.sql.compile.sqlbuild import Params, model_sql
from app.sql.compile.state import CompileContext, Compiled, from_clause
from app.sql.compile.timeframe import time_filter, to_utc


def compile_listing(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a plan whose `listing` names an entity of lists.yaml."""
    model = ctx.model
    spec = model.lists.get(plan.listing or "")
    if spec is None:
        raise CompileError(f"cannot list {plan.listing}")
    params = Params()
    tz = ctx.account.timezone
    as_of_end = params.add(to_utc(ctx.as_of + timedelta(days=1), tz))
    zero = params.add_list(list(model.zero_decimal_currencies))
    where: list[str] = []
    filter_exprs: list[str] = []
    for f in plan.filters:
        if f.dimension == "state":
            for v in f.values:
                frags = spec.states.get(str(v))
                if frags is None:
                    raise CompileError(f"{spec.label} have no state '{v}'")
                where += [model_sql(w, {"as_of_end": as_of_end}) for w in frags]
        elif f.dimension == "amount":
            where.append(
                _threshold(spec.amount, spec.currency, f.op, f.values[0], f.currency, ctx, params)
            )
        else:
            dim = model.dimensions.get(f.dimension)
            if dim is None or dim.table == "*":
                raise CompileError(f"cannot filter {spec.label.lower()} by {f.dimension}")
            col = spec.currency if f.dimension == "currency" else dim.expr
            vals = (
                tuple(str(v).lower() for v in f.values) if f.dimension == "currency" else f.values
            )
            op = "NOT IN" if f.op in ("neq", "not_in") else "IN"
            where.append(f"{col} {op} ({params.add_list(vals)})")
            filter_exprs.append(col)
    if plan.time is not None:
        where += time_filter(spec.time, "utc", tz, (plan.time.start, plan.time.end), params)
    select = []
    for c in spec.columns:
        expr = c.expr
        if c.kind == "money":
            expr = (
                f"CASE WHEN {spec.currency} IN ({zero}) THEN CAST({c.expr} AS DECIMAL(38, 2)) "
                f"ELSE {c.expr} * 0.01 END"
            )
        select.append(f"{expr} AS {c.name}")
    exprs = [c.expr for c in spec.columns] + filter_exprs + [spec.amount, spec.currency]
    from_sql = from_clause(model, spec.table, exprs)
    limit = plan.ranking.n if plan.ranking else (plan.limit or None)
    sql = (
        f"SELECT {', '.join(select)} FROM {from_sql} WHERE {' AND '.join(where) or 'TRUE'} "
        f"ORDER BY {spec.order} DESC, {spec.columns[0].name}"
    )
    if limit:
        sql += f" LIMIT {params.add(limit)}"
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
        expression=params.bind(sql),
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
    params: Params,
) -> str:
    """Amount threshold in a currency; other currencies converted with the as-of day's rate."""
    sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}.get(op, ">")
    cur = (thr_currency or ctx.account.currency).lower()
    exp10 = 0 if cur in ctx.model.zero_decimal_currencies else 2
    minor = int(Decimal(str(value)).scaleb(exp10))
    path = params.add(f"$.{cur}")
    fx = (
        f"(SELECT exchange_rates_from_usd.buy_currency_exchange_rates "
        f"FROM exchange_rates_from_usd WHERE CAST(exchange_rates_from_usd.date AS DATE) = "
        f"{params.add(ctx.as_of)} LIMIT 1)"
    )
    converted = (
        f"CASE WHEN {currency} = {params.add(cur)} THEN {amount} ELSE {amount} * "
        f"CAST(json_extract_string({fx}, {path}) AS DOUBLE) / "
        f"CAST(json_extract_string({fx}, '$.' || {currency}) AS DOUBLE) END"
    )
    return f"{converted} {sym} {params.add(minor)}"
