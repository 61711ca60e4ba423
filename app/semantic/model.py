"""Load and validate data/semantic/*.yaml into typed models; look words up in them."""

from __future__ import annotations

import hashlib
from collections import deque
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pydantic
import sqlglot
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlglot import exp

from app.core import resources
from app.core.errors import SemanticModelError
from app.core.plan import Grain
from app.semantic.cache import cached_parse

SEMANTIC_DIR = resources.semantic_dir()


Movement = Literal["new", "expansion", "contraction", "churned", "reactivation"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImpliedFilter(_Model):
    """A word that, with this metric, also restricts a dimension ("VAT" → tax_type = vat)."""

    words: tuple[str, ...]
    dimension: str
    values: tuple[str, ...]


class Metric(_Model):
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
    drivers: tuple[str, ...] = Field(
        (), description="Metrics whose sum explains a change of this one ('why' questions)."
    )
    movement: Movement | None = Field(
        None, description="For a movement metric: the kind of month-on-month change it sums."
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
        if self.unit == "money" and self.aggregation not in ("ratio",) and not self.currency:
            raise ValueError(f"money metric {self.name} needs a currency column")
        return self


class Dimension(_Model):
    """A way to break down or filter: a column of one table, reached through many-to-one joins."""

    name: str
    label: str
    expr: str
    table: str
    key: str | None = None
    values: str | dict[str, tuple[str, ...]] | None = None
    synonyms: tuple[str, ...] = ()
    determines: tuple[str, ...] = Field(
        (), description="Dimensions with one value per value of this one (same grain beside it)."
    )


class Join(_Model):
    """A many-to-one edge: `from_.column` references `to.id`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field(alias="from")
    column: str
    to: str


class ListColumn(_Model):
    """A column of a row-by-row list."""

    name: str
    expr: str
    kind: Literal["label", "date", "money", "count"]


class ListSpec(_Model):
    """An entity that can be listed row by row, with the statuses words imply."""

    name: str
    label: str
    table: str
    synonyms: tuple[str, ...]
    time: str
    amount: str
    currency: str
    columns: tuple[ListColumn, ...]
    order: str
    states: dict[str, tuple[str, ...]]


class Ambiguity(_Model):
    """An ambiguous word: its default metric (stated as an assumption) or a clarification."""

    words: tuple[str, ...]
    default: str | None = None
    alternatives: tuple[str, ...] = ()
    clarify: bool = False
    note: str = ""
    question: str = ""


class ReportMeasure(_Model):
    """One column of a report, named by words: its amount metric, its count metric, or both."""

    words: tuple[str, ...]
    amount: str | None = None
    count: str | None = None


class Report(_Model):
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


class SemanticModel(_Model):
    """The whole semantic model, validated."""

    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    joins: tuple[Join, ...]
    lists: dict[str, ListSpec]
    ambiguous: tuple[Ambiguity, ...]
    countries: dict[str, tuple[str, ...]]
    states: dict[str, tuple[str, ...]]
    currencies: dict[str, tuple[str, ...]]
    zero_decimal_currencies: tuple[str, ...]
    sha256: str
    reports: dict[str, Report] = Field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        """Return the metric called `name`."""
        return self.metrics[name]

    def join_path(self, source: str, target: str) -> list[Join] | None:
        """Many-to-one joins leading from table `source` to table `target` (None if unreachable)."""
        return _join_path(self.joins, source, target)


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


@cache
def tables_in(sql: str) -> frozenset[str]:
    """Table names referenced as `table.column` in a trusted model expression."""
    tree = sqlglot.parse_one(sql.replace("@", "__at_"), read="duckdb")
    return frozenset(c.table for c in tree.find_all(exp.Column) if c.table)


def _check(model: SemanticModel) -> None:
    for m in model.metrics.values():
        for ref in (m.numerator, m.denominator, *m.drivers):
            if ref and ref not in model.metrics:
                raise SemanticModelError(f"{m.name}: unknown metric {ref}")
        if m.aggregation in ("ratio", "custom"):
            continue
        assert m.table and m.measure and m.time
        exprs = [m.measure, m.time, *m.where, *([m.currency] if m.currency else [])]
        for e in exprs:
            for t in tables_in(e):
                if model.join_path(m.table, t) is None:
                    raise SemanticModelError(f"{m.name}: {t} unreachable from {m.table}")
    for d in model.dimensions.values():
        if d.table != "*":
            tables_in(d.expr)
        for name in d.determines:
            if name not in model.dimensions:
                raise SemanticModelError(f"dimension {d.name}: unknown dimension {name}")
    for r in model.reports.values():
        for ref in (n for ms in r.measures for n in (ms.amount, ms.count) if n):
            if ref not in model.metrics:
                raise SemanticModelError(f"report {r.name}: unknown metric {ref}")
    for spec in model.lists.values():
        for c in spec.columns:
            for t in tables_in(c.expr):
                if model.join_path(spec.table, t) is None:
                    raise SemanticModelError(f"list {spec.name}: {t} unreachable")


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML safely, with libyaml's loader when PyYAML has it (same result, ~10x faster)."""
    import yaml  # only here: the packaged model usually comes from the parse cache

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_semantic_model(directory: Path = SEMANTIC_DIR) -> SemanticModel:
    """Load, validate and hash the semantic model YAML files."""
    files = sorted(directory.glob("*.yaml"))
    raw: dict[str, object] = {}
    digest = hashlib.sha256()
    for f in files:
        text = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + text)
        raw.update(load_yaml(text) or {})
    try:
        metrics = {m["name"]: Metric(**m) for m in raw["metrics"]}  # type: ignore[attr-defined]
        dims = {d["name"]: Dimension(**d) for d in raw["dimensions"]}  # type: ignore[attr-defined]
        lists = {s["name"]: ListSpec(**s) for s in raw["lists"]}  # type: ignore[attr-defined]
        model = SemanticModel(
            metrics=metrics,
            dimensions=dims,
            joins=tuple(Join(**j) for j in raw["joins"]),  # type: ignore[attr-defined]
            lists=lists,
            ambiguous=tuple(Ambiguity(**a) for a in raw["ambiguous"]),  # type: ignore[attr-defined]
            countries=raw["countries"],
            states=raw["states"],
            currencies=raw["currencies"],
            zero_decimal_currencies=raw["zero_decimal_currencies"],
            sha256=digest.hexdigest(),
            reports={r["name"]: Report(**r) for r in raw.get("reports", [])},  # type: ignore[attr-defined]
        )
    except (KeyError, TypeError, ValidationError) as err:
        raise SemanticModelError(f"invalid semantic model: {err}") from err
    _check(model)
    return model


@cache
def semantic_model() -> SemanticModel:
    """The packaged semantic model, loaded once (and kept, validated, in the parse cache)."""
    code = [
        Path(__file__).read_bytes(),
        pydantic.VERSION.encode(),
        str(getattr(sqlglot, "__version__", "")).encode(),
    ]
    # A cached entry's types are validated again; its cross-checks passed when it was written.
    return cached_parse(
        "semantic",
        SEMANTIC_DIR.glob("*.yaml"),
        code,
        load_semantic_model,
        lambda m: m.model_dump_json(by_alias=True),
        SemanticModel.model_validate_json,
    )
