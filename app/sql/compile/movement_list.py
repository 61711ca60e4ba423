"""Each customer's MRR movement in a month: previous and month-end MRR, and its kind, one row each.

A plan of MRR broken down by customer (or another customer attribute) and by the `mrr_movement`
dimension lists the customers whose MRR changed between the end of the previous month and the end
of the month, as Stripe's MRR movements classify them (app/sql/compile/movements.py, dbt_stripe's
customer MRR analysis): new, expansion, contraction, churned or reactivation, with `previous_mrr`
(0 for a new customer) and `mrr` at the month's end. Customers whose MRR did not change are left
out. Amounts stay in each customer's currency (one row per customer and currency, like a list);
a period longer than a month gives one row per month slice, each with its `period`.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import Assumption, QueryPlan
from app.semantic.model import Metric, SemanticModel
from app.sql.compile.breakdown import dim_exprs, dim_fragments, filter_conditions, filter_fragments
from app.sql.compile.movements import check_breakdown, classified_months
from app.sql.compile.sqlbuild import (
    Type,
    all_of,
    cast,
    col,
    decimal,
    fn,
    in_list,
    literals,
    named,
    ordered,
    scan,
)
from app.sql.compile.state import CompileContext, Compiled, CompileState
from app.sql.compile.timeframe import plan_frame

MOVEMENT = "mrr_movement"


def lists_movements(plan: QueryPlan) -> bool:
    """Whether the plan asks for each customer's MRR movement (the `mrr_movement` breakdown)."""
    return MOVEMENT in plan.dimensions and plan.listing is None and plan.aggregate is None


def compile_movement_list(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """One row per customer (and currency) whose MRR moved: previous, month-end MRR, kind."""
    model = ctx.model
    m = _movement_metric(model, plan)
    if plan.comparison is not None or plan.ranking is not None:
        raise CompileError("an MRR movement list compares each month with the one before it")
    frame = plan_frame(plan, ctx.as_of, ctx.account.timezone, [m])
    q = CompileState(ctx=ctx, plan=plan, frame=frame, target=None, compilers={}, notes=[])
    q.dim_names = [d for d in plan.dimensions if d not in ("currency", MOVEMENT)]
    if not q.dim_names:
        raise CompileError("an MRR movement list is per customer: break it down by customer")
    kinds = tuple(f for f in plan.filters if f.dimension != MOVEMENT)  # the rest: customers'
    check_breakdown(replace(q, plan=plan.model_copy(update={"filters": kinds})), m)
    classified = classified_months(q, m)
    assert m.table
    row = m.table
    dims = dim_exprs(q, m)
    currency = col("currency", row)
    series = len(frame.buckets) > 1 or frame.grain is not None
    select = [
        *([named(cast(col("period", row), Type.DATE), "period")] if series else []),
        *(named(e, n) for n, e in dims),
        named(currency, "currency"),
        named(_money(model, col("mrr_after", row), currency), "mrr"),
        named(
            _money(model, fn("coalesce", col("mrr_before", row), exp.Literal.number(0)), currency),
            "previous_mrr",
        ),
        named(col("movement", row), MOVEMENT),
    ]
    moved = exp.Not(this=exp.Is(this=col("movement", row), expression=exp.Null()))
    sources = [*dim_fragments(q), *filter_fragments(q)]
    query = scan(exp.select(*select), model, row, sources, alias_source=classified)
    query = query.where(all_of([moved, *filter_conditions(q, m)]), copy=False)
    order = [*(["period"] if series else []), MOVEMENT, dims[-1][0], "currency"]
    query = query.order_by(*(ordered(col(n)) for n in order), copy=False)
    for name, cte in q.ctes:
        query = query.with_(exp.TableAlias(this=exp.to_identifier(name)), as_=cte, copy=False)
    return Compiled(
        expression=query,
        columns=_columns(q, series),
        chart=None,
        period=Period(
            start=frame.range.start,
            end=frame.range.end,
            timezone=ctx.account.timezone,
            label=frame.range.label,
        ),
        currency=None,
        notes=[*frame.notes, _NOTE],
    )


_NOTE = Assumption(
    key="mrr_movement_list",
    text="Each customer's MRR at the end of the month is compared with the end of the month "
    "before (per currency); only customers whose MRR changed are listed: new (no MRR before), "
    "reactivation (back from zero), expansion, contraction, churned (down to zero).",
)


def _movement_metric(model: SemanticModel, plan: QueryPlan) -> Metric:
    """The MRR movement metric that classifies the plan's stock (MRR) per customer."""
    stocks = [model.metrics[n] for n in plan.metrics if n in model.metrics]
    if len(stocks) != len(plan.metrics) or len(stocks) != 1 or stocks[0].aggregation != "stock":
        raise CompileError("an MRR movement list shows MRR: previous and month-end, per customer")
    stock = stocks[0]
    for m in model.metrics.values():
        same = (m.table, m.measure, m.currency) == (stock.table, stock.measure, stock.currency)
        if m.aggregation == "movement" and m.unit == "money" and same:
            return m
    raise CompileError(f"{stock.label} has no movements to classify")


def _money(model: SemanticModel, minor: exp.Expr, currency: exp.Expr) -> exp.Expr:
    """Minor units in the row's currency as a decimal amount."""
    whole = in_list(currency.copy(), literals(model.zero_decimal_currencies))
    cents = exp.Mul(this=minor.copy(), expression=exp.Literal.number("0.01"))
    return exp.case().when(whole, cast(minor, decimal(38, 2)), copy=False).else_(cents, copy=False)


def _columns(q: CompileState, series: bool) -> list[Column]:
    """period?, the breakdown's columns, currency, month-end and previous MRR, the kind."""
    model = q.ctx.model
    cols = [Column(name="period", kind="date", label="Month")] if series else []
    for name in q.dim_cols:
        dim = model.dimensions[name.removesuffix("_id")]
        label = f"{dim.label} ID" if name.endswith("_id") else dim.label
        cols.append(Column(name=name, kind="label", label=label))
    return [
        *cols,
        Column(name="currency", kind="label", label="Currency"),
        Column(name="mrr", kind="money", label=model.metrics[q.plan.metrics[0]].label),
        Column(name="previous_mrr", kind="money", label="Previous month's MRR"),
        Column(name=MOVEMENT, kind="label", label=model.dimensions[MOVEMENT].label),
    ]
