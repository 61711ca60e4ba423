"""Compile a statement plan: the statement's vetted query over the plan's period, per currency.

The query (data/semantic/statements.yaml) reads placeholders bound here as literals (AST nodes,
never text): the period's local midnights, the same instants in UTC, the as-of day and its end,
and the account's time zone. Its money columns hold minor units; the outer SELECT shows them in
major units of each row's currency, exact, and orders the rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlglot import exp

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import QueryPlan, TimeRange
from app.semantic.statements import Statement
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    decimal,
    fragment,
    in_list,
    literal,
    literals,
    named,
    ordered,
)
from app.sql.compile.state import CompileContext, Compiled
from app.sql.compile.timeframe import to_utc

SOURCE = "statement"


def statement_period(s: Statement, plan: QueryPlan, as_of: date) -> TimeRange:
    """The period a statement covers: the plan's, else the as-of month (or day) to date."""
    if plan.time is not None:
        return plan.time
    if s.period == "as_of":
        return TimeRange(start=as_of, end=as_of + timedelta(days=1), label=f"as of {as_of}")
    return TimeRange(start=as_of.replace(day=1), end=as_of + timedelta(days=1), label="this month")


def compile_statement(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a plan whose `statement` names a statement of the semantic model."""
    s = ctx.model.statements.get(plan.statement or "")
    if s is None:
        raise CompileError(f"unknown statement {plan.statement}")
    if plan.dimensions or plan.filters or plan.grain or plan.comparison or plan.currency:
        raise CompileError(
            f"The {s.label.lower()} has a fixed shape, per original currency: it takes a period "
            "only (no breakdowns, filters, series, comparisons or conversion)"
        )
    period = statement_period(s, plan, ctx.as_of)
    tz = ctx.account.timezone
    point = min(period.end - timedelta(days=1), ctx.as_of)
    values = {
        "start": literal(_midnight(period.start)),
        "end": literal(_midnight(period.end)),
        "start_utc": literal(to_utc(period.start, tz)),
        "end_utc": literal(to_utc(period.end, tz)),
        "as_of": cast(literal(point.isoformat()), Type.DATE),
        "as_of_end_utc": literal(to_utc(point + timedelta(days=1), tz)),
        "tz": literal(tz),
    }
    body = fragment(s.sql, **values)
    assert isinstance(body, exp.Query)
    zero = ctx.model.zero_decimal_currencies
    shown = [named(_shown(c.name, c.kind, zero), c.name) for c in s.columns]
    select = exp.select(*shown).from_(body.subquery(SOURCE, copy=False), copy=False)
    order = [ordered(fragment(o)) for o in s.order]
    if order:
        select = select.order_by(*order, copy=False)
    as_of = s.period == "as_of"
    return Compiled(
        expression=select,
        columns=[Column(name=c.name, kind=c.kind, label=c.label) for c in s.columns],
        chart=None,
        period=Period(
            start=period.start,
            end=period.end,
            timezone=tz,
            label=period.label,
            point=point if as_of else None,
        ),
        currency=None,
        title=s.label,
    )


def _shown(name: str, kind: str, zero: tuple[str, ...]) -> exp.Expr:
    """A column as shown: money in major units of the row's currency; others as the query has."""
    value = col(name, SOURCE)
    if kind == "count":
        return cast(value, Type.BIGINT)
    if kind != "money":
        return value
    whole = in_list(col("currency", SOURCE), literals(zero))
    cents = exp.Mul(this=cast(value.copy(), Type.INT128), expression=exp.Literal.number("0.01"))
    return exp.case().when(whole, cast(value, decimal(38, 2)), copy=False).else_(cents, copy=False)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())
