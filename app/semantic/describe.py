"""A plan in the model's words: the one-line read-back every answer states, and refusals suggest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from app.core.plan import Filter, QueryPlan
from app.semantic.format import as_noun, value_label
from app.semantic.model import SemanticModel

# A plan filter's operator in words.
OP_WORDS = {
    "eq": "is",
    "in": "is",
    "neq": "is not",
    "not_in": "is not",
    "gt": "over",
    "gte": "at least",
    "lt": "under",
    "lte": "at most",
}
_FUNC = {
    "avg": "average",
    "median": "median",
    "min": "smallest",
    "max": "largest",
    "count_distinct": "number of different",
}


def filter_text(f: Filter, model: SemanticModel) -> str:
    """One filter in words: "card brand is Visa or Mastercard", "amount over 1000 USD"."""
    dim = model.dimensions.get(f.dimension)
    label = as_noun(dim.label) if dim is not None else f.dimension.replace("_", " ")
    if f.dimension == "state":
        return " or ".join(str(v) for v in f.values)
    return f"{label} {OP_WORDS[f.op]} {filter_values(f)}"


def filter_values(f: Filter) -> str:
    """A filter's values in words: "Visa or Mastercard", "not Bacs Direct Debit", "1,000 USD"."""
    joiner = " or " if f.op in ("eq", "in") else " nor " if f.op in ("neq", "not_in") else ", "
    values = joiner.join(_shown(f.dimension, v) for v in f.values)
    return f"{values} {f.currency.upper()}" if f.currency else values


def _shown(dimension: str, value: object) -> str:
    """A filter value as the answer shows it: the model's label for a code, numbers grouped."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{value:,}"
    return value_label(dimension, value)


def _value_text(dimension: str, value: object, model: SemanticModel) -> str:
    """A filter value in the engine's own words (a suggested question must re-plan): Germany."""
    if dimension == "currency":
        return str(value).upper()
    dim = model.dimensions.get(dimension)
    if dim is not None and dim.values in ("countries", "states"):
        words = getattr(model, str(dim.values)).get(str(value), ())
        names = [w for w in words if len(w) > 3]
        return names[0].title() if names else str(value)
    if isinstance(dim.values if dim else None, dict) and isinstance(value, str):
        return value.upper() if len(value) <= 3 else value.replace("_", " ")  # VAT, sales tax
    return str(value)


def measure_text(plan: QueryPlan, model: SemanticModel) -> str:
    """What is measured or listed: "Gross volume and Net volume", "list of failed charges"."""
    if plan.listing:
        spec = model.lists.get(plan.listing)
        return f"list of {spec.label.lower() if spec else plan.listing}"
    if plan.statement:
        statement = model.statements.get(plan.statement)
        return statement.label if statement else plan.statement
    labels = [model.metrics[m].label if m in model.metrics else m for m in plan.metrics]
    text = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    agg = plan.aggregate
    if agg is not None:
        measure = model.measures.get(agg.measure)
        what = measure.label.lower() if measure is not None else agg.measure.replace("_", " ")
        func = _FUNC.get(agg.func, agg.func)
        if agg.func == "percentile" and agg.p is not None:
            func = f"{agg.p * 100:g}th percentile"
        if agg.with_metrics:  # "Charge attempts and average radar risk score"
            return f"{text} and {func} {what}"
        return f"{func} {what} of {text.lower()}"
    return text


def read_back(
    plan: QueryPlan, model: SemanticModel, *, period: str = "", currency: str | None = None
) -> str:
    """How the question was read, in one line: measure · breakdown · filters · period · currency."""
    parts = [measure_text(plan, model)]
    if by := _breakdown(plan, model):
        parts.append(by)
    if plan.ranking is not None:
        parts.append(f"{plan.ranking.direction} {plan.ranking.n}")
    if plan.filters:
        parts.append("where " + "; ".join(filter_text(f, model) for f in plan.filters))
    if plan.listing:
        parts += _list_parts(plan, model)
    when = period or _time_text(plan)
    if when:
        parts.append(when)
    if plan.comparison is not None:
        parts.append(
            "vs the same period last year"
            if plan.comparison.kind == "same_period_last_year"
            else "vs the previous period"
        )
    if plan.by_currency:
        parts.append("per original currency")
    elif currency and not plan.listing and _has_money(plan, model):
        parts.append(f"in {currency.upper()}")
    return " · ".join(parts)


def _breakdown(plan: QueryPlan, model: SemanticModel) -> str:
    """The grain and the breakdowns in words ("by month and card brand"), or ""."""
    dims = [as_noun(model.dimensions[d].label) for d in plan.dimensions if d in model.dimensions]
    if plan.grain:
        dims.insert(0, plan.grain)
    return "by " + " and ".join(dims) if dims else ""


def _list_parts(plan: QueryPlan, model: SemanticModel) -> list[str]:
    """A list's columns, order, groups and row limit in words."""
    spec = model.lists.get(plan.listing or "")
    if spec is None:
        return []

    def label(name: str) -> str:
        column = model.list_column(spec, name)
        return (column.label or name.replace("_", " ")).lower() if column else name

    out = []
    if plan.columns:
        out.append("columns: " + ", ".join(label(c) for c in plan.columns))
    if plan.per_group is not None:
        first = "first" if plan.per_group.n == 1 else f"first {plan.per_group.n}"
        out.append(f"{first} of each {label(plan.per_group.column)}")
    if plan.order is not None:
        out.append(f"ordered by {label(plan.order.column)} ({plan.order.direction})")
    if plan.limit and plan.limit_by:  # the limit counts the rows' parents
        out.append(f"every row of the first {plan.limit} {label(plan.limit_by)}s")
    elif plan.limit:
        out.append(f"at most {plan.limit} rows")
    return out


def _time_text(plan: QueryPlan) -> str:
    if plan.time is None:
        return ""
    return period_words(plan.time.start, plan.time.end, plan.time.label)


def period_words(start: date, end: date, label: str = "", point: date | None = None) -> str:
    """A period in words: "last quarter (2025-04-01 to 2025-06-30)", "at the end of 2025-12-31"."""
    if point is not None:
        return f"at the end of {point}"
    last = end - timedelta(days=1)
    span = str(start) if last == start else f"{start} to {last}"
    return f"{label} ({span})" if label and label != span else span


def _implied(plan: QueryPlan, model: SemanticModel) -> set[tuple[str, object]]:
    """(dimension, value) pairs the metrics' own names imply ("successful" charges)."""
    return {
        (i.dimension, v)
        for m in plan.metrics
        if m in model.metrics
        for i in model.metrics[m].implied_filters
        if i.names_metric
        for v in i.values
    }


def _has_money(plan: QueryPlan, model: SemanticModel) -> bool:
    if plan.aggregate is not None:
        measure = model.measures.get(plan.aggregate.measure)
        return measure is not None and measure.unit == "money"
    return any(_money_metric(model, m) for m in plan.metrics)


def _money_metric(model: SemanticModel, name: str) -> bool:
    """Money, or a ratio of money (a refund rate is converted; a churn rate of counts is not)."""
    m = model.metrics.get(name)
    if m is None:
        return False
    if m.unit == "ratio":
        return m.numerator is not None and _money_metric(model, m.numerator)
    return m.unit == "money"


def as_question(plan: QueryPlan, model: SemanticModel) -> str:
    """The plan phrased as a short question (refusals suggest it; the caller checks it re-plans)."""
    words = [measure_text(plan, model)]
    implied = _implied(plan, model)
    for f in plan.filters:
        if all((f.dimension, v) in implied for v in f.values):
            continue  # the metric's own words say it ("successful charges")
        values = " and ".join(_value_text(f.dimension, v, model) for v in f.values)
        if f.op in ("eq", "in"):
            words.append(f"for {values}")
        elif f.op in ("neq", "not_in"):
            words.append(f"excluding {values}")
    if by := _breakdown(plan, model):
        words.append(by)
    if plan.time is not None and plan.time.label:
        words.append(plan.time.label)
    return " ".join(words)
