"""When an answer's rows add up to a whole: the rule behind headlines, Total rows and shares.

A headline states the whole answer's figure, or is a sentence for a table; it never passes one
row of a breakdown off as the answer. The rule, in one place:

* one total: that total;
* a single series: its period total when the metric adds up over time (flows), else its latest
  point, said so ("latest, December 2025");
* a breakdown whose metric adds up: "Total: $X across N <dimension plural>", and the table gets
  a Total row and each row's share;
* anything else is a sentence naming what the table shows, with no single number. A metric's
  rows do not add up when it is a ratio, a statistic of single rows (average, median, distinct
  count), a balance across time, a count of distinct customers that a breakdown can count
  twice, or a once-per-key amount broken down below its key; the rows of an answer are not the
  whole when they are a top N or cut at the row limit, and amounts in several currencies do not
  add up unconverted.

A dimension read on a child table (`via`, e.g. VAT numbers) is rolled up to one value per row
(`app.sql.compile.breakdown.rollup`), so it never counts a row twice and adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.core.answer import Answer, Column
from app.core.plan import QueryPlan
from app.semantic.format import plural_noun
from app.semantic.model import Metric, SemanticModel

_STATISTICS = {
    "avg": "an average",
    "median": "a median",
    "percentile": "a percentile",
    "min": "a minimum",
    "max": "a maximum",
}


@dataclass(frozen=True)
class Summing:
    """Per metric of a plan, why its rows do not add up to the whole ('' when they do)."""

    why_not: Mapping[str, str] = field(default_factory=dict)
    partial: str = ""  # which part of the whole the rows are ("the top 10"), if only a part
    direction: str = "top"  # the order of a ranked answer (its first row leads or trails)
    ranked: int | None = None  # N of a top N
    default: str = "it is no metric of the semantic model"  # for a column no plan names

    def reason(self, column: str) -> str:
        """Why the rows of `column` do not add up ('' when they do): a metric or its change."""
        for suffix in ("_previous", "_change"):
            if column.endswith(suffix) and column.removesuffix(suffix) in self.why_not:
                return self.why_not[column.removesuffix(suffix)]
        return self.why_not.get(column, self.default)


UNKNOWN = Summing()
"""What is known of a pasted query's columns: nothing, so nothing is totalled."""


def summing(plan: QueryPlan, model: SemanticModel) -> Summing:
    """Which metrics of the plan add up over its rows (dimensions and time buckets)."""
    why = {name: _why_not(plan, model, name) for name in plan.metrics}
    default = _statistic(plan) or Summing.default
    if plan.ranking is not None:
        r = plan.ranking
        return Summing(why, f"the {r.direction} {r.n}", r.direction, r.n, default)
    if plan.limit is not None:
        return Summing(why, f"the first {plan.limit}", default=default)
    return Summing(why, default=default)


def _statistic(plan: QueryPlan) -> str:
    if plan.aggregate is None:
        return ""
    if plan.aggregate.func == "count_distinct":
        return "a distinct count does not add up across rows (one value can be in several)"
    return f"{_STATISTICS[plan.aggregate.func]} does not add up across rows"


def _why_not(plan: QueryPlan, model: SemanticModel, name: str) -> str:
    """Why one metric's rows in this plan do not add up to the whole ('' when they do)."""
    m = model.metrics.get(name)
    if m is None:
        return Summing.default
    if plan.aggregate is not None:
        return _statistic(plan)
    if m.unit == "ratio" or m.aggregation == "ratio":
        return "a ratio does not add up across rows"
    if m.aggregation == "custom":
        return "a calculated figure does not add up across rows"
    if plan.grain and m.aggregation in ("stock", "snapshot"):
        return "a balance at a point in time does not add up over time"
    if m.entity and (m.aggregation == "stock" or m.unit == "count"):
        entity = plural_noun(m.entity.rpartition(".")[2].removesuffix("_id"))
        if plan.grain and m.aggregation == "movement":
            return f"{entity} are counted once per period, so one can count in several"
        if not all(_determined(model, m, d) for d in plan.dimensions):
            return f"{entity} are counted once each, and one can be in several rows"
    if m.once_per:
        key_table, _, key = m.once_per.rpartition(".")
        below = [d for d in plan.dimensions if _table(model, d) == key_table]
        if below:
            what = key.removesuffix("_id").replace("_", " ")
            return f"one {what} counts in each of its {_plural(model, below[0])}"
    return ""


def _table(model: SemanticModel, dimension: str) -> str:
    dim = model.dimensions.get(dimension)
    return dim.table if dim is not None else ""


def _plural(model: SemanticModel, dimension: str) -> str:
    dim = model.dimensions[dimension]
    return dim.plural or plural_noun(dim.label.lower())


def _determined(model: SemanticModel, m: Metric, dimension: str) -> bool:
    """Whether each counted entity (a customer) has one value of the dimension."""
    assert m.entity is not None
    table, _, column = m.entity.rpartition(".")
    owner = next((j.to for j in model.joins if j.from_ == table and j.column == column), None)
    dim_table = _table(model, dimension)
    if owner is None or dim_table in ("", "*"):
        return False
    return model.join_path(owner, dim_table) is not None


@dataclass(frozen=True)
class Totals:
    """The Total row of a result (one cell per column, None where a column has no total).

    `shares` is each row's exact share of the first metric's total (Decimal division, rounded
    only when shown), for a breakdown whose values are all positive or zero; else empty.
    """

    row: list[Any]
    shares: list[Decimal | None]


def several_currencies(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> bool:
    """Whether the rows hold amounts in more than one original currency."""
    names = [c.name for c in columns]
    if "currency" not in names:
        return False
    i = names.index("currency")
    return len({r[i] for r in rows}) > 1


def no_total(
    rule: Summing,
    metric: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    truncated: bool,
) -> str:
    """Why the rows of `metric` in this result have no total ('' when they have one)."""
    if rule.reason(metric):
        return rule.reason(metric)
    if rule.partial:
        return f"the rows are only {rule.partial}"
    if truncated:
        return "the rows are cut at the row limit"
    if several_currencies(columns, rows):
        return "amounts in different currencies do not add up"
    return ""


def totals(
    rule: Summing,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    truncated: bool,
    breakdown: bool,
) -> Totals | None:
    """The Total row and shares of a result whose rows add up (None when none of them do).

    `breakdown`: the rows are groups of a dimension (not time buckets), which have shares.
    """
    if len(rows) < 2:
        return None
    row: list[Any] = [None] * len(columns)
    for i, c in enumerate(columns):
        if c.kind in ("money", "count") and not no_total(rule, c.name, columns, rows, truncated):
            row[i] = _sum(r[i] for r in rows)
    names = [c.name for c in columns]
    for i, name in enumerate(names):  # a total's change in percent, from its own totals
        base = name.removesuffix("_change_pct")
        if name != base and {f"{base}_change", f"{base}_previous"} <= set(names):
            change, previous = (
                row[names.index(f"{base}_change")],
                row[names.index(f"{base}_previous")],
            )
            if change is not None and previous:
                row[i] = Decimal(change) / Decimal(previous)
    if all(v is None for v in row):
        return None
    first = next((i for i, c in enumerate(columns) if c.kind in ("money", "count", "ratio")), None)
    shares: list[Decimal | None] = []
    if breakdown and first is not None and row[first] is not None:
        whole = Decimal(row[first])
        values = [r[first] for r in rows]
        if whole > 0 and all(v is None or Decimal(str(v)) >= 0 for v in values):
            shares = [None if v is None else Decimal(str(v)) / whole for v in values]
    return Totals(row=row, shares=shares)


def _sum(values: Iterable[Any]) -> Decimal | int | None:
    """The exact sum of a column (an int for counts), None when every cell is empty."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return int(sum(present))
    return sum((Decimal(str(v)) for v in present), Decimal(0))


SHARE = Column(name="share", kind="ratio", label="Share")
TOTAL = "Total"


@dataclass(frozen=True)
class Shown:
    """An answer's table as people see it: its rows with a Share column, and its Total row."""

    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None  # the label cell holds TOTAL; a cell without a total holds None


def shown_table(answer: Answer) -> Shown:
    """The answer's rows, with each row's share and the Total row when the metric adds up.

    The Total row and shares are the answer's own (`Answer.total`, `Answer.shares`); the rows
    themselves stay as the query returned them.
    """
    columns, rows = list(answer.columns), [list(r) for r in answer.rows]
    total = list(answer.total) if answer.total is not None else None
    if answer.shares and len(answer.shares) == len(rows):
        columns.append(SHARE)
        rows = [[*r, s] for r, s in zip(rows, answer.shares, strict=True)]
        total = [*total, Decimal(1)] if total is not None else None
    if total is not None:
        labels = [i for i, c in enumerate(columns) if c.kind in ("label", "date")]
        total[labels[0] if labels else 0] = TOTAL
    return Shown(columns, rows, total)
