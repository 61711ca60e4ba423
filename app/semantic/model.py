"""Typed models of the semantic YAML (metrics, dimensions, reports, the model); its join paths.

Joins, list specs and `tables_in` live in `app.semantic.parts`, re-exported here.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from pydantic import Field, model_validator

from app.core.plan import Grain
from app.semantic.parts import Join as Join
from app.semantic.parts import ListColumn as ListColumn
from app.semantic.parts import ListSpec as ListSpec
from app.semantic.parts import Part
from app.semantic.parts import tables_in as tables_in
from app.semantic.rollups import Rollup
from app.semantic.statements import Statement

Movement = Literal["new", "expansion", "contraction", "churned", "reactivation"]


class ImpliedFilter(Part):
    """A word that, with this metric, also restricts a dimension ("VAT" → tax_type = vat)."""

    words: tuple[str, ...]
    dimension: str
    values: tuple[str, ...]
    names_metric: bool = Field(
        True,
        description="The words alone name the metric ('VAT'); false for a qualifier said after "
        "it ('tax given back on refunds'), whose metric words are the qualifier's.",
    )


class Variant(Part):
    """Words that, said with this metric, name a variant of it ("dispute rate by charge date")."""

    words: tuple[str, ...]
    metric: str


class Reconciliation(Part):
    """Figures that should add up to this metric on a page, and why they may not exactly."""

    parts: tuple[str, ...] = Field(
        description="Metrics (or a metric's `<name>_change` against the previous period) "
        "whose sum is expected to match; a leading '-' subtracts one."
    )
    gap: str = Field(description="Why the parts and the metric can differ, from the definitions.")

    @property
    def terms(self) -> tuple[tuple[int, str], ...]:
        """Each part as (sign, column name)."""
        return tuple((-1, p[1:]) if p.startswith("-") else (1, p) for p in self.parts)


class ImpliedDimension(Part):
    """Words that, said with this metric, ask for a breakdown without "by" ("AR aging")."""

    words: tuple[str, ...]
    dimension: str


class Metric(Part):
    """A business metric: meaning, SQL, unit, time behaviour, currency handling, synonyms."""

    name: str
    label: str
    definition: str
    unit: Literal["money", "count", "ratio"]
    aggregation: Literal["flow", "stock", "snapshot", "ratio", "custom", "movement"]
    table: str | None = None
    measure: str | None = None
    where: tuple[str, ...] = ()
    time: str | None = None
    time_zone: Literal["utc", "local"] = "utc"
    grains: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
    currency: str | None = None
    entity: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    denominator_at: Literal["period", "start"] = "period"
    offset: int = 0
    template: str | None = None
    synonyms: tuple[str, ...] = ()
    implied_filters: tuple[ImpliedFilter, ...] = ()
    variants: tuple[Variant, ...] = ()
    implied_dimensions: tuple[ImpliedDimension, ...] = ()
    drivers: tuple[str, ...] = Field(
        (), description="Metrics whose sum explains a change of this one ('why' questions)."
    )
    lowering: tuple[str, ...] = Field(
        (),
        description="Drivers shown as positive amounts that lower this metric (churn, "
        "contraction): subtracted in its change's bridge.",
    )
    reconciles: Reconciliation | None = Field(
        None, description="Related figures that should add up to this one (reconciliation note)."
    )
    movement: Movement | None = Field(
        None, description="For a movement metric: the kind of month-on-month change it sums."
    )
    read_at: Literal["end", "start"] = Field(
        "end",
        description="For a stock: read at the end of each period (a balance, closing MRR) or at "
        "its start, the end of the day before its first day (opening MRR).",
        # Left out of the dump when "end", so every other metric's JSON (which rollup
        # fingerprints hash) is what it was before the field existed.
        exclude_if=lambda v: v == "end",
    )
    once_per: str | None = Field(
        None,
        description="A flow over child rows that repeat one value per key (a line's taxable "
        "base on each of its jurisdictions): `measure` takes it once per key and group.",
    )

    @model_validator(mode="after")
    def _shape(self) -> Metric:
        if self.aggregation == "ratio":
            if not (self.numerator and self.denominator):
                raise ValueError(f"ratio metric {self.name} needs numerator and denominator")
        elif self.aggregation == "custom":
            if not (self.template and self.table):
                raise ValueError(f"custom metric {self.name} needs table and template")
        elif not (self.table and self.measure and self.time):
            raise ValueError(f"metric {self.name} needs table, measure and time")
        if (self.aggregation == "movement") != bool(self.movement and self.entity):
            raise ValueError(f"metric {self.name}: a movement metric needs movement and entity")
        if self.once_per and self.aggregation != "flow":
            raise ValueError(f"metric {self.name}: once_per is for flow metrics")
        if self.unit == "money" and self.aggregation not in ("ratio",) and not self.currency:
            raise ValueError(f"money metric {self.name} needs a currency column")
        return self


class Measure(Part):
    """A value of one row (a charge's amount, an invoice's customer) for statistics over rows."""

    name: str
    label: str
    definition: str
    unit: Literal["money", "key", "number"] = Field(
        description="money: minor units with a currency column; key: an id, counted distinct "
        "only; number: a plain number (a risk score)."
    )
    metric: str = Field(description="The metric counting or summing the same rows.")
    table: str
    expr: str
    where: tuple[str, ...] = ()
    time: str
    time_zone: Literal["utc", "local"] = "utc"
    currency: str | None = None
    words: tuple[str, ...] = Field((), description="Phrases naming the measure itself.")
    entity_words: tuple[str, ...] = Field(
        (), description="Nouns of its rows ('charges'): 'median amount of charges' names it."
    )


class Dimension(Part):
    """A way to break down or filter: a column of one table, reached through many-to-one joins."""

    name: str
    label: str
    expr: str
    table: str
    key: str | None = None
    values: str | dict[str, tuple[str, ...]] | None = None
    synonyms: tuple[str, ...] = ()
    may_be_empty: bool = Field(
        False, description="The column may be empty in a warehouse: filters check it is recorded."
    )
    definition: str = Field("", description="Stated in the answer when the dimension is used.")
    determines: tuple[str, ...] = Field(
        (), description="Dimensions with one value per value of this one (same grain beside it)."
    )
    via: str | None = Field(
        None,
        description="A child table of `table` whose rows are rolled up per row of `table` (labels "
        "joined with ', '); `expr` is read on its rows.",
    )
    via_where: tuple[str, ...] = Field((), description="Which rows of the `via` table count.")
    value_labels: dict[str, str] = Field(
        default_factory=dict,
        description="How a stored code is shown to people (bacs_debit → Bacs Direct Debit).",
    )
    plural: str = Field("", description="The label's plural when adding an s is wrong.")


class Ambiguity(Part):
    """An ambiguous word: its default metric (stated as an assumption) or a clarification."""

    words: tuple[str, ...]
    default: str | None = None
    alternatives: tuple[str, ...] = ()
    clarify: bool = False
    note: str = ""
    question: str = ""
    except_in: tuple[str, ...] = Field(
        (), description="Phrases in which the words mean something else ('make up': compose)."
    )
    verb_of_things: bool = Field(
        False,
        description="Right after a word naming things the model lists or counts ('charges made', "
        "'payments were made'), the word is what happened to them, not this meaning.",
    )


class ReportMeasure(Part):
    """One column of a report, named by words: its amount metric, its count metric, or both."""

    words: tuple[str, ...]
    amount: str | None = None
    count: str | None = None


class Report(Part):
    """Metrics read side by side ("MRR movements", "balance activity (count, gross, fee, net)").

    The first measure is the report's base (its rows, e.g. all disputes); with ``complete`` the
    report's words alone ask for every measure. ``count_words`` ask for each measure's count
    beside its amount ("with customer counts").
    """

    name: str
    label: str
    words: tuple[str, ...]
    measures: tuple[ReportMeasure, ...]
    complete: bool = False
    count_words: tuple[str, ...] = ()
    requires: tuple[str, ...] = Field(
        (),
        description="Words one of which the question says for the report to be named by its "
        "words ('opening' for an MRR bridge); it goes before a report sharing its words.",
    )


class SemanticModel(Part):
    """The whole semantic model, validated."""

    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    joins: tuple[Join, ...]
    lists: dict[str, ListSpec]
    measures: dict[str, Measure] = Field(default_factory=dict)
    ambiguous: tuple[Ambiguity, ...]
    countries: dict[str, tuple[str, ...]]
    states: dict[str, tuple[str, ...]]
    currencies: dict[str, tuple[str, ...]]
    zero_decimal_currencies: tuple[str, ...]
    sha256: str
    reports: dict[str, Report] = Field(default_factory=dict)
    rollups: dict[str, Rollup] = Field(default_factory=dict)  # data/semantic/rollups.yaml
    statements: dict[str, Statement] = Field(default_factory=dict)  # statements.yaml

    def metric(self, name: str) -> Metric:
        """Return the metric called `name`."""
        return self.metrics[name]

    def join_path(
        self, source: str, target: str, extra: tuple[Join, ...] = ()
    ) -> list[Join] | None:
        """Many-to-one joins leading from table `source` to table `target` (None if unreachable)."""
        key = (self.sha256, source, target, extra)
        if key not in _PATHS:
            _PATHS[key] = _join_path((*self.joins, *extra), source, target)
        found = _PATHS[key]
        return None if found is None else list(found)

    def list_column(self, spec: ListSpec, name: str) -> ListColumn | None:
        """A column of a list: its own, or `other.column` of a list it reaches many-to-one.

        "charges.amount" on refunds is the refunded charge's amount. A borrowed column keeps its
        own name unless the list has one by that name ("charge_amount" then); only columns read
        on the other list's own table can be borrowed.
        """
        own = spec.column(name)
        if own is not None or "." not in name:
            return own
        other = self.lists.get(name.partition(".")[0])
        column = other.column(name.partition(".")[2]) if other is not None else None
        if other is None or column is None or other is spec or not self.reaches(spec, other):
            return None
        if column.via is not None or tables_in(column.expr) != {other.table}:
            return None
        shown = column.name
        if spec.column(shown) is not None:
            shown = f"{other.key}_id" if shown == other.key else f"{other.key}_{shown}"
        label = f"{other.key.replace('_', ' ')} {(column.label or column.name).replace('_', ' ')}"
        if column.name == other.key:
            label = other.key.replace("_", " ")
        currency = other.currency if column.kind == "money" else None
        return column.model_copy(
            update={"name": shown, "label": label.capitalize(), "currency": currency}
        )

    def reaches(self, spec: ListSpec, other: ListSpec) -> bool:
        """Whether each row of `spec` has at most one row of `other` (a many-to-one path)."""
        return self.join_path(spec.table, other.table, spec.joins) is not None

    def names_object(self, spec: ListSpec, column: ListColumn) -> ListSpec | None:
        """The list whose object a column identifies ("charge" on refunds names the charge)."""
        cache_key = (self.sha256, spec.name, column.name, column.expr)
        if cache_key not in _OBJECTS:
            _OBJECTS[cache_key] = next(
                (
                    other.name
                    for other in self.lists.values()
                    if other is not spec
                    and (key := other.column(other.key)) is not None
                    and self.reaches(spec, other)
                    and (column.name == other.key or column.expr == key.expr)
                ),
                None,
            )
        found = _OBJECTS[cache_key]
        return None if found is None else self.lists[found]


# The list a column names the object of, per (model, list, column name, column SQL): readers ask
# for every column of every list they read.
_OBJECTS: dict[tuple[str, str, str, str], str | None] = {}
# Join paths per (model, source, target, extra joins): readers and the compiler ask many times.
_PATHS: dict[tuple[str, str, str, tuple[Join, ...]], list[Join] | None] = {}


def _join_path(joins: tuple[Join, ...], source: str, target: str) -> list[Join] | None:
    if source == target:
        return []
    queue: deque[tuple[str, list[Join]]] = deque([(source, [])])
    seen = {source}
    while queue:
        table, path = queue.popleft()
        for j in joins:
            if j.from_ == table and j.to not in seen:
                if j.to == target:
                    return [*path, j]
                seen.add(j.to)
                queue.append((j.to, [*path, j]))
    return None
