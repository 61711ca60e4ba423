"""Warehouse adapters without a JVM: the Parquet export, the Spark SQL rewrites, the options."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from app.cli import main
from app.core.errors import AssistantError
from app.core.settings import Settings
from app.run.duckdb import DuckDBWarehouse, Executor
from app.run.engines import open_warehouse
from app.run.export import (
    MANIFEST,
    PARTITIONED,
    ExportError,
    check_export,
    export_parquet,
    read_manifest,
)
from app.run.options import add_engine_arguments, apply_engine, export_source
from app.run.spark import open_spark_warehouse, spark_schema
from app.run.spark_session import SparkUnavailable
from app.run.warehouse import Warehouse
from app.semantic.catalog import warehouse_tables
from app.sql.dialects.spark import spark_sql
from app.sql.guard.checks import Policy, check_sql

# ---------------------------------------------------------------------------------------------
# Export


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two merchants, a partitioned fact table over two months, a small table and a view."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE charges AS SELECT 'acct_' || (i % 2) AS merchant_id, 'ch_' || i AS id, "
        "CAST(i * 100 AS BIGINT) AS amount, TIMESTAMP '2025-01-31 22:00:00' + i * INTERVAL 1 "
        "HOUR AS created FROM range(6) AS r(i)"
    )
    conn.execute("CREATE TABLE accounts AS SELECT 'acct_0' AS merchant_id, 'acct_0' AS id")
    conn.execute("CREATE VIEW big_charges AS SELECT * FROM charges WHERE amount > 200")
    conn.close()
    return path


def test_export_lists_every_table_with_counts_and_types(demo_path: Path, demo_export: Path) -> None:
    manifest = read_manifest(demo_export)
    assert set(manifest.tables) == warehouse_tables()
    conn = duckdb.connect()  # the session's executors hold the file with another configuration
    try:
        conn.execute(f"ATTACH '{demo_path}' AS wh (READ_ONLY)")
        for name, table in manifest.tables.items():
            (rows,) = conn.execute(f'SELECT count(*) FROM wh.main."{name}"').fetchone() or (0,)
            assert table.rows == rows, name
            described = conn.execute(f'DESCRIBE wh.main."{name}"').fetchall()
            assert [(c.name, c.type) for c in table.columns] == [(r[0], r[1]) for r in described]
            if table.kind == "table":
                assert sum(f.rows for f in table.files) == rows, name
    finally:
        conn.close()
    assert manifest.tables["payouts"].kind == "view"
    assert "transfers" in (manifest.tables["payouts"].definition or "")


def test_large_fact_tables_are_partitioned_by_merchant_and_month(demo_export: Path) -> None:
    manifest = read_manifest(demo_export)
    for name, month_column in PARTITIONED.items():
        table = manifest.tables[name]
        expected = ["merchant_id", "month"] if month_column else ["merchant_id"]
        assert table.partition_by == expected, name
        assert table.month_column == month_column
        for f in table.files:
            parts = f.path.split("/")
            assert parts[0] == name and parts[1].startswith("merchant_id=acct_demo_0"), f.path
            if month_column:
                assert parts[2].startswith("month=20") and len(parts[2]) == len("month=2025-01")
    charges = manifest.tables["charges"]
    assert len({f.path.split("/")[1] for f in charges.files}) == 3  # three merchants
    assert manifest.tables["accounts"].files[0].path == "accounts.parquet"


def test_checksums_verify_and_catch_changes(demo_export: Path, tmp_path: Path) -> None:
    assert check_export(demo_export) == []
    manifest = json.loads((demo_export / MANIFEST).read_text())
    for table in manifest["tables"].values():
        for f in table["files"]:
            assert len(f["sha256"]) == 64 and f["bytes"] > 0


def test_check_export_reports_tampering(tiny_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    manifest = export_parquet(tiny_warehouse, out)
    assert [f.path for f in manifest.tables["charges"].files] == [
        f"charges/merchant_id=acct_{m}/month=2025-0{n}/data_0.parquet"
        for m in (0, 1)
        for n in (1, 2)
    ]
    assert manifest.tables["big_charges"].rows == 3
    victim = out / read_manifest(out).tables["charges"].files[0].path
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    (out / "stray.parquet").write_bytes(b"PAR1")
    problems = check_export(out)
    assert any("checksum differs" in p for p in problems)
    assert "stray.parquet: not in the manifest" in problems


def test_every_table_round_trips_exactly(demo_path: Path, demo_export: Path) -> None:
    """Reading the Parquet back (Hive partitions) gives the warehouse rows, values and types."""
    manifest = read_manifest(demo_export)
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{demo_path}' AS wh (READ_ONLY)")
        for name, table in manifest.tables.items():
            if table.kind != "table":
                continue
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            location = demo_export / table.location
            pattern = f"{location}/**/*.parquet" if table.partition_by else str(location)
            back = f"SELECT {cols} FROM read_parquet('{pattern}', hive_partitioning = true)"
            original = f'SELECT {cols} FROM wh.main."{name}"'
            for a, b in ((original, back), (back, original)):
                (diff,) = conn.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone() or (
                    -1,
                )
                assert diff == 0, name
            types = conn.execute(f"DESCRIBE {back}").fetchall()
            assert [r[1] for r in types] == [c.type for c in table.columns], name
    finally:
        conn.close()


def test_decimal_timestamp_and_hugeint_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "types.duckdb"
    conn = duckdb.connect(str(source))
    conn.execute(
        "CREATE TABLE amounts AS SELECT 'acct_x' AS merchant_id, "
        "CAST(123456789012 AS BIGINT) AS amount, CAST('0.01' AS DECIMAL(18, 2)) AS small, "
        "CAST('12345678901234567890123.4567890123' AS DECIMAL(38, 10)) AS wide, "
        "CAST('-99999999999999999999999999999999999999' AS HUGEINT) AS huge, "
        "TIMESTAMP '2025-03-09 06:59:59.999999' AS created, DATE '2024-02-29' AS day"
    )
    conn.close()
    out = tmp_path / "export"
    manifest = export_parquet(source, out)
    types = {c.name: c.type for c in manifest.tables["amounts"].columns}
    assert types["small"] == "DECIMAL(18,2)" and types["wide"] == "DECIMAL(38,10)"
    assert types["huge"] == "DECIMAL(38,0)" and types["created"] == "TIMESTAMP"
    [row] = duckdb.sql(f"SELECT * FROM read_parquet('{out / 'amounts.parquet'}')").fetchall()
    assert row == (
        "acct_x",
        123456789012,
        Decimal("0.01"),
        Decimal("12345678901234567890123.4567890123"),
        Decimal("-99999999999999999999999999999999999999"),
        datetime(2025, 3, 9, 6, 59, 59, 999999),
        datetime(2024, 2, 29).date(),
    )
    too_wide = tmp_path / "too_wide.duckdb"
    conn = duckdb.connect(str(too_wide))
    max_hugeint = (
        "170141183460469231731687303715884105727"  # 39 digits: no Parquet DECIMAL holds it
    )
    conn.execute(f"CREATE TABLE u AS SELECT CAST('{max_hugeint}' AS HUGEINT) AS huge")
    conn.close()
    with pytest.raises(ExportError, match="DECIMAL"):
        export_parquet(too_wide, tmp_path / "never")  # refused, never written as a lossy DOUBLE


def test_export_replaces_a_previous_export_but_not_other_files(
    tiny_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    export_parquet(tiny_warehouse, out)
    second = export_parquet(tiny_warehouse, out)
    assert check_export(out) == []
    assert second.total_rows == read_manifest(out).total_rows
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_parquet(tiny_warehouse, busy)
    with pytest.raises(AssistantError, match="No warehouse"):
        export_parquet(tmp_path / "missing.duckdb", tmp_path / "x")


def test_query_path_still_cannot_write_files(demo_path: Path, tmp_path: Path) -> None:
    """The export has its own connection; the executor's stays locked (no COPY, no Parquet)."""
    with Executor(demo_path, Settings(warehouse_path=demo_path)) as executor:
        raw = executor._conn
        with pytest.raises(duckdb.Error):
            raw.execute(f"COPY charges TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
        with pytest.raises(duckdb.Error):
            raw.execute("SET enable_external_access = true")


def test_cli_data_export(
    tiny_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    code = main(
        [
            "data",
            "export",
            "--format",
            "parquet",
            "--out",
            str(out),
            "--warehouse",
            str(tiny_warehouse),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Exported 3 tables (7 rows, 5 Parquet files)" in printed and "manifest.json" in printed
    assert check_export(out) == []


def test_cli_export_errors_are_messages(
    tiny_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    busy = ["data", "export", "--out", str(tmp_path / "busy"), "--warehouse", str(tiny_warehouse)]
    assert main(busy) == 1
    assert "error:" in capsys.readouterr().err
    missing = ["data", "export", "--out", str(tmp_path / "o"), "--warehouse", str(tmp_path / "n")]
    assert main(missing) == 2  # no warehouse at that path: the user's to fix
    assert "No warehouse at" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Spark SQL rendering (each rewrite is also executed on both engines in tests/test_spark.py)

RENDERED = {
    "hugeint": ("SELECT CAST(x AS HUGEINT) * 0.01", "SELECT CAST(x AS DECIMAL(38, 0)) * 0.01"),
    "local_time": (
        "SELECT timezone('Europe/Berlin', created AT TIME ZONE 'UTC')",
        "SELECT FROM_UTC_TIMESTAMP(created, 'Europe/Berlin')",
    ),
    "local_time_nested": (
        "SELECT timezone('Europe/Berlin', timezone('UTC', created))",
        "SELECT FROM_UTC_TIMESTAMP(created, 'Europe/Berlin')",
    ),
    "naive_in_zone": (
        "SELECT timezone('Europe/Berlin', created)",
        "SELECT TO_UTC_TIMESTAMP(created, 'Europe/Berlin')",
    ),
    "date_trunc_of_date": (
        "SELECT date_trunc('day', CAST('2025-11-05' AS DATE))",
        "SELECT DATE_TRUNC('DAY', CAST('2025-11-05' AS DATE))",
    ),
    "negative_interval": (
        "SELECT created + INTERVAL (-30) DAY",
        "SELECT created + (INTERVAL '1' DAY * ((-30)))",
    ),
    "quarter_interval": ("SELECT d + INTERVAL 2 QUARTER", "SELECT d + INTERVAL '6' MONTH"),
    "week_interval_of_column": (
        "SELECT d - INTERVAL (n) WEEK",
        "SELECT d - (INTERVAL '7' DAY * ((n)))",
    ),
    "date_diff_day": (
        "SELECT date_diff('day', a, b)",
        "SELECT CAST((DATEDIFF(CAST(b AS DATE), CAST(a AS DATE))) AS BIGINT)",
    ),
    "date_diff_month": (
        "SELECT date_diff('month', a, b)",
        "SELECT CAST(((YEAR(b) - YEAR(a)) * 12 + (MONTH(b) - MONTH(a))) AS BIGINT)",
    ),
    "dayofweek": ("SELECT dayofweek(d)", "SELECT (DAYOFWEEK(d) - 1)"),
    "isodow": ("SELECT isodow(d)", "SELECT (WEEKDAY(d) + 1)"),
    "date_spine": (
        "SELECT CAST(unnest(generate_series(DATE '2025-01-01', DATE '2025-03-01', "
        "INTERVAL 1 MONTH)) AS DATE) AS m",
        "SELECT EXPLODE(CAST(SEQUENCE(CAST('2025-01-01' AS DATE), CAST('2025-03-01' AS DATE), "
        "INTERVAL '1' MONTH) AS ARRAY<DATE>)) AS m",
    ),
}


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_spark_rendering(name: str) -> None:
    duck, spark = RENDERED[name]
    assert spark_sql(sqlglot.parse_one(duck, read="duckdb")) == spark


def test_compiled_plan_renders_without_duckdb_only_functions(demo_path: Path) -> None:
    from datetime import date

    from app.core.request import Request
    from app.pipeline.assistant import Assistant

    # The facts path, as Spark runs it (rollups are read on DuckDB only).
    assistant = Assistant(Settings(warehouse_path=demo_path, rollups=False))
    try:
        answer = assistant.ask(Request("gross volume by month in 2025", as_of=date(2025, 12, 31)))
    finally:
        assistant.session.close()
    assert answer.sql
    rendered = spark_sql(sqlglot.parse_one(answer.sql, read="duckdb"))
    for duckdb_only in ("TIMEZONE(", "INT128", "HUGEINT", "TRUNC(", " AT TIME ZONE "):
        assert duckdb_only not in rendered.upper().replace("DATE_TRUNC(", ""), duckdb_only
    assert "FROM_UTC_TIMESTAMP(" in rendered


def test_spark_schema_from_manifest(demo_export: Path) -> None:
    charges = read_manifest(demo_export).tables["charges"]
    schema = spark_schema(charges)
    assert schema is not None
    assert "`amount` BIGINT" in schema and "`created` TIMESTAMP_NTZ" in schema
    assert "`merchant_id` STRING" in schema and schema.endswith("`month` STRING")


# ---------------------------------------------------------------------------------------------
# Adapter selection and options


def test_duckdb_is_the_default_warehouse(demo_path: Path) -> None:
    warehouse = open_warehouse(Settings(warehouse_path=demo_path))
    try:
        assert isinstance(warehouse, DuckDBWarehouse) and isinstance(warehouse, Warehouse)
        assert warehouse.dialect == "duckdb" and "charges" in warehouse.tables()
        guarded = check_sql(
            "SELECT count(*) FROM charges",
            Policy(account="acct_demo_01", tables=warehouse_tables(), max_rows=5),
        )
        assert warehouse.run(guarded).rows[0][0] > 0
        assert warehouse.freshness("acct_demo_01") is not None
    finally:
        warehouse.close()


def test_spark_needs_an_export_or_a_remote() -> None:
    with pytest.raises(SparkUnavailable, match="parquet_dir"):
        open_spark_warehouse(Settings(engine="spark"))


def test_engine_options(demo_export: Path) -> None:
    parser = argparse.ArgumentParser()
    add_engine_arguments(parser)
    args = parser.parse_args(["--engine", "spark", "--parquet", str(demo_export)])
    settings = apply_engine(Settings(), args)
    assert settings.engine == "spark" and settings.parquet_dir == demo_export
    assert export_source(settings) == Path(read_manifest(demo_export).source)
    plain = apply_engine(Settings(), parser.parse_args([]))
    assert plain.engine == "duckdb" and export_source(plain) is None


def test_cli_spark_without_export_is_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "--engine", "spark", "SELECT 1"])
    assert code == 1
    assert "parquet_dir" in capsys.readouterr().err


def test_every_engine_name_has_an_engine() -> None:
    from typing import get_args

    from app.core.settings import EngineName
    from app.run.engines import ENGINES

    assert set(ENGINES) == set(get_args(EngineName))
