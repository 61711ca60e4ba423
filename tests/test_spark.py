"""DuckDB and Apache Spark give the same answers from the same data.

Every test runs twice, once per way the app reaches Spark, over the session's Parquet export of
the demo warehouse: `local` (local mode, `local[2]`, driver on 127.0.0.1, in this process) and
`connect` (Spark Connect at `sc://127.0.0.1:PORT`: the `spark_connect` fixture starts the server
pyspark ships, once per test session). Checked here:

* 32 eval cases (`benchmarks.bench_spark.select_cases`: payments, FX, billing, tax, MRR, revenue
  recognition, time phrases, traps) answered by `Assistant.ask` on both engines: same status,
  columns and rows, money as equal `Decimal`s of the same Python type; the case's reference SQL
  gives the same rows on both; and the eval verdict (`result_matches`) is the same;
* every Stripe Sigma fixture (Trino → guard → DuckDB AST → Spark) returns DuckDB's rows, except
  that `approx_percentile` may pick a neighbouring value (each engine has its own sketch);
* each rewrite of `app.run.spark.SPARK_REWRITES`, executed on both engines;
* the row cap, the time limit (job-group cancel; Connect: interrupt by operation tag) and tenant
  scoping on Spark: the tenant attack cases give DuckDB's scoped rows, and a Spark file query that
  would read every account's Parquet files is refused by the guard;
* each warehouse keeps its own views (on Connect, a server session of its own).

Per-question execute times (DuckDB, Spark local, Spark Connect) are printed at the end of the
module (`-rA` not needed).
Skipped, with the reason, when no Java runtime is found.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from app.core.errors import ExecutionError, GuardError, QueryTimeout
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.run.duckdb import Executor
from app.run.spark import SparkWarehouse
from app.run.spark_session import SparkUnavailable, find_java, stop_sessions
from app.run.warehouse import Result
from app.semantic.catalog import warehouse_tables
from app.sql.dialects.spark import spark_sql
from app.sql.guard.checks import Guarded, Policy, check_sql
from benchmarks.bench_spark import select_cases
from evals.cases import Case
from evals.compare import Table, result_matches
from tests.spark_connect_server import ConnectServer
from tests.test_attacks import CORPUS as ATTACKS

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        find_java() is None,
        reason="Spark needs a Java runtime (17+): apt-get install default-jre-headless, "
        "or set JAVA_HOME",
    ),
]

SPARK_TIMEOUT_MS = 300_000  # the JVM is cold and CI machines are shared: no flaky time limits
SIGMA = Path(__file__).parent / "fixtures" / "sigma"
ACCOUNT = "acct_demo_01"
# approx_percentile: DuckDB and Spark use different sketches; each must stay near the other.
APPROXIMATE = {
    "19_failed_charge_rate_by_failure_code": {"median_failed_amount"},
    "21_charge_amount_percentiles": {"p50_amount", "p90_amount"},
}
APPROXIMATE_TOLERANCE = 0.05
MODES = ("local", "connect")
TIMINGS: dict[str, dict[str, tuple[float, float]]] = {mode: {} for mode in MODES}
CASES = select_cases()
# Tenant attacks (tests/fixtures/attacks/tenant.yaml) in SQL both engines speak.
TENANT_ATTACKS = [
    c
    for c in ATTACKS
    if c.family == "tenant"
    and c.id
    in {
        *("explicit_other_account", "or_true", "in_all_accounts", "union_all_tables"),
        *("except_other_account", "subquery_in_where", "exists_subquery", "subquery_in_select"),
        "correlated_scalar_subquery",
    }
]


@pytest.fixture(scope="module", params=MODES)
def spark(
    request: pytest.FixtureRequest, demo_path: Path, demo_export: Path
) -> Iterator[SparkWarehouse]:
    remote = None
    if request.param == "connect":
        server: ConnectServer = request.getfixturevalue("spark_connect")
        remote = server.url
    settings = Settings(
        warehouse_path=demo_path,
        engine="spark",
        parquet_dir=demo_export,
        spark_remote=remote,
        query_timeout_ms=SPARK_TIMEOUT_MS,
    )
    connect_mode = os.environ.get("SPARK_CONNECT_MODE_ENABLED")
    try:
        warehouse = SparkWarehouse(settings, demo_export)
    except SparkUnavailable as err:
        if remote is not None:
            raise  # the server this session started must be reachable
        pytest.skip(str(err))
    yield warehouse
    warehouse.close()
    stop_sessions()
    if connect_mode is None:  # pyspark marks the process as a Connect client; undo for local mode
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


@pytest.fixture(scope="module")
def spark_assistant(spark: SparkWarehouse) -> Assistant:
    return Assistant(spark.settings, executor=spark)


@pytest.fixture(scope="module")
def facts_assistant(demo_path: Path) -> Iterator[Assistant]:
    """DuckDB answering from the facts, as Spark does (its Parquet export has no rollups)."""
    a = Assistant(Settings(warehouse_path=demo_path, rollups=False))
    yield a
    a.session.executor.close()


@pytest.fixture(scope="module")
def duck(demo_path: Path) -> Iterator[Executor]:
    with Executor(demo_path, Settings(warehouse_path=demo_path)) as executor:
        yield executor


@pytest.fixture(scope="module", autouse=True)
def timing_table(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print per-question execute times (DuckDB, Spark local, Spark Connect) after the module."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    names = [c.name for c in CASES if any(c.name in TIMINGS[m] for m in MODES)]
    if reporter is None or capture is None or not names:
        return

    def cell(mode: str, name: str, duck: bool = False) -> str:
        times = TIMINGS[mode].get(name)
        return f"{times[0 if duck else 1]:9.1f}" if times else f"{'-':>9}"

    def duck_cell(name: str) -> str:
        return next((cell(m, name, duck=True) for m in MODES if name in TIMINGS[m]), "")

    width = max(len(name) for name in names)
    lines = ["", f"{'question':<{width}}  DuckDB ms   Spark ms  Connect ms"]
    lines += [
        f"{n:<{width}}  {duck_cell(n)}  {cell('local', n)}  {cell('connect', n):>10}" for n in names
    ]
    totals = [sum(t[1] for t in TIMINGS[m].values()) for m in MODES]
    duck_total = sum(t[0] for t in TIMINGS[MODES[0]].values())
    label = f"total ({len(names)})"
    lines.append(f"{label:<{width}}  {duck_total:9.1f}  {totals[0]:9.1f}  {totals[1]:10.1f}")
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


def guarded(sql: str, account: str | None = None, dialect: str = "duckdb") -> Guarded:
    policy = Policy(
        account=account, tables=warehouse_tables(), max_rows=10_000, read_dialect=dialect
    )
    return check_sql(sql, policy)


def same_value(a: Any, b: Any, rel: float = 1e-12) -> bool:
    """Equal and of the same Python type; floats within `rel` (summation order may differ)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def assert_same_rows(
    spark: list[tuple[Any, ...]], duck: list[tuple[Any, ...]], ordered: bool = True
) -> None:
    assert len(spark) == len(duck)
    if not ordered:
        spark, duck = sorted(spark, key=repr), sorted(duck, key=repr)
    for s_row, d_row in zip(spark, duck, strict=True):
        assert all(same_value(s, d) for s, d in zip(s_row, d_row, strict=True)), (s_row, d_row)


# ---------------------------------------------------------------------------------------------
# Eval questions: the same answers from both engines


def test_enough_cases_across_areas() -> None:
    assert len(CASES) >= 30
    areas = {c.source.stem for c in CASES if c.source is not None}
    assert {"payments", "fx", "billing", "tax", "mrr", "revenue_recognition"} <= areas
    assert "time_phrases" in areas


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_same_answer_on_spark(
    case: Case, facts_assistant: Assistant, spark_assistant: Assistant
) -> None:
    q = case.inputs
    on_duck = facts_assistant.ask(Request(q.question, as_of=q.as_of, account=q.account))
    on_spark = spark_assistant.ask(Request(q.question, as_of=q.as_of, account=q.account))
    assert on_spark.status == on_duck.status, on_spark.error
    assert on_duck.status == "answered", on_duck.error
    assert on_spark.sql == on_duck.sql  # the guarded DuckDB statement Spark transpiled
    assert [c.name for c in on_spark.columns] == [c.name for c in on_duck.columns]
    assert_same_rows([tuple(r) for r in on_spark.rows], [tuple(r) for r in on_duck.rows])
    for row in on_spark.rows:
        for value, column in zip(row, on_spark.columns, strict=True):
            if column.kind == "money" and value is not None:
                assert isinstance(value, Decimal), (column.name, value)
    assert on_duck.timings and on_spark.timings
    mode = "connect" if spark_assistant.settings.spark_remote else "local"
    TIMINGS[mode][case.name] = (
        on_duck.timings.execute_ms or 0.0,
        on_spark.timings.execute_ms or 0.0,
    )

    assert case.expected.reference_sql and case.expected.compare
    ref_duck = facts_assistant.session.run_sql(case.expected.reference_sql, q.account)
    ref_spark = spark_assistant.session.run_sql(case.expected.reference_sql, q.account)
    assert ref_spark.columns == ref_duck.columns
    assert_same_rows(list(ref_spark.rows), list(ref_duck.rows), ordered=False)
    verdicts = []
    for ref, answer in ((ref_duck, on_duck), (ref_spark, on_spark)):
        predicted = Table([c.name for c in answer.columns], [tuple(r) for r in answer.rows])
        match = result_matches(
            Table(ref.columns, ref.rows, ref.types),
            predicted,
            case.expected.compare,
            allow_empty=case.expected.empty,
        )
        verdicts.append(match.ok)
    assert verdicts[0] == verdicts[1]


# ---------------------------------------------------------------------------------------------
# Stripe Sigma queries: Trino → guard → Spark


def _numbers_close(a: Any, b: Any, rel: float) -> bool:
    numbers = (int, float, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("path", sorted(SIGMA.glob("*.sql")), ids=lambda p: p.stem)
def test_sigma_query_on_spark(path: Path, duck: Executor, spark: SparkWarehouse) -> None:
    statement = guarded(path.read_text(encoding="utf-8"), ACCOUNT, dialect="trino")
    expected, got = duck.run(statement), spark.run(statement)
    assert got.columns == expected.columns and not got.truncated
    assert len(got.rows) == len(expected.rows) > 0
    loose = APPROXIMATE.get(path.stem, set())
    exact = [i for i, c in enumerate(got.columns) if c not in loose]

    def key(row: tuple[Any, ...]) -> str:
        return repr([row[i] if not isinstance(row[i], float) else None for i in exact])

    for s_row, d_row in zip(sorted(got.rows, key=key), sorted(expected.rows, key=key), strict=True):
        for column, s, d in zip(got.columns, s_row, d_row, strict=True):
            rel = APPROXIMATE_TOLERANCE if column in loose else 1e-9
            assert _numbers_close(s, d, rel), (column, s, d)


# ---------------------------------------------------------------------------------------------
# Each Spark rewrite, executed on both engines

PINS = {
    "hugeint_money": "SELECT CAST(123456789 AS HUGEINT) * 0.01 AS v",
    "local_time_across_dst": (
        "SELECT timezone('America/New_York', TIMESTAMP '2025-03-09 07:30:00' AT TIME ZONE 'UTC') "
        "AS a, timezone('America/New_York', TIMESTAMP '2025-03-09 06:30:00' AT TIME ZONE 'UTC') "
        "AS b"
    ),
    "local_month_of_utc_time": (
        "SELECT CAST(date_trunc('month', timezone('Europe/Berlin', "
        "TIMESTAMP '2025-02-28 23:30:00' AT TIME ZONE 'UTC')) AS DATE) AS v"
    ),
    "date_trunc_of_date": (
        "SELECT date_trunc('day', CAST('2025-11-05' AS DATE)) AS d, "
        "date_trunc('week', CAST('2025-11-05' AS DATE)) AS w, "
        "date_trunc('quarter', CAST('2025-11-05' AS DATE)) AS q"
    ),
    "intervals": (
        "SELECT TIMESTAMP '2025-12-31 00:00:00' + INTERVAL (-30) DAY AS a, "
        "TIMESTAMP '2025-01-31 10:00:00' + INTERVAL 1 QUARTER AS b, "
        "TIMESTAMP '2025-01-01 00:00:00' - INTERVAL 2 WEEK AS c, "
        "TIMESTAMP '2025-01-31 00:00:00' + INTERVAL 1 MONTH AS d"
    ),
    "date_diff_counts_boundaries": (
        "SELECT date_diff('day', TIMESTAMP '2025-01-01 23:00:00', TIMESTAMP '2025-01-02 01:00:00')"
        " AS d, date_diff('month', DATE '2025-01-31', DATE '2025-02-01') AS m, "
        "date_diff('month', DATE '2025-03-01', DATE '2025-01-31') AS m_back, "
        "date_diff('quarter', DATE '2025-03-31', DATE '2025-04-01') AS q, "
        "date_diff('year', DATE '2024-12-31', DATE '2025-01-01') AS y, "
        "date_diff('week', DATE '2025-01-05', DATE '2025-01-13') AS w, "
        "date_diff('hour', TIMESTAMP '2025-01-01 10:59:00', TIMESTAMP '2025-01-01 11:00:00') AS h"
    ),
    "day_of_week_numbering": (
        "SELECT dayofweek(DATE '2025-01-05') AS sun, dayofweek(DATE '2025-01-11') AS sat, "
        "isodow(DATE '2025-01-05') AS iso_sun, isodow(DATE '2025-01-06') AS iso_mon"
    ),
    "date_spine": (
        "SELECT CAST(unnest(generate_series(DATE '2025-01-01', DATE '2025-04-01', "
        "INTERVAL 1 MONTH)) AS DATE) AS period"
    ),
    "json_rate": (
        "SELECT CAST(json_extract_string('{\"eur\": 0.912345, \"usd\": 1.0}', '$.' || 'eur') "
        "AS DOUBLE) AS v"
    ),
    "nulls_sort_last": "SELECT x FROM (VALUES (2), (NULL), (1)) AS t(x) ORDER BY x",
    "integer_division": "SELECT 7 // 2 AS a, 7 / 2 AS b, -7 // 2 AS c",
    "round_to_minor_units": (
        "SELECT CAST(round(CAST(2.5 AS DOUBLE)) AS HUGEINT) AS a, "
        "CAST(round(CAST(-2.5 AS DOUBLE)) AS HUGEINT) AS b, "
        "CAST(round(1234.0 * 0.912345 / 0.8) AS HUGEINT) AS c"
    ),
    "concat_skips_nulls": "SELECT concat('a', NULL, 'b') AS c, 'a' || NULL AS p",
}


@pytest.mark.parametrize("name", sorted(PINS))
def test_rewrite_executes_like_duckdb(name: str, duck: Executor, spark: SparkWarehouse) -> None:
    statement = guarded(PINS[name])
    expected, got = duck.run(statement), spark.run(statement)
    assert got.rows == expected.rows, (got.rows, expected.rows)
    for s_row, d_row in zip(got.rows, expected.rows, strict=True):
        assert [type(v) for v in s_row] == [type(v) for v in d_row]


# ---------------------------------------------------------------------------------------------
# Limits and scoping on Spark


def test_spark_result_types_match_duckdb(duck: Executor, spark: SparkWarehouse) -> None:
    sql = (
        "SELECT currency, count(*) AS n, CAST(sum(amount) AS HUGEINT) * 0.01 AS volume, "
        "max(created) AS last, CAST(max(created) AS DATE) AS last_day FROM charges GROUP BY ALL"
    )
    statement = guarded(sql, ACCOUNT)
    expected, got = duck.run(statement), spark.run(statement)
    assert (
        got.types == expected.types == ("VARCHAR", "BIGINT", "DECIMAL(38,2)", "TIMESTAMP", "DATE")
    )
    assert sorted(got.rows) == sorted(expected.rows)
    assert all(isinstance(r[3], datetime) and isinstance(r[4], date) for r in got.rows)


def test_row_cap_on_spark(spark: SparkWarehouse) -> None:
    result = spark.run(guarded("SELECT id FROM charges", ACCOUNT), max_rows=10)
    assert len(result.rows) == 10 and result.truncated
    exact = spark.run(guarded("SELECT id FROM accounts", ACCOUNT), max_rows=1)
    assert len(exact.rows) == 1 and not exact.truncated
    capped = check_sql(
        "SELECT id FROM charges", Policy(account=ACCOUNT, tables=warehouse_tables(), max_rows=5)
    )
    result = spark.run(capped, max_rows=500)
    assert len(result.rows) == 5 and result.truncated  # the guard's LIMIT cap + 1 holds on Spark


def test_tenant_scoping_on_spark(spark: SparkWarehouse) -> None:
    rows = spark.run(guarded("SELECT DISTINCT merchant_id FROM charges", ACCOUNT)).rows
    assert rows == ((ACCOUNT,),)
    everyone = spark.run(guarded("SELECT DISTINCT merchant_id FROM charges")).rows
    assert len(everyone) == 3


def test_timeout_cancels_the_spark_job(spark: SparkWarehouse) -> None:
    # Cancellation is cooperative: tasks stop at their next input row, so the slow query is a
    # two-way cross join (a row of `a` per check), not a deeper one that loops for minutes.
    slow = guarded("SELECT count(DISTINCT a.id || b.id) FROM charges AS a, charges AS b", ACCOUNT)
    with pytest.raises(QueryTimeout, match="query_timeout_ms") as stopped:
        spark.run(slow, timeout_ms=1500)
    # Spark itself cancelled the query (local: job group; Connect: OPERATION_CANCELED by tag).
    assert "cancel" in str(stopped.value.__cause__).lower(), stopped.value.__cause__
    after = spark.run(guarded("SELECT count(*) FROM accounts", ACCOUNT), timeout_ms=60_000)
    assert after.rows == ((1,),)  # the session is still usable


@pytest.mark.parametrize("case", TENANT_ATTACKS, ids=lambda c: c.id)
def test_tenant_attack_on_spark(case: Any, spark: SparkWarehouse, duck: Executor) -> None:
    statement = guarded(case.sql, case.account)
    expected, got = duck.run(statement), spark.run(statement)  # DuckDB's rows equal the oracle's
    assert got.columns == expected.columns
    assert got.truncated == expected.truncated and len(got.rows) == len(expected.rows)
    if not got.truncated:  # a capped statement without ORDER BY may keep any of its rows
        assert_same_rows(list(got.rows), list(expected.rows), ordered=False)
    if "merchant_id" in got.columns:
        i = got.columns.index("merchant_id")
        assert {r[i] for r in got.rows} <= {case.account}


def test_spark_file_query_is_refused(
    spark: SparkWarehouse, spark_assistant: Assistant, demo_export: Path
) -> None:
    sql = f'SELECT DISTINCT merchant_id FROM parquet."{demo_export / "charges"}"'
    rendered = spark_sql(sqlglot.parse_one(sql, read="duckdb"))
    assert "parquet.`" in rendered  # Spark would read the files directly, every account's rows:
    assert len(spark.session.sql(rendered).collect()) == 3
    with pytest.raises(GuardError) as refused:
        spark_assistant.session.run_sql(sql, ACCOUNT)
    assert refused.value.rule == "allowed_relations"


def _partial_export(tmp_path: Path) -> Path:
    """A Parquet export with one table of one foreign row: incomplete, and wrong if read."""
    import duckdb

    from app.run.export import export_parquet

    source = tmp_path / "partial.duckdb"
    conn = duckdb.connect(str(source))
    conn.execute("CREATE TABLE charges AS SELECT 'acct_x' AS merchant_id, 'ch_1' AS id")
    conn.close()
    export_parquet(source, tmp_path / "export")
    return tmp_path / "export"


def test_each_warehouse_has_its_own_views(
    spark: SparkWarehouse, duck: Executor, demo_export: Path, tmp_path: Path
) -> None:
    statement = guarded("SELECT count(*) FROM charges", ACCOUNT)
    expected = duck.run(statement).rows
    with pytest.raises(ExecutionError, match="lacks accounts"):
        SparkWarehouse(spark.settings, _partial_export(tmp_path))  # registers `charges` first
    SparkWarehouse(spark.settings, demo_export).close()  # drops (Connect: releases) its views
    assert spark.run(statement).rows == expected


def test_spark_errors_are_execution_errors(spark: SparkWarehouse) -> None:
    with pytest.raises(ExecutionError):
        spark.run(guarded("SELECT no_such_column FROM charges", ACCOUNT))
    with pytest.raises(TypeError):
        spark.run("SELECT 1")  # type: ignore[arg-type]


def test_freshness_and_tables_on_spark(spark: SparkWarehouse, duck: Executor) -> None:
    assert spark.tables() == warehouse_tables()
    assert spark.dialect == "spark"
    assert spark.freshness(ACCOUNT) == duck.freshness(ACCOUNT)


def test_views_have_exactly_the_warehouse_columns(spark: SparkWarehouse, duck: Executor) -> None:
    for table in ("charges", "revenue_recognition_debits_and_credits", "payouts", "accounts"):
        statement = guarded(f"SELECT * FROM {table} LIMIT 1", ACCOUNT)
        assert spark.run(statement).columns == duck.run(statement).columns, table


def _rows(result: Result) -> list[tuple[Any, ...]]:
    return sorted(result.rows, key=repr)


def test_cli_sql_on_spark(
    demo_path: Path,
    demo_export: Path,
    spark: SparkWarehouse,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.cli import main

    if spark.settings.spark_remote:  # the CLI reads the setting from the environment
        monkeypatch.setenv("LEDGERLENS_SPARK_REMOTE", spark.settings.spark_remote)
    sql = (
        "select format_datetime(created, 'yyyy-MM') as month, count(*) as n from charges "
        "where created >= timestamp '2025-12-01 00:00:00' group by 1"
    )
    code = main(
        ["sql", "--engine", "spark", "--parquet", str(demo_export), "--dialect", "trino",
         "--warehouse", str(demo_path), "--json", sql]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert '"status": "answered"' in out and '"2025-12"' in out


def test_incomplete_or_unreadable_export_is_an_error(spark: SparkWarehouse, tmp_path: Path) -> None:
    import shutil

    export = _partial_export(tmp_path)
    with pytest.raises(ExecutionError, match="lacks accounts"):
        SparkWarehouse(spark.settings, export)
    shutil.rmtree(export / "charges")
    with pytest.raises(ExecutionError, match="could not read the Parquet export"):
        SparkWarehouse(spark.settings, export)


def test_unreachable_connect_server_fails_fast(demo_path: Path, demo_export: Path) -> None:
    from tests.spark_connect_server import free_port

    url = f"sc://127.0.0.1:{free_port()}"  # nothing listens: the client would retry ~10 minutes
    settings = Settings(warehouse_path=demo_path, parquet_dir=demo_export, spark_remote=url)
    with pytest.raises(SparkUnavailable, match="No Spark Connect server answers"):
        SparkWarehouse(settings, demo_export)
    bad = settings.model_copy(update={"spark_remote": "http://127.0.0.1:15002"})
    with pytest.raises(SparkUnavailable, match="must look like sc://"):
        SparkWarehouse(bad, demo_export)
