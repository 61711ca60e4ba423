"""Export every warehouse table to Parquet, with a manifest of row counts, types and checksums.

This is the only module that writes files from DuckDB. It opens the warehouse on its own
read-only connection with file access (the query path's executor has external access switched
off and never reaches this code). Large fact tables are written with `COPY … (FORMAT parquet,
PARTITION_BY (merchant_id, month))`, Hive style (`charges/merchant_id=…/month=2025-01/…`); the
month (UTC, `YYYY-MM`) exists only in the directory names, never as a column of the table. Money
stays integer minor units; DECIMAL and TIMESTAMP keep their exact types (HUGEINT, which Parquet
cannot hold, is written as DECIMAL(38,0)). Views are recorded with their definition.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import AssistantError, WarehouseMissing
from app.semantic.rollups import is_rollup_table

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
MONTH = "month"
# Fact tables partitioned by merchant and by the UTC month of one time column (None: merchant only).
PARTITIONED: dict[str, str | None] = {
    "balance_transactions": "created",
    "balance_transaction_fee_details": None,
    "charges": "created",
    "invoices": "date",
    "invoice_line_items": "period_start",
    "invoice_line_item_tax_amounts": None,
    "subscription_item_change_events": "event_timestamp",
    "revenue_recognition_debits_and_credits": "accounting_period_date",
    "tax_transactions": "created",
    "tax_transaction_line_items": None,
    "tax_transaction_jurisdiction_details": None,
    "transfers": "created",
}
_WIDE_INTEGERS = {"HUGEINT": "DECIMAL(38,0)", "UHUGEINT": "DECIMAL(38,0)"}


class ExportError(AssistantError):
    """The export could not be written or does not match its manifest."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnInfo(_Model):
    """One column of an exported table: name and DuckDB type as written to Parquet."""

    name: str
    type: str


class FileInfo(_Model):
    """One Parquet file: path relative to the export directory, size, rows and SHA-256."""

    path: str
    bytes: int
    rows: int
    sha256: str


class TableInfo(_Model):
    """One exported table (or view, recorded by its definition)."""

    name: str
    kind: Literal["table", "view"]
    rows: int
    columns: list[ColumnInfo]
    partition_by: list[str] = Field(default_factory=list)
    month_column: str | None = None
    files: list[FileInfo] = Field(default_factory=list)
    definition: str | None = None

    @property
    def location(self) -> str:
        """Directory (partitioned) or file name of the table inside the export."""
        return self.name if self.partition_by else f"{self.name}.parquet"


class Manifest(_Model):
    """What an export holds; written as manifest.json beside the Parquet files."""

    format_version: int = FORMAT_VERSION
    source: str
    tables: dict[str, TableInfo]
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows over all exported tables (views excluded)."""
        return sum(t.rows for t in self.tables.values() if t.kind == "table")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _path_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'wh' "
        "AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows]


def _written(columns: list[tuple[str, str]]) -> list[ColumnInfo]:
    return [ColumnInfo(name=n, type=_WIDE_INTEGERS.get(t, t)) for n, t in columns]


def _files(conn: duckdb.DuckDBPyConnection, out: Path, location: Path) -> list[FileInfo]:
    paths = sorted(location.rglob("*.parquet")) if location.is_dir() else [location]
    files = []
    for path in paths:
        (rows,) = conn.execute(
            "SELECT sum(num_rows) FROM parquet_file_metadata(?)", [str(path)]
        ).fetchone() or (0,)
        files.append(
            FileInfo(
                path=path.relative_to(out).as_posix(),
                bytes=path.stat().st_size,
                rows=int(rows or 0),
                sha256=sha256_file(path),
            )
        )
    return files


def _export_table(conn: duckdb.DuckDBPyConnection, table: str, out: Path) -> TableInfo:
    source = _columns(conn, table)
    columns = _written(source)
    names = {n for n, _ in source}
    select = ", ".join(
        f"CAST({_quote(n)} AS {_WIDE_INTEGERS[t]}) AS {_quote(n)}"
        if t in _WIDE_INTEGERS
        else _quote(n)
        for n, t in source
    )
    (rows,) = conn.execute(f"SELECT count(*) FROM wh.main.{_quote(table)}").fetchone() or (0,)
    month_column = PARTITIONED.get(table)
    partition_by: list[str] = []
    if table in PARTITIONED and rows and "merchant_id" in names:
        partition_by = ["merchant_id"]
        if month_column in names:
            partition_by.append(MONTH)
            month = f"coalesce(strftime({_quote(month_column)}, '%Y-%m'), 'none')"
            select += f", {month} AS {MONTH}"
        else:
            month_column = None
    else:
        month_column = None
    info = TableInfo(
        name=table,
        kind="table",
        rows=int(rows),
        columns=columns,
        partition_by=partition_by,
        month_column=month_column,
    )
    target = out / info.location
    query = f"SELECT {select} FROM wh.main.{_quote(table)}"
    options = "FORMAT parquet, COMPRESSION zstd"
    if partition_by:
        options += f", PARTITION_BY ({', '.join(partition_by)})"
    conn.execute(f"COPY ({query}) TO {_path_literal(target)} ({options})")
    info.files = _files(conn, out, target)
    written = sum(f.rows for f in info.files)
    if written != info.rows:
        raise ExportError(f"{table}: wrote {written} rows, expected {info.rows}")
    return info


def _export_view(conn: duckdb.DuckDBPyConnection, view: str, sql: str) -> TableInfo:
    (rows,) = conn.execute(f"SELECT count(*) FROM wh.main.{_quote(view)}").fetchone() or (0,)
    return TableInfo(
        name=view,
        kind="view",
        rows=int(rows),
        columns=_written(_columns(conn, view)),
        definition=sql,
    )


def _prepare(out: Path) -> None:
    """Make `out` ready: absent or empty, or holding a previous export that is replaced."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give a directory for the export")
    if out.is_dir() and any(out.iterdir()):
        old = out / MANIFEST
        if not old.is_file():
            raise ExportError(f"{out} is not empty and holds no {MANIFEST}; choose an empty one")
        previous = read_manifest(out)
        for t in previous.tables.values():
            target = out / t.location
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        old.unlink()
    out.mkdir(parents=True, exist_ok=True)


def export_parquet(warehouse: Path, out: Path, *, threads: int = 2) -> Manifest:
    """Write every table and view of the warehouse under `out`, with manifest.json."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"No warehouse at {warehouse} to export.")
    started = time.perf_counter()
    _prepare(out)
    config: dict[str, str | bool | int | float | list[str]] = {
        "threads": threads,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    # In-memory, with the warehouse attached read-only: this works while the query path has the
    # same file open with its locked-down configuration.
    conn = duckdb.connect(config=config)
    try:
        conn.execute(f"ATTACH {_path_literal(warehouse)} AS wh (READ_ONLY)")
    except duckdb.Error as err:
        conn.close()
        raise ExportError(f"Could not open the warehouse {warehouse}: {err}") from err
    try:
        tables: dict[str, TableInfo] = {}
        names = conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
            "AND schema_name = 'main' "
            "AND NOT temporary ORDER BY table_name"
        ).fetchall()
        for (name,) in names:
            if is_rollup_table(str(name)):  # derived from the facts; Spark answers from those
                continue
            tables[str(name)] = _export_table(conn, str(name), out)
        views = conn.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'wh' "
            "AND schema_name = 'main' "
            "AND NOT internal AND NOT temporary ORDER BY view_name"
        ).fetchall()
        for name, sql in views:
            tables[str(name)] = _export_view(conn, str(name), str(sql))
    except duckdb.Error as err:
        raise ExportError(f"Export to {out} failed: {err}") from err
    finally:
        conn.close()
    manifest = Manifest(
        source=str(warehouse),
        tables=tables,
        seconds=round(time.perf_counter() - started, 3),
    )
    (out / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> Manifest:
    """Load manifest.json of an export; ExportError when missing or malformed."""
    path = directory / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ExportError(
            f"No {MANIFEST} in {directory}; create the export with "
            "`ledgerlens data export --format parquet --out DIR`."
        ) from err
    except ValueError as err:
        raise ExportError(f"{path} is not a Ledgerlens export manifest: {err}") from err


def check_export(directory: Path) -> list[str]:
    """Problems found re-reading an export: missing, unlisted or changed files (empty if none)."""
    manifest = read_manifest(directory)
    problems: list[str] = []
    listed: set[str] = set()
    for table in manifest.tables.values():
        for f in table.files:
            listed.add(f.path)
            path = directory / f.path
            if not path.is_file():
                problems.append(f"{f.path}: missing")
            elif path.stat().st_size != f.bytes or sha256_file(path) != f.sha256:
                problems.append(f"{f.path}: checksum differs from the manifest")
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*.parquet")}
    problems += [f"{p}: not in the manifest" for p in sorted(present - listed)]
    return problems
