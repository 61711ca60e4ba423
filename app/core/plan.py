"""QueryPlan: the one contract between the planners (engine, LLM agent) and the compiler."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Grain = Literal["day", "week", "month", "quarter", "year"]
FilterOp = Literal["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte"]
ReasonClass = Literal[
    "out_of_scope",
    "other_tenant",
    "future_forecast",
    "hostile_input",
    "unknown_metric",
    "empty_question",
    "too_long",
    "unread_words",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Model):
    """A half-open date range [start, end) in the account's reporting time zone."""

    start: date
    end: date = Field(description="Exclusive end date.")
    label: str = Field("", description="How the user said it, e.g. 'last quarter'.")


class Filter(_Model):
    """A restriction on a dimension (or, for lists, on a measure) of the semantic model."""

    dimension: str
    op: FilterOp = "eq"
    values: tuple[str | int | Decimal, ...]
    currency: str | None = Field(None, description="Currency of a money threshold, if any.")


class Comparison(_Model):
    """Compare the period with an earlier one."""

    kind: Literal["previous_period", "same_period_last_year"]


class Ranking(_Model):
    """Top or bottom N of the first dimension by a metric."""

    metric: str
    direction: Literal["top", "bottom"] = "top"
    n: int = Field(10, gt=0, le=1000)


AggregateFunc = Literal["avg", "median", "percentile", "min", "max", "count_distinct"]


class Aggregate(_Model):
    """A statistic over the rows of a row-level measure (median charge amount, distinct payers)."""

    func: AggregateFunc = Field(
        description="avg, median, percentile (needs p), min, max, or count_distinct (the number "
        "of different values, e.g. customers who paid)."
    )
    measure: str = Field(
        description="A row-level measure of the semantic model (its `measures` section, e.g. "
        "charge_amount, refund_amount, invoice_total, paying_customer); not a metric."
    )
    p: float | None = Field(
        None, gt=0, lt=1, description="The percentile as a fraction (0.9 = p90); percentile only."
    )
    with_metrics: bool = Field(
        False,
        description="Also show the plan's metrics (the measure's own metric: the count of the "
        "same rows) beside the statistic: 'the number of payments and their average risk score'.",
    )

    @model_validator(mode="after")
    def _p_with_percentile(self) -> Aggregate:
        if (self.func == "percentile") != (self.p is not None):
            raise ValueError("p is given with func 'percentile', and only then")
        return self


class ListOrder(_Model):
    """The order of a list's rows: one column of the listed entity, ascending or descending."""

    column: str = Field(description="A column of the entity's catalogue, e.g. created or amount.")
    direction: Literal["asc", "desc"] = "desc"


class PerGroup(_Model):
    """The first n rows (in the list's order) of each group: 'the largest charge per customer'."""

    column: str = Field(description="The catalogue column whose values form the groups.")
    n: int = Field(1, gt=0, le=100)
    count: bool = Field(
        False,
        description="One row per group (and currency) with how many rows it has and its money "
        "columns summed, instead of its first n rows ('customers with their number of failed "
        "charges').",
    )
    at_least: int | None = Field(
        None, ge=1, description="With count: keep groups with at least this many rows."
    )


class Assumption(_Model):
    """Something the answer took for granted, with a stable key the evals check."""

    key: str
    text: str


class QueryPlan(_Model):
    """What to compute: metrics over dimensions, filters, a time range and a grain."""

    metrics: tuple[str, ...] = Field(min_length=1)
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time: TimeRange | None = None
    grain: Grain | None = Field(None, description="Time-series grain; None for one total.")
    comparison: Comparison | None = None
    ranking: Ranking | None = None
    listing: str | None = Field(None, description="Entity to list row by row (e.g. invoices).")
    limit: int | None = Field(None, gt=0)
    aggregate: Aggregate | None = Field(
        None,
        description="A statistic over single rows instead of the metrics' totals (average or "
        "median charge amount, p90 invoice total, distinct paying customers). Money statistics "
        "stay per currency unless one currency is filtered or `currency` asks for conversion; "
        "`metrics` then holds the measure's own metric (it counts the same rows).",
    )
    columns: tuple[str, ...] = Field(
        (),
        description="Lists only: the columns to show, by name from the listed entity's column "
        "catalogue, or `list.column` of an entity each row links to ('charges.amount' on refunds: "
        "the refunded charge's amount), in order; empty = the entity's default columns.",
    )
    order: ListOrder | None = Field(
        None,
        description="Lists only: how rows are ordered; None = the entity's default (largest "
        "amount first). '5 most recent' = its time column desc with limit 5.",
    )
    per_group: PerGroup | None = Field(
        None,
        description="Lists only: keep the first n rows of each group in `order` ('the largest "
        "charge of each customer' = group customer, order amount desc, n 1).",
    )
    statement: str | None = Field(
        None,
        description="A statement of the semantic model (its `statements` section: a deferred "
        "revenue roll-forward, an income statement, a revenue waterfall ...) run over `time`, "
        "per original currency; `metrics` then holds the statement's own metrics.",
    )
    by_currency: bool = Field(False, description="Keep amounts per original currency.")
    currency: str | None = Field(None, description="Reporting currency; None = account default.")
    stripe_ids: bool = Field(
        False,
        description="Lists only: label rows by their Stripe ids (in_…) instead of their numbers; "
        "set when the question names objects by Stripe id ('invoices of subscription sub_…').",
    )
    limit_by: str | None = Field(
        None,
        description="Lists only: the limit counts distinct values of this column, every row of "
        "each kept ('the fee components of our 5 most recent transactions': balance_transaction).",
    )
    chart: Literal["auto", "line", "bar", "none"] = "auto"
    assumptions: tuple[Assumption, ...] = ()
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    ignored: tuple[str, ...] = Field(
        (), description="Words of the question this plan does not use; named to the user."
    )


class CannotAnswer(_Model):
    """A refusal: why, and questions that can be answered instead."""

    reason: str
    reason_class: ReasonClass = "out_of_scope"
    suggestions: tuple[str, ...] = ()


class Choice(_Model):
    """One option of a clarification question."""

    label: str
    question: str = Field(description="The question rewritten with this choice.")


class NeedsClarification(_Model):
    """The question is ambiguous; ask the user to pick."""

    question: str
    choices: tuple[Choice, ...]


PlanResult = QueryPlan | CannotAnswer | NeedsClarification
