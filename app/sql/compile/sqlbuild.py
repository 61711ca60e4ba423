"""Small builders over sqlglot's expression API, and the semantic model's fragments parsed once.

The compiler writes no SQL text: it builds expressions from identifiers it chose, literal nodes for
every value, and the semantic model's `sql:` fragments. A fragment is data (data/semantic/*.yaml):
it is parsed once, cached, and copied for each use, with its `@name` tokens bound to literal nodes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.expressions import SAFE_IDENTIFIER_RE

from app.core.errors import CompileError
from app.semantic.model import SemanticModel, tables_in

DIALECT = "duckdb"
_TOKEN = re.compile(r"@(\w+)")
Type = exp.DataType.Type
# A plan filter's comparison operator as its SQL node.
COMPARE: dict[str, type[exp.Binary]] = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}


def literal(value: str | int | Decimal | date | datetime | None) -> exp.Expr:
    """A sqlglot literal for a Python value (timestamps and dates typed)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), Type.TIMESTAMP, copy=False)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), Type.DATE, copy=False)
    if isinstance(value, int | Decimal):
        return exp.Literal.number(str(value))
    return exp.Literal.string(str(value))


def literals(values: Iterable[str | int | Decimal]) -> list[exp.Expr]:
    """One literal node per value."""
    return [literal(v) for v in values]


def fragment(sql: str, **values: exp.Expr) -> exp.Expr:
    """A fresh copy of a model fragment, each `@name` token replaced by a copy of values[name]."""
    tree = _parsed(sql)
    if not tree.find(exp.Placeholder):
        return tree.copy()

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            if node.name not in values:
                raise ValueError(f"unbound token in model fragment: {sql}")
            return values[node.name].copy()
        return node

    bound = tree.transform(bind)
    assert isinstance(bound, exp.Expr)
    return bound


@functools.cache
def _parsed(sql: str) -> exp.Expr:
    """A model fragment's tree, its `@name` tokens read as named placeholders; parsed once.

    The parser's source positions (each node's meta) are dropped: they point into the fragment's
    text, not into the compiled statement, and every copy of the tree would deep-copy them.
    """
    tree = sqlglot.parse_one(_TOKEN.sub(r":\1", sql), read=DIALECT)
    assert isinstance(tree, exp.Expr)
    for node in tree.walk():
        node._meta = None
    return tree


def col(name: str, table: str | None = None) -> exp.Column:
    """The column `table.name` (or a bare `name`)."""
    if table is None:  # sqlglot's exp.column, without the empty db and catalog parts it sets
        return exp.Column(this=_identifier(name))
    return exp.Column(this=_identifier(name), table=_identifier(table))


def _identifier(name: str) -> exp.Identifier:
    """An identifier, quoted when sqlglot's exp.to_identifier would quote it."""
    return exp.Identifier(this=name, quoted=not SAFE_IDENTIFIER_RE.match(name))


def named(expression: exp.Expr, name: str) -> exp.Alias:
    """`expression AS name`."""
    return exp.Alias(this=expression, alias=exp.to_identifier(name))


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A function call as DuckDB's parser builds it (`sum` → exp.Sum, unknown → Anonymous)."""
    return exp.func(name, *args, dialect=_duckdb(), copy=False)


@functools.cache
def _duckdb() -> Dialect:
    """DuckDB's dialect, built once (a dialect name makes sqlglot build one per call)."""
    return Dialect.get_or_raise(DIALECT)


def date_trunc(grain: str, expression: exp.Expr) -> exp.Expr:
    """`date_trunc(grain, expression)` as DuckDB's parser reads it on a timestamp column."""
    return exp.TimestampTrunc(this=expression, unit=exp.Var(this=grain.upper()))


def decimal(precision: int, scale: int) -> exp.DataType:
    """The type `DECIMAL(precision, scale)`."""
    params = [exp.DataTypeParam(this=exp.Literal.number(n)) for n in (precision, scale)]
    return exp.DataType(this=Type.DECIMAL, expressions=params)


def cast(expression: exp.Expr, to: exp.DataType | exp.DType) -> exp.Cast:
    """`CAST(expression AS to)`."""
    return exp.cast(expression, to, copy=False)


def paren(expression: exp.Expr) -> exp.Paren:
    """`(expression)`."""
    return exp.paren(expression, copy=False)


def all_of(conditions: list[exp.Expr]) -> exp.Expr:
    """`c1 AND c2 AND ...` (TRUE when there is none)."""
    return exp.and_(*conditions, copy=False) if conditions else exp.true()


def in_list(column: exp.Expr, values: list[exp.Expr]) -> exp.Expr:
    """`column IN (values)`."""
    return exp.In(this=column, expressions=values)


def none_of(column: exp.Expr, values: list[exp.Expr]) -> exp.Expr:
    """`column` is none of the values; a row without a value (NULL) is kept, not dropped.

    One value: `column IS DISTINCT FROM value`; several: `(column IS NULL OR NOT column IN (...))`.
    """
    if len(values) == 1:
        return exp.NullSafeNEQ(this=column, expression=values[0])
    missing = exp.Is(this=column.copy(), expression=exp.Null())
    return paren(exp.or_(missing, exp.Not(this=in_list(column, values)), copy=False))


def null_safe_equal(keys: list[str], left: str, right: str) -> exp.Expr:
    """`left.k IS NOT DISTINCT FROM right.k AND ...` over the keys (TRUE when there is none)."""
    return all_of([exp.NullSafeEQ(this=col(k, left), expression=col(k, right)) for k in keys])


def table(name: str, alias: str | None = None) -> exp.Table:
    """The table or CTE `name`, optionally aliased."""
    return exp.table_(name, alias=alias)


def join(
    source: exp.Expr, on: exp.Expr, side: str | None = None, kind: str | None = None
) -> exp.Join:
    """`[side] [kind] JOIN source ON on`."""
    return exp.Join(this=source, on=on, side=side, kind=kind)


def ordered(expression: exp.Expr, desc: bool | None = None) -> exp.Ordered:
    """An ORDER BY item, nulls last; `desc` True: DESC, False: an explicit ASC, None: neither."""
    return exp.Ordered(this=expression, desc=desc, nulls_first=False)


def group_by_all(select: exp.Select) -> exp.Select:
    """The select with `GROUP BY ALL`."""
    return select.group_by(exp.Group(all=True), copy=False)


def scan(
    select: exp.Select,
    model: SemanticModel,
    base: str,
    exprs: list[str],
    alias_source: str | None = None,
) -> exp.Select:
    """FROM base plus the many-to-one joins needed by the fragments `exprs` (no fan-out)."""
    needed: list[str] = []
    for e in exprs:
        for t in sorted(tables_in(e)):
            if t != base and t not in needed:
                needed.append(t)
    source = table(alias_source, alias=base) if alias_source else table(base)
    select = select.from_(source, copy=False)
    joined: set[str] = {base}
    for t in needed:
        path = model.join_path(base, t)
        if path is None:
            raise CompileError(
                f"{t} cannot be reached from {base} without multiplying rows; "
                "pick a dimension of the metric's own table or its parents"
            )
        for j in path:
            if j.to in joined:
                continue
            on = exp.EQ(this=col(j.column, j.from_), expression=col("id", j.to))
            select = select.join(join(table(j.to), on, side="LEFT"), copy=False)
            joined.add(j.to)
    return select
