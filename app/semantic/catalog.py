"""The warehouse catalog read from data/ddl/*.sql: tables, columns, types, comments, money units."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from app.core import resources
from app.semantic.cache import cached_parse

DDL_DIR = resources.ddl_dir()
TENANT_COLUMN = "merchant_id"  # on every table: the account a row belongs to
MONEY_MARK = "minor units"  # DDL comments of money columns say "..., minor units"


@dataclass(frozen=True)
class ColumnInfo:
    """One warehouse column: DuckDB type, DDL comment, and whether it holds minor-unit money."""

    name: str
    type: str
    comment: str = ""

    @property
    def money(self) -> bool:
        """Whether the column holds an amount in minor units of the row's currency."""
        return MONEY_MARK in self.comment.lower()


@dataclass(frozen=True)
class TableInfo:
    """One warehouse table or view with its comment and columns in DDL order."""

    name: str
    comment: str
    columns: tuple[ColumnInfo, ...]
    view_of: str | None = None  # for a view: the table it selects from

    def column(self, name: str) -> ColumnInfo | None:
        """The column called `name` (case-insensitive), or None."""
        wanted = name.strip().lower()
        return next((c for c in self.columns if c.name.lower() == wanted), None)


def _type(kind: exp.DataType) -> str:
    text = kind.sql(dialect="duckdb")
    return "VARCHAR" if text == "TEXT" else text  # sqlglot spells DuckDB's VARCHAR as TEXT


def _name(node: exp.Expression) -> str:
    table = node if isinstance(node, exp.Table) else node.find(exp.Table)
    return table.name.lower() if table is not None else ""


def load_catalog(ddl_dir: Path = DDL_DIR) -> dict[str, TableInfo]:
    """Parse the DDL files into TableInfo by table name (views take their source's columns)."""
    columns: dict[str, list[tuple[str, str]]] = {}
    views: dict[str, str] = {}
    comments: dict[tuple[str, str], str] = {}
    for path in sorted(ddl_dir.glob("*.sql")):
        for statement in sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb"):
            if isinstance(statement, exp.Create) and statement.kind == "TABLE":
                schema = statement.this
                columns[_name(schema)] = [
                    (d.name, _type(d.args["kind"]))
                    for d in schema.expressions
                    if isinstance(d, exp.ColumnDef)
                ]
            elif isinstance(statement, exp.Create) and statement.kind == "VIEW":
                source = statement.expression.find(exp.Table) if statement.expression else None
                views[_name(statement.this)] = source.name.lower() if source else ""
            elif isinstance(statement, exp.Comment) and isinstance(
                statement.expression, exp.Literal
            ):
                target = statement.this
                if statement.args.get("kind", "").upper() == "COLUMN" and isinstance(
                    target, exp.Column
                ):
                    comments[(target.table.lower(), target.name)] = statement.expression.this
                else:
                    comments[(_name(target), "")] = statement.expression.this
    catalog: dict[str, TableInfo] = {}
    for table, cols in columns.items():
        catalog[table] = TableInfo(
            name=table,
            comment=comments.get((table, ""), ""),
            columns=tuple(ColumnInfo(n, t, comments.get((table, n), "")) for n, t in cols),
        )
    for view, source in views.items():
        if source in catalog:
            catalog[view] = TableInfo(
                name=view,
                comment=comments.get((view, ""), ""),
                columns=catalog[source].columns,
                view_of=source,
            )
    return dict(sorted(catalog.items()))


def _to_json(catalog: dict[str, TableInfo]) -> str:
    return json.dumps(
        [
            [t.name, t.comment, [[c.name, c.type, c.comment] for c in t.columns], t.view_of]
            for t in catalog.values()
        ]
    )


def _from_json(text: str) -> dict[str, TableInfo]:
    tables = (
        TableInfo(name, comment, tuple(ColumnInfo(*c) for c in cols), view_of)
        for name, comment, cols, view_of in json.loads(text)
    )
    return {t.name: t for t in tables}


@functools.cache
def warehouse_catalog() -> dict[str, TableInfo]:
    """The packaged warehouse catalog, parsed once (and kept in the parse cache)."""
    code = [Path(__file__).read_bytes(), str(getattr(sqlglot, "__version__", "")).encode()]
    return cached_parse("catalog", DDL_DIR.glob("*.sql"), code, load_catalog, _to_json, _from_json)


def is_tenant_column(name: str) -> bool:
    """Whether a column is the tenant column that scoping fills in automatically."""
    return name.lower() == TENANT_COLUMN


@functools.cache
def warehouse_tables() -> frozenset[str]:
    """Lowercase names of the warehouse tables and views declared in data/ddl/*.sql."""
    return frozenset(warehouse_catalog())
