"""Eval cases: the typed form of `evals/cases/*.yaml` (EVALS.md 5.3 is the contract).

A file is either the contract's plain list of cases, or (our compatible extension) a mapping
`{defaults: {warehouses: [...], scorers: [...]}, cases: [...]}` whose defaults fill the keys a case
omits. `expected.plan.period.end` is INCLUSIVE, as in the contract's example ('2025-06-30' for Q2);
`Period.end_exclusive` gives the half-open end that `QueryPlan.time.end` uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from app.core.plan import FilterOp, Grain, Ranking
from app.semantic.load import load_yaml

Outcome = Literal["answer", "refusal", "clarification"]
Difficulty = Literal["simple", "moderate", "challenging"]
RefusalClass = Literal["out_of_scope", "other_tenant", "future_forecast", "hostile_input"]
RuleKind = Literal["money", "count", "integer", "ratio", "percent", "date", "timestamp", "label"]
Unit = Literal["fraction", "percent"]

KNOWN_SCORERS = (
    "result_matches",
    "plan_matches",
    "refuses",
    "clarifies",
    "numbers_verified",
    "states_assumptions",
)
_ANSWER_ONLY_SCORERS = frozenset(
    {"result_matches", "plan_matches", "numbers_verified", "states_assumptions"}
)
_OUTCOME_SCORERS = {"answer": "result_matches", "refusal": "refuses", "clarification": "clarifies"}
DEFAULT_WAREHOUSES = ("demo",)
_SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_CLOCK_SQL = re.compile(
    r"\b(?:now|today|get_current_timestamp|get_current_time)\s*\(|"
    r"\b(?:current_date|current_timestamp|current_time|"  # allowed-clock: rejects clocks
    r"localtimestamp|localtime)\b",
    re.IGNORECASE,
)


class CaseFileError(ValueError):
    """A case file cannot be loaded; the message names the file and the case."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ValueError("expected a date written 'YYYY-MM-DD'")
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"expected a date written 'YYYY-MM-DD', got {value!r}")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnRule(_Model):
    """How one reference column is compared (EVALS.md 5.4 rule 6)."""

    kind: RuleKind
    currency_column: str | None = None
    currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$")
    scale: int | None = Field(None, ge=0, le=18, description="Decimal places; overrides currency.")
    unit: Unit | None = None
    tolerance: float = Field(1e-6, ge=0.0, description="Absolute; ratio/percent only.")
    casefold: bool = False

    @model_validator(mode="after")
    def _fits_kind(self) -> ColumnRule:
        money_only = {"currency_column": self.currency_column, "currency": self.currency}
        if self.kind != "money" and any(v is not None for v in money_only.values()):
            raise ValueError("currency/currency_column apply to money columns only")
        if self.kind == "money":
            if self.currency is not None and self.currency_column is not None:
                raise ValueError("give either currency or currency_column, not both")
            if self.currency is None and self.currency_column is None and self.scale is None:
                raise ValueError("a money column needs currency, currency_column or scale")
        elif self.scale is not None:
            raise ValueError("scale applies to money columns only")
        if self.unit is not None and self.kind not in ("ratio", "percent"):
            raise ValueError("unit applies to ratio/percent columns only")
        if self.casefold and self.kind != "label":
            raise ValueError("casefold applies to label columns only")
        return self

    @property
    def effective_unit(self) -> Unit | None:
        """The declared unit: explicit, else fraction for ratio and percent for percent."""
        if self.kind not in ("ratio", "percent"):
            return None
        return self.unit or ("fraction" if self.kind == "ratio" else "percent")


class Compare(_Model):
    """Result-comparison rules: one rule per reference column, row order, extra columns."""

    columns: dict[str, ColumnRule] = Field(min_length=1)
    order: Literal["ignore", "strict"] = "ignore"
    extra_columns: Literal["allow", "forbid"] = "allow"

    @model_validator(mode="after")
    def _currency_columns_exist(self) -> Compare:
        for name, rule in self.columns.items():
            source = rule.currency_column
            if source is None:
                continue
            if source not in self.columns or source == name:
                raise ValueError(f"column {name!r}: currency_column {source!r} is not declared")
            if self.columns[source].kind != "label":
                raise ValueError(f"column {name!r}: currency_column {source!r} must be a label")
        return self


class Period(_Model):
    """Expected plan period; `end` is INCLUSIVE (the contract's example: Q2 ends '2025-06-30')."""

    start: IsoDate
    end: IsoDate
    grain: Grain | None = Field(None, description="Calendar unit the period names (not a series).")

    @model_validator(mode="after")
    def _consistent(self) -> Period:
        if self.end < self.start:
            raise ValueError("period.end (inclusive) is before period.start")
        if self.grain in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.grain]
            for day in (self.start, self.end_exclusive):
                if day.day != 1 or (day.month - 1) % months:
                    raise ValueError(
                        f"period is not whole {self.grain}s; remember period.end is inclusive"
                    )
        return self

    @property
    def end_exclusive(self) -> date:
        """The half-open end, comparable with `QueryPlan.time.end`."""
        return self.end + timedelta(days=1)


class PlanFilter(_Model):
    """An expected filter with an explicit operator (e.g. amount over a threshold)."""

    op: FilterOp = "eq"
    values: list[str | int | Decimal] = Field(min_length=1)


FilterSpec = str | int | list[str | int] | PlanFilter


class PlanExpectation(_Model):
    """Structural expectations on the QueryPlan; only the keys written in the case are checked.

    An explicit null means "absent" (`grain: null`: one total; `filters: null`: no filters).
    `metric` means the plan's metrics are exactly [metric]; `metrics` and `dimensions` ignore
    order; `filters` maps each filtered dimension to a value, a list (eq/in) or {op, values}, and
    the plan must filter exactly those dimensions. `period.grain` describes the period and is not
    compared; the series grain is the separate `grain` key. Keys beyond metric, metrics,
    dimensions, period and filters are our compatible extension.
    """

    metric: str | None = None
    metrics: list[str] | None = None
    dimensions: list[str] | None = None
    period: Period | None = None
    filters: dict[str, FilterSpec] | None = None
    grain: Grain | None = None
    comparison: Literal["previous_period", "same_period_last_year"] | None = None
    ranking: Ranking | None = None
    listing: str | None = None
    limit: int | None = Field(None, gt=0)
    currency: str | None = None
    by_currency: bool | None = None

    @model_validator(mode="after")
    def _meaningful(self) -> PlanExpectation:
        if not self.model_fields_set:
            raise ValueError("expected.plan is empty; omit it or name what to check")
        if self.metric is not None and self.metrics is not None:
            raise ValueError("give either metric or metrics, not both")
        return self


class Inputs(_Model):
    """What the assistant is asked, with the pinned clock and tenant."""

    question: str
    as_of: IsoDate
    account: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)


class Expected(_Model):
    """What a correct response looks like for the case."""

    outcome: Outcome
    reference_sql: str | None = None
    alternatives: list[str] = Field(default_factory=list)
    compare: Compare | None = None
    plan: PlanExpectation | None = None
    assumptions: list[str] = Field(default_factory=list)
    empty: bool = False
    reason_class: RefusalClass | None = None
    choices: list[str] = Field(default_factory=list, description="Metrics a clarification offers.")

    @model_validator(mode="after")
    def _fits_outcome(self) -> Expected:
        if self.outcome == "answer":
            if not (self.reference_sql or "").strip() or self.compare is None:
                raise ValueError("an answer case needs reference_sql and compare")
            if self.reason_class is not None or self.choices:
                raise ValueError("reason_class/choices belong to refusal/clarification cases")
        else:
            answer_only = (
                "reference_sql",
                "alternatives",
                "compare",
                "plan",
                "assumptions",
                "empty",
            )
            given = sorted(self.model_fields_set & set(answer_only))
            if given:
                raise ValueError(f"a {self.outcome} case cannot have {', '.join(given)}")
            if self.outcome == "refusal" and self.reason_class is None:
                raise ValueError("a refusal case must name reason_class")
            if self.outcome == "clarification" and self.reason_class is not None:
                raise ValueError("reason_class belongs to refusal cases")
            if self.outcome == "refusal" and self.choices:
                raise ValueError("choices belong to clarification cases")
        for sql in [self.reference_sql or "", *self.alternatives]:
            if _CLOCK_SQL.search(sql):
                raise ValueError("reference SQL must not read the clock; use the case's as_of")
        return self


class Case(_Model):
    """One eval case (EVALS.md 5.3)."""

    name: str
    tags: list[str] = Field(default_factory=list)
    difficulty: Difficulty
    inputs: Inputs
    expected: Expected
    warehouses: list[str] = Field(default_factory=lambda: list(DEFAULT_WAREHOUSES))
    scorers: list[str]
    _source: Path | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _default_scorers(cls, data: Any) -> Any:
        if isinstance(data, dict) and "scorers" not in data:
            outcome = (data.get("expected") or {}).get("outcome")
            if outcome in _OUTCOME_SCORERS:
                return {**data, "scorers": [_OUTCOME_SCORERS[outcome]]}
        return data

    @field_validator("name")
    @classmethod
    def _snake_case(cls, name: str) -> str:
        if not _SNAKE_CASE.fullmatch(name):
            raise ValueError(f"case name {name!r} must be snake_case")
        return name

    @field_validator("warehouses")
    @classmethod
    def _warehouses(cls, names: list[str]) -> list[str]:
        if "demo" not in names or len(set(names)) != len(names):
            raise ValueError("warehouses must be distinct and include 'demo'")
        return names

    @model_validator(mode="after")
    def _scorers_fit(self) -> Case:
        unknown = [s for s in self.scorers if s not in KNOWN_SCORERS]
        if unknown or len(set(self.scorers)) != len(self.scorers):
            raise ValueError(f"scorers must be distinct names from {KNOWN_SCORERS}; bad: {unknown}")
        outcome = self.expected.outcome
        wrong = [s for s in self.scorers if s in _ANSWER_ONLY_SCORERS and outcome != "answer"]
        wrong += [s for s in ("refuses", "clarifies") if s in self.scorers]
        wrong = [s for s in wrong if s != _OUTCOME_SCORERS[outcome]]
        if wrong:
            raise ValueError(f"scorers {wrong} do not apply to a {outcome} case")
        if outcome == "answer" and "result_matches" not in self.scorers:
            raise ValueError("an answer case must be scored by result_matches")
        if "plan_matches" in self.scorers and self.expected.plan is None:
            raise ValueError("plan_matches needs expected.plan")
        return self

    @property
    def source(self) -> Path | None:
        """The file the case was loaded from, if any."""
        return self._source


class _FileDefaults(_Model):
    warehouses: list[str] | None = None
    scorers: list[str] | None = None


class _CaseFile(_Model):
    defaults: _FileDefaults = Field(default_factory=_FileDefaults)
    cases: list[Any]


@dataclass(frozen=True)
class InvalidCase:
    """A case (or a whole file) that failed to load: the file, the case, and what is wrong."""

    file: Path
    name: str
    message: str


def _field_errors(exc: ValidationError) -> str:
    """One `field `a.b`: problem` clause per validation error, naming the field."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(case)"
        parts.append(f"field `{where}`: {error['msg']}")
    return "; ".join(parts)


def _read_file(path: Path) -> tuple[list[Case], list[InvalidCase]]:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
        shaped = _CaseFile(cases=raw) if isinstance(raw, list) else _CaseFile.model_validate(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        reason = _field_errors(exc) if isinstance(exc, ValidationError) else str(exc)
        return [], [InvalidCase(path, path.name, f"{path}: not a case file: {reason}")]
    fill = shaped.defaults.model_dump(exclude_none=True)
    cases: list[Case] = []
    invalid: list[InvalidCase] = []
    for index, item in enumerate(shaped.cases, start=1):
        label = item.get("name") if isinstance(item, dict) else None
        name = label if isinstance(label, str) and label else f"{path.stem}#{index}"
        data = {**fill, **item} if isinstance(item, dict) else item
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            message = f"{path}: case #{index} ({label or '?'}): {_field_errors(exc)}"
            invalid.append(InvalidCase(path, name, message))
            continue
        case._source = path
        cases.append(case)
    return cases, invalid


def load_case_file(path: Path) -> list[Case]:
    """Load one YAML file in either shape (plain list, or mapping with defaults and cases)."""
    cases, invalid = _read_file(path)
    if invalid:
        raise CaseFileError(invalid[0].message)
    return cases


def case_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The case files named by files and directories (every *.yaml of a directory, sorted)."""
    roots = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for root in map(Path, roots):
        files.extend(sorted(root.glob("*.yaml")) if root.is_dir() else [root])
    return files


def load_cases_lenient(
    paths: str | Path | Iterable[str | Path],
) -> tuple[list[Case], list[InvalidCase]]:
    """Load every valid case; invalid cases, files and duplicate names are returned, not raised."""
    seen: dict[str, Path | None] = {}
    cases: list[Case] = []
    invalid: list[InvalidCase] = []
    for file in case_files(paths):
        loaded, bad = _read_file(file)
        invalid.extend(bad)
        for case in loaded:
            if case.name in seen:
                message = f"{file}: duplicate case name {case.name!r} (also in {seen[case.name]})"
                invalid.append(InvalidCase(file, case.name, message))
                continue
            seen[case.name] = file
            cases.append(case)
    return cases, invalid


def load_cases(paths: str | Path | Iterable[str | Path]) -> list[Case]:
    """Load cases from files and directories (every *.yaml, sorted); names must be unique."""
    cases, invalid = load_cases_lenient(paths)
    if invalid:
        raise CaseFileError(invalid[0].message)
    return cases
