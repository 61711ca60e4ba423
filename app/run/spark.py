"""Apache Spark over a Parquet export: the same guarded plans on a cluster engine.

The guard has already run on the DuckDB-dialect AST (tenant scoping, row cap); this adapter
rewrites the few constructs sqlglot does not carry over faithfully (`SPARK_REWRITES` in
app/sql/dialects/spark.py), renders the statement with `expression.sql(dialect="spark")` and runs
it on a session of the warehouse's own (app/run/spark_session.py): local mode (`local[2]`, session
time zone UTC), or Spark Connect when the `spark_remote` setting is set (`sc://host:port`; the
server reads the export's paths, so it must see the same files). Each table of the export becomes
a temporary view with the warehouse table's name and exactly its columns. Timestamps stay naive
UTC (`spark.sql.timestampType=TIMESTAMP_NTZ`), DECIMAL stays `Decimal`, HUGEINT runs as
DECIMAL(38,0) and comes back as `int` (type HUGEINT), ANSI mode stays on (overflow is an error,
as in DuckDB). The row cap is `LIMIT cap + 1`; the time limit cancels the query's job group
(Connect: interrupts its operation tag on the server) from a timer.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from app.core.errors import ExecutionError, QueryTimeout
from app.core.settings import Settings
from app.run.export import Manifest, TableInfo, read_manifest
from app.run.spark_session import (
    SESSION_CONF,
    SparkUnavailable,
    connect_session,
    spark_session,
)
from app.run.warehouse import Result, freshness_query, latest
from app.semantic.catalog import warehouse_tables
from app.sql.dialects.spark import WHOLE_DECIMAL, spark_sql
from app.sql.guard.checks import Guarded

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_SPARK_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
    "void": "NULL",
}
WARM_UP_TIMEOUT_MS = 600_000


_DDL_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "BLOB": "BINARY",
}


def spark_schema(table: TableInfo) -> str | None:
    """Spark DDL schema of an exported table (partition columns as strings), or None to infer."""
    fields = []
    for column in table.columns:
        name = column.type.upper()
        spark = name if name.startswith("DECIMAL(") else _DDL_TYPES.get(name)
        if spark is None:
            return None
        if column.name in table.partition_by:
            spark = "STRING"
        fields.append(f"`{column.name}` {spark}")
    fields += [
        f"`{p}` STRING" for p in table.partition_by if p not in {c.name for c in table.columns}
    ]
    return ", ".join(fields)


def _type_name(data_type: Any) -> str:
    simple = str(data_type.simpleString())
    if simple == WHOLE_DECIMAL:
        return "HUGEINT"
    if simple.startswith("decimal"):
        return simple.upper()
    return _SPARK_TYPES.get(simple, simple.upper())


def _value(value: Any, kind: str) -> Any:
    if kind == WHOLE_DECIMAL and isinstance(value, Decimal):
        return int(value)  # HUGEINT on DuckDB: the same exact integer, as a Python int
    if kind == "timestamp" and isinstance(value, datetime) and value.tzinfo is None:
        # pyspark turns TIMESTAMP (with local time zone) into the client's local wall time.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class SparkWarehouse:
    """Runs guarded statements on Spark, over temp views of a Parquet export."""

    dialect = "spark"

    def __init__(
        self,
        settings: Settings,
        parquet_dir: Path | None = None,
    ) -> None:
        """Register the export's tables as temp views on a session of this warehouse's own."""
        self.settings = settings
        self._connect = bool(settings.spark_remote)
        if settings.spark_remote:
            self.session = connect_session(settings.spark_remote)
        else:
            self.session = spark_session(settings).newSession()
        self.manifest: Manifest | None = None
        self._tables: frozenset[str] = frozenset()
        try:
            self._open(parquet_dir)
        except BaseException:
            self.close()  # a Connect server keeps a session (and its views) until released
            raise

    def _open(self, parquet_dir: Path | None) -> None:
        for name, value in SESSION_CONF.items():
            self.session.conf.set(name, value)
        if parquet_dir is not None:
            self.manifest = read_manifest(parquet_dir)
            try:
                self._register(parquet_dir, self.manifest)
            except Exception as err:  # pyspark's analysis errors share no base class with py4j's
                raise ExecutionError(
                    f"Spark could not read the Parquet export {parquet_dir}: {_spark_message(err)}"
                ) from err
            self._tables = frozenset(self.manifest.tables)
        else:
            present = {t.name.lower() for t in self.session.catalog.listTables()}
            self._tables = frozenset(present & warehouse_tables())
        missing = sorted(warehouse_tables() - self._tables)
        if missing:
            raise ExecutionError(
                f"The Spark warehouse lacks {', '.join(missing)}; export the warehouse again "
                "with `ledgerlens data export --format parquet --out DIR`."
            )
        self._warm_up()

    def _warm_up(self) -> None:
        """Run one small scan-and-aggregate without the usual time limit (a cold JVM compiles)."""
        query = freshness_query(None)
        self.run(query, max_rows=1, timeout_ms=WARM_UP_TIMEOUT_MS)

    def _register(self, directory: Path, manifest: Manifest) -> None:
        views = [t for t in manifest.tables.values() if t.kind == "view"]
        for table in manifest.tables.values():
            if table.kind == "table":
                self._frame(directory, table).createOrReplaceTempView(table.name)
        for view in views:
            create = sqlglot.parse_one(view.definition or "", read="duckdb")
            body = create.expression if isinstance(create, exp.Create) else None
            if not isinstance(body, exp.Query):
                raise ExecutionError(f"view {view.name} has no SELECT definition in the manifest")
            self.session.sql(spark_sql(body)).createOrReplaceTempView(view.name)

    def _frame(self, directory: Path, table: TableInfo) -> DataFrame:
        location = str(directory.resolve() / table.location)
        reader = self.session.read
        schema = spark_schema(table)
        if schema is not None:
            reader = reader.schema(schema)  # no footer reads or type inference at start-up
        if table.partition_by:
            reader = reader.option("basePath", location)
        return reader.parquet(location).select(*[f"`{c.name}`" for c in table.columns])

    def tables(self) -> frozenset[str]:
        """Names of the temp views (or catalog tables) this warehouse reads."""
        return self._tables

    def run(
        self, guarded: Guarded, *, max_rows: int | None = None, timeout_ms: int | None = None
    ) -> Result:
        """Run a guarded statement on Spark with the row cap and time limit."""
        if not isinstance(guarded, Guarded):
            raise TypeError("SparkWarehouse.run takes a Guarded; pass SQL through the guard first")
        limit = self.settings.max_rows if max_rows is None else max_rows
        if guarded.max_rows is not None:
            limit = min(limit, guarded.max_rows)
        timeout = self.settings.query_timeout_ms if timeout_ms is None else timeout_ms
        sql = spark_sql(sqlglot.parse_one(guarded.sql, read="duckdb"))
        tag = f"ledgerlens-{uuid.uuid4().hex}"
        fired, done = threading.Event(), threading.Event()

        def cancel() -> None:
            # Repeat until the query returns: a job submitted after a cancel is caught by the next.
            fired.set()
            while not done.is_set():
                with contextlib.suppress(Exception):  # the job may have finished meanwhile
                    self._cancel(tag)
                done.wait(0.1)

        timer = threading.Timer(timeout / 1000, cancel)
        timer.daemon = True
        started = time.perf_counter()
        try:
            with self._tagged(tag):
                timer.start()
                frame = self.session.sql(sql)
                fields = list(frame.schema.fields)
                rows = frame.limit(limit + 1).collect()
        except Exception as err:  # pyspark errors share no base class with py4j's
            if fired.is_set():
                raise QueryTimeout(
                    f"The query ran longer than {timeout} ms and was stopped; the time limit is "
                    "controlled by the `query_timeout_ms` setting."
                ) from err
            raise ExecutionError(_spark_message(err)) from err
        finally:
            done.set()
            timer.cancel()
        elapsed_ms = (time.perf_counter() - started) * 1000
        kinds = [str(f.dataType.simpleString()) for f in fields]
        return Result(
            columns=tuple(f.name for f in fields),
            types=tuple(_type_name(f.dataType) for f in fields),
            rows=tuple(
                tuple(_value(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows[:limit]
            ),
            truncated=len(rows) > limit,
            elapsed_ms=elapsed_ms,
        )

    def _cancel(self, tag: str) -> None:
        if self._connect:
            self.session.interruptTag(tag)
        else:
            self.session.sparkContext.cancelJobGroup(tag)

    @contextlib.contextmanager
    def _tagged(self, tag: str) -> Iterator[None]:
        if self._connect:
            self.session.addTag(tag)
            try:
                yield
            finally:
                self.session.removeTag(tag)
            return
        context = self.session.sparkContext
        context.setJobGroup(tag, "ledgerlens query", interruptOnCancel=True)
        try:
            yield
        finally:
            context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]

    def freshness(self, account: str | None) -> datetime | None:
        """Latest balance transaction time for the account (all accounts when None)."""
        return latest(self.run(freshness_query(account), max_rows=1))

    def close(self) -> None:
        """Drop this warehouse's temp views (Connect: release its server session)."""
        with contextlib.suppress(Exception):
            if self._connect:
                self.session.stop()  # the server drops the session's views with it
                return
            for name in self._tables if self.manifest is not None else ():
                self.session.catalog.dropTempView(name)


def _spark_message(err: Exception) -> str:
    text = str(err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    return first if len(first) <= 500 else first[:497] + "..."


def open_spark_warehouse(settings: Settings) -> SparkWarehouse:
    """Spark over the `parquet_dir` export (local mode), or over the remote catalog."""
    if settings.parquet_dir is None and not settings.spark_remote:
        raise SparkUnavailable(
            "The Spark engine needs a Parquet export: set `parquet_dir` (--parquet DIR) after "
            "`ledgerlens data export --format parquet --out DIR`, or `spark_remote`."
        )
    return SparkWarehouse(settings, settings.parquet_dir)
