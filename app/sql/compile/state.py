"""What one compilation works with: the account, the plan, its CTEs so far, and the result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from app.core.answer import ChartSpec, Column, Period
from app.core.errors import CompileError
from app.core.plan import Assumption, QueryPlan
from app.semantic.model import SemanticModel, tables_in
from app.sql.compile.sqlbuild import Params
from app.sql.compile.timeframe import Frame


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


@dataclass
class Compiled:
    """A compiled plan: the SQL expression plus how to present its columns."""

    expression: exp.Expression
    columns: list[Column]
    chart: ChartSpec | None
    period: Period | None
    currency: str | None
    notes: list[Assumption] = field(default_factory=list)


@dataclass
class CompileState:
    """One compilation's state: parameters, CTEs, dimensions, notes and the output key columns."""

    ctx: CompileContext
    plan: QueryPlan
    frame: Frame
    target: str | None
    params: Params = field(default_factory=Params)
    ctes: list[tuple[str, str]] = field(default_factory=list)
    dim_names: list[str] = field(default_factory=list)
    notes: list[Assumption] = field(default_factory=list)
    fx_added: bool = False
    memo: dict[tuple[str, ...], str] = field(default_factory=dict)

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

    def cte(self, name: str, sql: str) -> str:
        """Add a CTE and return its name."""
        self.ctes.append((name, sql))
        return name


def from_clause(
    model: SemanticModel, table: str, exprs: list[str], alias_source: str | None = None
) -> str:
    """FROM table plus the many-to-one joins needed by the expressions (no fan-out)."""
    needed: list[str] = []
    for e in exprs:
        for t in sorted(tables_in(e)):
            if t != table and t not in needed:
                needed.append(t)
    clause = f"{alias_source} AS {table}" if alias_source else table
    joined: set[str] = {table}
    for t in needed:
        path = model.join_path(table, t)
        if path is None:
            raise CompileError(
                f"{t} cannot be reached from {table} without multiplying rows; "
                "pick a dimension of the metric's own table or its parents"
            )
        for j in path:
            if j.to in joined:
                continue
            clause += f" LEFT JOIN {j.to} ON {j.from_}.{j.column} = {j.to}.id"
            joined.add(j.to)
    return clause
