"""Statistics over single rows of a measure (QueryPlan.aggregate), per period and dimension.

Average, median, percentiles, min/max and distinct counts, with filters, grain, comparison and
ranking like any flow.

Money stays exact and never mixes currencies: the statistic is taken per currency, over the one
currency a filter keeps, or over each row converted to the plan's currency with the previous day's
rate. Values are minor units until the outer SELECT formats them: a median or percentile is
interpolated on DECIMAL(38,4) and an average is the exact sum over the count, both rounded half
away from zero to the minor unit.
"""

from __future__ import annotations

from sqlglot import exp

from app.core.answer import Column, Period
from app.core.errors import CompileError
from app.core.plan import Aggregate, Assumption, QueryPlan
from app.semantic.model import Measure, Metric
from app.sql.compile.breakdown import dim_exprs, dim_fragments, filter_conditions, filter_fragments
from app.sql.compile.final import final_select
from app.sql.compile.money import convert_value, join_fx
from app.sql.compile.present import chart_for, output_columns
from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    decimal,
    fn,
    fragment,
    group_by_all,
    literal,
    named,
    ordered,
    scan,
    table,
)
from app.sql.compile.state import (
    Aggregation,
    CompileContext,
    Compiled,
    CompileState,
    MetricCompiler,
)
from app.sql.compile.timeframe import plan_frame, time_filter

_LABELS = {
    "avg": "Average",
    "median": "Median",
    "min": "Smallest",
    "max": "Largest",
    "count_distinct": "Distinct",
}


def _check_filters(plan: QueryPlan, measure: Measure, ctx: CompileContext) -> None:
    """Refuse a filter on a column the measure already fixes ("the median of failed charges").

    The charge-amount measure covers successful charges: filtered to failed ones it would give
    no rows, which reads as "no data" instead of "not measured".
    """
    fixed = " ".join(measure.where)
    for f in plan.filters:
        dim = ctx.model.dimensions.get(f.dimension)
        if dim is not None and dim.table != "*" and dim.expr in fixed:
            if f.op in ("eq", "in") and all(f"'{v}'" in fixed for v in f.values):
                continue  # "successful charges": the measure's own rows, said again
            values = ", ".join(str(v) for v in f.values)
            what = measure.definition.rstrip(".")
            raise CompileError(
                f"{measure.label} is measured only on its own rows ({what}), so it can't be "
                f"filtered by {dim.label.lower()} {values}."
            )


def compile_aggregate(
    plan: QueryPlan, ctx: CompileContext, compilers: dict[Aggregation, MetricCompiler]
) -> Compiled:
    """Compile a plan whose `aggregate` asks for a statistic over a measure's rows.

    With `with_metrics`, the plan's metrics (counts of the same rows) come first, beside it.
    """
    agg = plan.aggregate
    assert agg is not None
    measure = ctx.model.measures.get(agg.measure)
    if measure is None:
        raise CompileError(f"unknown measure {agg.measure}")
    if (agg.func == "count_distinct") != (measure.unit == "key"):
        what = "counted distinct only" if measure.unit == "key" else "not counted distinct"
        raise CompileError(f"{measure.label} is {what}")
    _check_filters(plan, measure, ctx)
    m = _as_metric(measure, agg)
    if plan.ranking is not None:  # rank by the statistic, the plan's one value column
        plan = plan.model_copy(
            update={"ranking": plan.ranking.model_copy(update={"metric": m.name})}
        )
    beside = _beside(plan, measure, ctx)
    frame = plan_frame(plan, ctx.as_of, ctx.account.timezone, [*beside, m])
    target, notes = _target(plan, measure, m.label, ctx.account.currency)
    q = CompileState(
        ctx=ctx, plan=plan, frame=frame, target=target, compilers=compilers, notes=notes
    )
    q.dim_names = [d for d in plan.dimensions if d != "currency"]
    for d in q.dim_names:
        if d not in ctx.model.dimensions:
            raise CompileError(f"unknown dimension {d}")
    names = [*(q.metric(b) for b in beside), _statistic(q, measure, m, agg)]
    expression = final_select(q, [*beside, m], names)
    if agg.func != "count_distinct":  # no rows: no statistic (NULL), where a total would be 0
        unzeroed = expression.transform(_no_zero, copy=False)
        assert isinstance(unzeroed, exp.Select)
        expression = unzeroed
    if target is None and plan.ranking is None and frame.grain is None:
        expression = _by_currency_first(expression, m.name, q.dim_cols)
    for name, query in q.ctes:
        alias = exp.TableAlias(this=exp.to_identifier(name))
        expression = expression.with_(alias, as_=query, copy=False)
    columns = output_columns(q, [*beside, m])
    if measure.unit == "number":  # a plain number (a score), shown as one, not as a ratio
        columns = [_as_number(c, m.name) for c in columns]
    return Compiled(
        expression=expression,
        columns=columns,
        chart=chart_for(q, [*beside, m], columns),
        period=Period(
            start=frame.range.start,
            end=frame.range.end,
            timezone=ctx.account.timezone,
            label=frame.range.label,
        ),
        currency=target,
        uses_rates=q.fx_added,
        notes=q.notes + frame.notes,
    )


def _beside(plan: QueryPlan, measure: Measure, ctx: CompileContext) -> list[Metric]:
    """The metrics shown beside the statistic: only counts of the measure's own rows."""
    if plan.aggregate is None or not plan.aggregate.with_metrics:
        return []
    if plan.metrics != (measure.metric,):
        raise CompileError(
            f"beside a statistic of {measure.label.lower()}, only the count of its rows "
            f"({ctx.model.metrics[measure.metric].label.lower()}) can be shown"
        )
    rows = ctx.model.metrics[measure.metric]
    # the count is named by the measure's rows ("payments"), as a list names its counted rows
    name = measure.entity_words[0].replace(" ", "_") if measure.entity_words else rows.name
    return [rows.model_copy(update={"name": name})]


def _as_number(c: Column, name: str) -> Column:
    """The statistic's columns as plain numbers (its change in percent stays a ratio)."""
    if c.name.startswith(name) and c.name != f"{name}_change_pct":
        return c.model_copy(update={"kind": "number"})
    return c


def _no_zero(node: exp.Expr) -> exp.Expr:
    """`coalesce(x, 0)` → `x`: the outer SELECT's "no rows count as zero" does not hold here."""
    if isinstance(node, exp.Coalesce) and [e.sql() for e in node.expressions] == ["0"]:
        inner: exp.Expr = node.this
        return inner
    return node


def _by_currency_first(select: exp.Select, value: str, dims: list[str]) -> exp.Select:
    """Order per currency, then by the value: amounts of two currencies do not compare."""
    order = [
        ordered(col("currency")),
        ordered(col(value), desc=True),
        *(ordered(col(d)) for d in dims),
    ]
    select.set("order", None)
    return select.order_by(*order, copy=False)


def _as_metric(measure: Measure, agg: Aggregate) -> Metric:
    """The statistic as a flow metric of the measure's rows (its name is the output column)."""
    if agg.func == "percentile":
        assert agg.p is not None
        pct = f"{agg.p * 100:g}"
        name, label = f"p{pct.replace('.', '_')}_{measure.name}", f"{_ordinal(pct)} percentile"
    else:
        name, label = f"{agg.func}_{measure.name}", _LABELS[agg.func]
    money = measure.unit == "money"
    number = measure.unit == "number" and agg.func != "count_distinct"
    return Metric(
        name=name,
        label=f"{label} {measure.label.lower()}",
        definition=measure.definition,
        # a number's statistic keeps its decimals: a DOUBLE in the outer SELECT, like a ratio
        unit="money" if money else "ratio" if number else "count",
        aggregation="flow",
        table=measure.table,
        measure=measure.expr,
        where=measure.where,
        time=measure.time,
        time_zone=measure.time_zone,
        currency=measure.currency,
    )


def _ordinal(n: str) -> str:
    if not n.isdigit():
        return n
    suffix = "th" if int(n) % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(int(n) % 10)
    return f"{n}{suffix or 'th'}"


def _target(
    plan: QueryPlan, measure: Measure, what: str, default: str
) -> tuple[str | None, list[Assumption]]:
    """The one currency of a money statistic (None: one row per currency) and what it means."""
    meaning = Assumption(key="aggregate_definition", text=f"{measure.label}: {measure.definition}")
    if measure.unit != "money":  # a count: no currency (the account's stands in for the keys)
        return default.lower(), [meaning]
    kept = [
        f
        for f in plan.filters
        if f.dimension == "currency" and f.op in ("eq", "in") and len(f.values) == 1
    ]
    if kept and not plan.by_currency and "currency" not in plan.dimensions:
        cur = str(kept[0].values[0]).lower()
        text = f"{what} is over {cur.upper()} amounts only; none was converted."
        return cur, [meaning, Assumption(key="aggregate_currency", text=text)]
    if plan.currency and not plan.by_currency and "currency" not in plan.dimensions:
        cur = plan.currency.lower()
        text = (
            f"{what} is over every amount converted to {cur.upper()} with the previous day's "
            "rate (exchange_rates_from_usd), each rounded to the minor unit."
        )
        return cur, [meaning, Assumption(key="aggregate_currency", text=text)]
    text = (
        f"{what} is per original currency (one row each): amounts in different currencies do "
        "not average or rank together. Ask for it 'converted to USD' (or another currency) to "
        "convert each amount with its day's rate first."
    )
    return None, [meaning, Assumption(key="aggregate_currency", text=text)]


def _statistic(q: CompileState, measure: Measure, m: Metric, agg: Aggregate) -> str:
    """Add the CTEs: the measure's rows (converted when needed), then the statistic per key."""
    assert m.time
    tz = q.ctx.account.timezone
    money = measure.unit == "money"
    period = q.frame.bucket_expr(m.time, m.time_zone, tz)
    select = [named(period, "period"), *(named(e, n) for n, e in dim_exprs(q, m))]
    sources = [*dim_fragments(q), measure.expr, m.time, *m.where, *filter_fragments(q)]
    convert = money and q.target is not None and not _one_currency(q)
    if money:
        assert measure.currency
        select.append(named(fragment(measure.currency), "currency"))
        sources.append(measure.currency)
    if convert:
        select.append(named(cast(fragment(m.time), Type.DATE), "day"))
    select.append(named(fragment(measure.expr), "v"))
    as_of_end = literal(q.frame.as_of_end_utc)
    where = [fragment(w, as_of_end=as_of_end) for w in m.where]
    where += time_filter(m.time, m.time_zone, tz, q.frame.scan_range)
    where += filter_conditions(q, m)
    rows = scan(exp.select(*select), q.ctx.model, m.table or "", sources).where(*where, copy=False)
    base = q.cte(f"{m.name}_rows", rows)
    if convert:
        keys = [col(k, "b") for k in ("period", *q.dim_cols)]
        converted = exp.select(*keys, named(convert_value(q, "b"), "v"))
        converted = converted.from_(table(base, alias="b"), copy=False)
        base = q.cte(f"{m.name}_converted", join_fx(q, converted, "b"))
    value = _number_value(agg, col("v")) if measure.unit == "number" else _value(agg, col("v"))
    stat = exp.select(*(col(k) for k in q.keys), named(value, "v"))
    return q.cte(m.name, group_by_all(stat.from_(table(base), copy=False)))


def _one_currency(q: CompileState) -> bool:
    """A filter already keeps the target currency alone: its rows need no conversion."""
    return any(
        f.dimension == "currency"
        and f.op in ("eq", "in")
        and [str(v).lower() for v in f.values] == [q.target]
        for f in q.plan.filters
    )


def _number_value(agg: Aggregate, v: exp.Column) -> exp.Expr:
    """The statistic of plain numbers (scores), exact to four decimals."""
    if agg.func in ("min", "max", "count_distinct"):
        return _value(agg, v)
    exact = cast(v, decimal(38, 4))
    if agg.func == "avg":
        return fn("round", fn("avg", exact), exp.Literal.number(4))
    p = exp.Literal.number("0.5" if agg.func == "median" else f"{agg.p}")
    return fn("round", exp.PercentileCont(this=exact, expression=p), exp.Literal.number(4))


def _value(agg: Aggregate, v: exp.Column) -> exp.Expr:
    """The statistic of the rows' `v` (minor units or keys), as an exact integer."""
    if agg.func == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[v]))
    if agg.func in ("min", "max"):
        return fn(agg.func, v)
    if agg.func == "avg":
        # round(sum / count) half away from zero in integers: sign(s) * ((2|s| + n) // 2n)
        total, n = fn("sum", v), fn("count", v.copy())
        two = exp.Literal.number(2)
        num = exp.Add(this=exp.Mul(this=two, expression=fn("abs", total)), expression=n)
        den = fn("nullif", exp.Mul(this=two.copy(), expression=n.copy()), exp.Literal.number(0))
        quotient = exp.IntDiv(this=exp.paren(num, copy=False), expression=den)
        return exp.Mul(this=fn("sign", total.copy()), expression=exp.paren(quotient, copy=False))
    p = exp.Literal.number("0.5" if agg.func == "median" else f"{agg.p}")
    quantile = exp.PercentileCont(this=cast(v, decimal(38, 4)), expression=p)
    return cast(fn("round", quantile), Type.INT128)
