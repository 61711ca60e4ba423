"""QueryPlan → one DuckDB SELECT (a sqlglot expression), money exact and converted per day."""

from __future__ import annotations

from sqlglot import exp

from app.core.answer import Period
from app.core.errors import CompileError
from app.core.plan import Assumption, QueryPlan
from app.semantic.model import Metric, SemanticModel
from app.sql.compile.aggregates import compile_aggregate
from app.sql.compile.breakdown import splits_by_currency
from app.sql.compile.custom import custom
from app.sql.compile.final import final_select
from app.sql.compile.flows import flow
from app.sql.compile.listing import compile_listing
from app.sql.compile.movement_list import compile_movement_list, lists_movements
from app.sql.compile.movements import movement
from app.sql.compile.points import series_points_note
from app.sql.compile.present import chart_for, output_columns
from app.sql.compile.ratios import ratio
from app.sql.compile.state import (
    AccountInfo,
    Aggregation,
    CompileContext,
    Compiled,
    CompileState,
    MetricCompiler,
)
from app.sql.compile.statements import compile_statement
from app.sql.compile.stocks import snapshot, stock
from app.sql.compile.timeframe import plan_frame

COMPILERS: dict[Aggregation, MetricCompiler] = {
    "flow": flow,
    "stock": stock,
    "snapshot": snapshot,
    "ratio": ratio,
    "custom": custom,
    "movement": movement,
}


def compile_plan(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a QueryPlan into one SELECT over the warehouse."""
    if plan.listing:
        return compile_listing(plan, ctx)
    if plan.statement:
        return compile_statement(plan, ctx)
    if plan.aggregate is not None:
        return compile_aggregate(plan, ctx, COMPILERS)
    if lists_movements(plan):
        return compile_movement_list(plan, ctx)
    model = ctx.model
    metrics = [_metric(model, name) for name in plan.metrics]
    frame = plan_frame(plan, ctx.as_of, ctx.account.timezone, metrics)
    by_currency = plan.by_currency or "currency" in plan.dimensions
    notes: list[Assumption] = []
    unsplit = [m.label for m in metrics if not splits_by_currency(model, m)]
    if by_currency and unsplit:
        by_currency = False
        notes.append(
            Assumption(
                key="by_currency_ignored",
                text=f"{', '.join(unsplit)} {'has' if len(unsplit) == 1 else 'have'} no "
                "currency of its own, so nothing was split per currency; amounts are in the "
                "reporting currency.",
            )
        )
    target = (
        None if by_currency else (plan.currency or ctx.currency or ctx.account.currency).lower()
    )
    q = CompileState(
        ctx=ctx, plan=plan, frame=frame, target=target, compilers=COMPILERS, notes=notes
    )
    q.dim_names = [d for d in plan.dimensions if d != "currency"]
    if (points_note := series_points_note(q, metrics)) is not None:
        q.notes.append(points_note)
    for d in q.dim_names:
        if d not in model.dimensions:
            raise CompileError(f"unknown dimension {d}")
    names = [q.metric(m) for m in metrics]
    expression = final_select(q, metrics, names)
    for name, query in q.ctes:
        alias = exp.TableAlias(this=exp.to_identifier(name))
        expression = expression.with_(alias, as_=query, copy=False)
    columns = output_columns(q, metrics)
    return Compiled(
        expression=expression,
        columns=columns,
        chart=chart_for(q, metrics, columns),
        period=Period(
            start=frame.range.start,
            end=frame.range.end,
            timezone=ctx.account.timezone,
            label=frame.range.label,
            point=frame.buckets[0].point
            if frame.grain is None and all(m.aggregation in ("stock", "snapshot") for m in metrics)
            else None,
        ),
        currency=target,
        uses_rates=q.fx_added,
        notes=q.notes + frame.notes,
        compared=next(
            (
                Period(start=b.start, end=b.end, timezone=ctx.account.timezone, point=b.point)
                for b in frame.buckets
                if b.label == "previous"
            ),
            None,
        ),
    )


def _metric(model: SemanticModel, name: str) -> Metric:
    if name not in model.metrics:
        raise CompileError(f"unknown metric {name}")
    return model.metrics[name]


__all__ = ["COMPILERS", "AccountInfo", "CompileContext", "Compiled", "compile_plan"]
