"""What one compilation works with: the account, the plan, its CTEs so far, and the result type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlglot import exp

from app.core.answer import ChartSpec, Column, Period
from app.core.plan import Assumption, QueryPlan
from app.semantic.model import Metric, SemanticModel
from app.sql.compile.timeframe import Frame

Aggregation = Literal["flow", "stock", "snapshot", "ratio", "custom", "movement"]


@dataclass(frozen=True)
class AccountInfo:
    """The requesting merchant account: id, reporting time zone and default currency."""

    id: str
    timezone: str
    currency: str
    name: str = ""


@dataclass(frozen=True)
class CompileContext:
    """Everything the compiler needs besides the plan."""

    account: AccountInfo
    as_of: date
    model: SemanticModel
    currency: str | None = None  # reporting currency of plans that name none (None: the account's)
    rollups: frozenset[str] = frozenset()  # rollups fresh in this warehouse for the account


@dataclass
class Compiled:
    """A compiled plan: the SQL expression plus how to present its columns."""

    expression: exp.Expression
    columns: list[Column]
    chart: ChartSpec | None
    period: Period | None
    currency: str | None
    notes: list[Assumption] = field(default_factory=list)
    title: str = ""  # a list in words ("The 5 most recent failed charges")
    row_limit: int | None = None  # a list's LIMIT
    uses_rates: bool = False  # amounts are converted with the exchange rates
    compared: Period | None = None  # the comparison period of a total compared with another


@dataclass
class CompileState:
    """One compilation's state: the plan, its CTEs so far, dimensions, notes and output keys.

    `compilers` is the dispatch table by metric kind (compiler.COMPILERS): a metric built on
    others (a ratio) compiles them through `metric()`.
    """

    ctx: CompileContext
    plan: QueryPlan
    frame: Frame
    target: str | None
    compilers: Mapping[Aggregation, MetricCompiler]
    ctes: list[tuple[str, exp.Query]] = field(default_factory=list)
    dim_names: list[str] = field(default_factory=list)
    notes: list[Assumption] = field(default_factory=list)
    fx_added: bool = False
    memo: dict[tuple[object, ...], str] = field(default_factory=dict)

    @property
    def dim_cols(self) -> list[str]:
        """Output columns of the requested dimensions (a keyed dimension adds its id first)."""
        out: list[str] = []
        for name in self.dim_names:
            if self.ctx.model.dimensions[name].key:
                out.append(f"{name}_id")
            out.append(name)
        return out

    @property
    def keys(self) -> list[str]:
        """Output key columns of every metric CTE."""
        return ["period", *self.dim_cols, *(["currency"] if self.target is None else [])]

    def cte(self, name: str, query: exp.Query) -> str:
        """Add a CTE and return its name."""
        self.ctes.append((name, query))
        return name

    def metric(self, m: Metric) -> str:
        """Add the CTEs computing metric m per key once; return the CTE holding its value.

        A metric listed beside a ratio built on it (gross volume and refund rate) is compiled
        once: the second request returns the first one's CTE.
        """
        return self.once(("metric", m.name), lambda: self.compilers[m.aggregation](self, m))

    def once(self, key: tuple[object, ...], build: Callable[[], str]) -> str:
        """The CTE name memoised under key, calling build() to add its CTEs the first time."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]


MetricCompiler = Callable[[CompileState, Metric], str]
