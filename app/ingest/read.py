"""Read a delivered table's files: their columns, types and row counts, and the SQL that loads them.

Parquet files are described one by one (a truncated or damaged file is named); Sigma CSV files are
read as text, and every typed column is test-cast so a value that does not convert is named with
its table, column and file before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from app.ingest.delivery import Delivery
from app.ingest.schema import IngestError, Problem, compare, expected_columns
from app.semantic.catalog import TENANT_COLUMN


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _reader(kind: str, files: list[str]) -> str:
    """The DuckDB table function reading these files as delivered (columns matched by name)."""
    listing = "[" + ", ".join(quote(f) for f in files) + "]"
    union = ", union_by_name = true" if len(files) > 1 else ""  # it costs a sniff of every file
    if kind == "sigma-csv":
        return f"read_csv({listing}, header = true, all_varchar = true{union})"
    return f"read_parquet({listing}{union})"


@dataclass
class TableSeen:
    """What the files of one delivered table hold: columns by name, rows, and mismatches."""

    table: str
    kind: str
    files: list[str]
    columns: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    extra: list[str] = field(default_factory=list)
    found: list[Problem] = field(default_factory=list)

    @property
    def has_tenant(self) -> bool:
        """Whether the delivered table carries the merchant_id column."""
        return TENANT_COLUMN in {c.lower() for c in self.columns}

    def problems(self, *, single_account: bool) -> list[Problem]:
        """Schema mismatches of every file of the table against the DDL."""
        return [p for p in self.found if not (single_account and p.column == TENANT_COLUMN)]


def _scan(conn: duckdb.DuckDBPyConnection, kind: str, file: str, sql: str) -> list[Any]:
    """Run `sql` (with `{reader}` for the file) and name the file if it cannot be read."""
    what = "Parquet" if kind == "data-pipeline" else "CSV"
    try:
        return conn.execute(sql.format(reader=_reader(kind, [file]))).fetchall()
    except duckdb.Error as err:
        reason = str(err).splitlines()[0]
        raise IngestError(
            f"{file} is not a readable {what} file (truncated or damaged: {reason}). Nothing was "
            "imported and the current warehouse is unchanged; download the delivery again or "
            "import an earlier complete run."
        ) from err


def _not_a(column: str, kind: str) -> str:
    """SQL true when a text value is not a `kind`; integers must be digits (DuckDB rounds 12.50)."""
    if kind == "BIGINT":
        return f"NOT regexp_full_match({ident(column)}, '\\s*[+-]?[0-9]+\\s*')"
    return f"TRY_CAST({ident(column)} AS {kind}) IS NULL"


def _count_and_check(
    conn: duckdb.DuckDBPyConnection, seen: TableSeen, file: str, columns: dict[str, str]
) -> tuple[int, list[Problem]]:
    """Rows of a file and, for CSV in the same scan, its values that do not convert (a sample)."""
    typed: list[tuple[str, str, str]] = []
    if seen.kind == "sigma-csv":
        lowered = {c.lower(): c for c in columns}
        typed = [
            (lowered[c.lower()], c, t)
            for c, t in expected_columns()[seen.table]
            if t != "VARCHAR" and c.lower() in lowered
        ]
    parts = [
        f"any_value({ident(src)}) FILTER (WHERE {ident(src)} IS NOT NULL AND {_not_a(src, t)})"
        for src, _, t in typed
    ]
    row = _scan(conn, seen.kind, file, f"SELECT {', '.join(['count(*)', *parts])} FROM {{reader}}")
    rows, *values = row[0]
    problems = [
        Problem(seen.table, col, t, f"text such as {value!r}", file)
        for (_, col, t), value in zip(typed, values, strict=True)
        if value is not None
    ]
    return int(rows), problems


def inspect_table(conn: duckdb.DuckDBPyConnection, delivery: Delivery, table: str) -> TableSeen:
    """Describe every file of a delivered table and compare it with the DDL."""
    seen = TableSeen(table, delivery.kind, delivery.tables[table])
    for file in seen.files:
        described = _scan(conn, delivery.kind, file, "DESCRIBE SELECT * FROM {reader}")
        columns = {str(c[0]): str(c[1]) for c in described}
        seen.columns = seen.columns or columns
        tenant = TENANT_COLUMN in {c.lower() for c in columns}
        if delivery.kind == "sigma-csv":
            typed = {c: "VARCHAR" for c in columns}  # text; each value is test-cast below
            problems, extra = compare(table, typed, file, single_account=not tenant)
            problems = [p for p in problems if p.found == "missing"]
        else:
            problems, extra = compare(table, columns, file, single_account=not tenant)
        rows, bad = _count_and_check(conn, seen, file, columns)
        seen.rows += rows
        seen.found += problems + bad
        seen.extra = sorted(set(seen.extra) | set(extra))
    return seen


def accounts_in(conn: duckdb.DuckDBPyConnection, seen: TableSeen) -> list[str]:
    """The merchant ids a delivered table (with merchant_id) has rows for."""
    column = next(c for c in seen.columns if c.lower() == TENANT_COLUMN)
    rows = conn.execute(
        f"SELECT DISTINCT {ident(column)} FROM {_reader(seen.kind, seen.files)} ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] is not None]


def account_ids(conn: duckdb.DuckDBPyConnection, seen: TableSeen) -> list[str]:
    """The distinct `id` values of a delivered accounts table (its files, before loading)."""
    column = next((c for c in seen.columns if c.lower() == "id"), None)
    if column is None:
        return []
    rows = conn.execute(
        f"SELECT DISTINCT {ident(column)} FROM {_reader(seen.kind, seen.files)} ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] is not None]


def select_sql(seen: TableSeen, account: str | None) -> str:
    """`INSERT ... SELECT` loading the table: DDL columns, cast; merchant_id filled or filtered."""
    lowered = {c.lower(): (c, t) for c, t in seen.columns.items()}
    names, exprs = [], []
    for column, kind in expected_columns()[seen.table]:
        names.append(ident(column))
        if column == TENANT_COLUMN and not seen.has_tenant:
            exprs.append(quote(account or ""))
            continue
        src, found = lowered[column.lower()]
        same = found == kind and seen.kind != "sigma-csv"
        exprs.append(ident(src) if same else f"CAST({ident(src)} AS {kind})")
    where = ""
    if seen.has_tenant and account:
        where = f" WHERE {ident(lowered[TENANT_COLUMN][0])} = {quote(account)}"
    return (
        f"INSERT INTO {ident(seen.table)} ({', '.join(names)}) "
        f"SELECT {', '.join(exprs)} FROM {_reader(seen.kind, seen.files)}{where}"
    )
