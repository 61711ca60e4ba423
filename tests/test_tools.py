"""The agent's tools on the demo warehouse, without any LLM."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.run.warehouse import Result
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Policy, check_sql
from tools import TOOLS, SqlToolResult, ToolContext
from tools.context import GuardedSql
from tools.describe_table import describe_table
from tools.lookup_metric import lookup_metric
from tools.run_sql import preview, run_sql
from tools.sample_values import sample_values

AS_OF = date(2025, 12, 31)


@pytest.fixture
def ctx(assistant: Assistant) -> ToolContext:
    return ToolContext(session=assistant.session, account="acct_demo_02", as_of=AS_OF)


def _direct(session: GuardedSql, sql: str) -> list[tuple[object, ...]]:
    """Run SQL with no tenant scoping (the test states the account itself)."""
    policy = Policy(account=None, tables=warehouse_tables(), max_rows=10_000)
    return list(session.executor.run(check_sql(sql, policy)).rows)


def test_tools_tuple_and_signatures() -> None:
    assert [t.__name__ for t in TOOLS] == [
        "lookup_metric",
        "describe_table",
        "sample_values",
        "run_sql",
    ]
    for tool in TOOLS:
        doc = tool.__doc__ or ""
        assert doc.splitlines()[0].endswith(".")
        assert "Args:" in doc


# ------------------------------------------------------------------ lookup_metric
@pytest.mark.parametrize(
    ("word", "metric"),
    [
        ("chargebacks", "disputes_amount"),
        ("Monthly Recurring Revenue", "mrr"),
        ("mrr", "mrr"),
        ("net_new_mrr", "net_new_mrr"),
        ("VAT", "tax_collected"),
        ("logo-churn", "subscriber_churn_rate"),
    ],
)
def test_lookup_metric_by_name_or_synonym(ctx: ToolContext, word: str, metric: str) -> None:
    text = lookup_metric(ctx, word)
    m = ctx.session.model.metrics[metric]
    assert text.startswith(f"{metric} ({m.label}): {m.definition}")
    assert "Aggregation:" in text


def test_lookup_metric_gives_sql_shape_and_unit(ctx: ToolContext) -> None:
    text = lookup_metric(ctx, "gross volume")
    assert "SELECT sum(charges.amount) FROM charges WHERE charges.status = 'succeeded'" in text
    assert "currency column charges.currency" in text
    assert "Time column: charges.created (UTC)" in text
    ratio = lookup_metric(ctx, "refund rate")
    assert "Formula: refunds_amount / gross_volume" in ratio


def test_lookup_metric_ambiguous_word(ctx: ToolContext) -> None:
    text = lookup_metric(ctx, "revenue")
    assert "ambiguous" in text and "default reading: net_revenue" in text
    assert "recognized_revenue" in text


def test_lookup_metric_unknown_word(ctx: ToolContext) -> None:
    text = lookup_metric(ctx, "refundz")
    assert text.startswith("No metric matches 'refundz'; closest: refunds_amount")
    assert lookup_metric(ctx, "ebitda").startswith(
        "No metric matches 'ebitda'; metrics: gross_volume"
    )
    assert lookup_metric(ctx, "  ").startswith("Give a metric name")


# ------------------------------------------------------------------ describe_table
def test_describe_known_table(ctx: ToolContext) -> None:
    text = describe_table(ctx, "Refunds")
    assert text.startswith("table refunds: Money returned to customers against a charge.")
    assert "- amount BIGINT [money, minor units of the row's currency]: " in text
    assert "- created TIMESTAMP: When the object was created (UTC)." in text
    assert "- reason VARCHAR: duplicate, fraudulent" in text
    assert "refunds.charge_id → charges.id" in text
    assert "- merchant_id" not in text


def test_describe_view(ctx: ToolContext) -> None:
    text = describe_table(ctx, "payouts")
    assert text.startswith("view payouts: ")
    assert "- amount BIGINT [money" in text


def test_describe_unknown_table(ctx: ToolContext) -> None:
    text = describe_table(ctx, "refund")
    assert text.startswith("Unknown table 'refund'. Did you mean refunds?")
    assert "Valid tables: accounts, balance_transaction_fee_details" in text
    assert describe_table(ctx, "information_schema.tables").startswith("Unknown table")


# ------------------------------------------------------------------ sample_values
def _listed(text: str) -> dict[str, int]:
    return {v: int(n) for v, n in re.findall(r"'([^']*)' \((\d+)\)", text)}


def test_sample_values_scoped_to_the_account(ctx: ToolContext) -> None:
    text = sample_values(ctx, "disputes", "reason")
    expected = _direct(
        ctx.session,
        "SELECT reason, count(*) FROM disputes WHERE merchant_id = 'acct_demo_02' "
        "AND reason IS NOT NULL GROUP BY 1",
    )
    assert _listed(text) == {str(v): int(str(n)) for v, n in expected}
    other = _direct(
        ctx.session, "SELECT DISTINCT reason FROM disputes WHERE merchant_id = 'acct_demo_01'"
    )
    only_other = {str(r) for (r,) in other} - set(_listed(text))
    assert only_other  # the demo data has a reason only acct_demo_01 uses
    assert not any(f"'{r}'" in text for r in only_other)


def test_sample_values_most_frequent_first(ctx: ToolContext) -> None:
    counts = list(_listed(sample_values(ctx, "charges", "card_brand")).values())
    assert counts == sorted(counts, reverse=True) and len(counts) > 1


def test_sample_values_capped(assistant: Assistant) -> None:
    ctx = ToolContext(session=assistant.session, account="acct_demo_01", as_of=AS_OF, sample_cap=5)
    text = sample_values(ctx, "customers", "address_country")
    assert len(_listed(text)) == 5
    assert "Only the 5 most frequent are shown." in text
    [(total,)] = _direct(
        assistant.session,
        "SELECT count(DISTINCT address_country) FROM customers WHERE merchant_id = 'acct_demo_01'",
    )
    assert int(str(total)) > 5


def test_sample_values_allows_catalog_names(ctx: ToolContext) -> None:
    text = sample_values(ctx, "products", "name")
    assert "'Pro' (1)" in text


@pytest.mark.parametrize(
    ("table", "column", "reason"),
    [
        ("customers", "email", "e-mail address"),
        ("customers", "name", "a name"),
        ("customers", "phone", "phone number"),
        ("customers", "address_line1", "street address"),
        ("customers", "description", "free text"),
        ("charges", "customer_id", "identifier"),
        ("charges", "id", "identifier"),
        ("charges", "amount", "money amounts"),
        ("charges", "created", "timestamps"),
        ("charges", "merchant_id", "account column"),
    ],
)
def test_sample_values_refuses_personal_and_non_category_columns(
    ctx: ToolContext, table: str, column: str, reason: str
) -> None:
    text = sample_values(ctx, table, column)
    assert text.startswith(f"Refused: {table}.{column} is not sampled because")
    assert reason in text


def test_sample_values_unknown_table_or_column(ctx: ToolContext) -> None:
    assert sample_values(ctx, "nope", "x").startswith("Unknown table 'nope'.")
    text = sample_values(ctx, "charges", "colour")
    assert text.startswith("Table charges has no column 'colour'. Columns: id, amount")


# ------------------------------------------------------------------ run_sql
def test_run_sql_ok_preview(ctx: ToolContext) -> None:
    out = run_sql(
        ctx,
        "SELECT currency, count(*) AS n, sum(amount) * 0.01 AS total FROM charges "
        "WHERE status = 'succeeded' GROUP BY currency ORDER BY currency",
    )
    assert isinstance(out, SqlToolResult) and out.ok and out.rule is None
    assert isinstance(out.result, Result)
    assert out.sql is not None and "merchant_id = 'acct_demo_02'" in out.sql
    expected = _direct(
        ctx.session,
        "SELECT currency, count(*), sum(amount) * 0.01 FROM charges WHERE merchant_id = "
        "'acct_demo_02' AND status = 'succeeded' GROUP BY 1 ORDER BY 1",
    )
    assert list(out.result.rows) == expected
    lines = out.text.splitlines()
    assert lines[0] == (
        f"OK: {len(expected)} rows. Columns: currency VARCHAR, n BIGINT, total DECIMAL(38,2)."
    )
    assert lines[1] == "currency | n | total"
    cur, n, total = expected[0]
    assert lines[2] == f"{cur} | {n} | {total}"


def test_run_sql_preview_is_capped(assistant: Assistant) -> None:
    ctx = ToolContext(
        session=assistant.session, account="acct_demo_02", as_of=AS_OF, preview_rows=3
    )
    out = run_sql(ctx, "SELECT id, created FROM charges ORDER BY created, id LIMIT 10")
    assert out.ok and out.result is not None and len(out.result.rows) == 10
    assert out.text.splitlines()[0] == "OK: 10 rows. Columns: id VARCHAR, created TIMESTAMP."
    assert len(out.text.splitlines()) == 2 + 3 + 1
    assert out.text.endswith("(first 3 of 10 rows shown)")


def test_run_sql_preview_fits_a_character_budget(ctx: ToolContext) -> None:
    out = run_sql(ctx, "SELECT id, customer_id, created, amount, currency FROM charges LIMIT 20")
    assert out.ok and out.result is not None and len(out.result.rows) == 20
    text = preview(out.result, rows=20, max_chars=600)
    *table, note = text.splitlines()
    assert len("\n".join(table)) <= 600
    match = re.fullmatch(r"\(first (\d+) of 20 rows shown\)", note)
    assert match is not None and int(match.group(1)) == len(table) - 2 > 0
    wide = run_sql(ctx, "SELECT * FROM charges LIMIT 20")
    assert "(first 1 of 20 rows shown)" in wide.text  # one row at least, however wide
    one = run_sql(ctx, "SELECT 1 AS x")
    assert one.text.splitlines()[0] == "OK: 1 row. Columns: x INTEGER."


def test_run_sql_row_cap_is_reported(ctx: ToolContext) -> None:
    out = run_sql(ctx, "SELECT id FROM charges")
    assert out.ok and out.result is not None and out.result.truncated
    cap = ctx.session.settings.max_rows
    assert out.text.startswith(f"OK: {cap} rows or more.")
    assert "hit the row cap" in out.text


def test_run_sql_guard_rejection(ctx: ToolContext) -> None:
    out = run_sql(ctx, "DROP TABLE charges")
    assert not out.ok and out.result is None and out.sql is None
    assert out.rule == "select_only"
    assert out.text.startswith("Rejected by rule select_only: ")
    assert "Rewrite it as one read-only SELECT" in out.text
    files = run_sql(ctx, "SELECT * FROM read_csv('/etc/passwd')")
    assert not files.ok and files.rule is not None and files.rule in files.text


def test_run_sql_duckdb_error(ctx: ToolContext) -> None:
    out = run_sql(ctx, "SELECT no_such_column FROM charges")
    assert not out.ok and out.rule is None and out.result is None
    assert out.text.startswith("DuckDB error: Binder Error")
    assert "no_such_column" in out.text and "describe_table" in out.text


def test_run_sql_parse_error_is_text(ctx: ToolContext) -> None:
    out = run_sql(ctx, "SELEC 1 FROM")
    assert not out.ok and out.rule == "parse_error"


def test_run_sql_cannot_read_another_account(ctx: ToolContext) -> None:
    out = run_sql(ctx, "SELECT count(*) AS n FROM charges WHERE merchant_id = 'acct_demo_01'")
    assert out.ok and out.result is not None
    assert out.result.rows == ((0,),)
    mine = run_sql(ctx, "SELECT DISTINCT merchant_id FROM charges")
    assert mine.result is not None and mine.result.rows == (("acct_demo_02",),)


@pytest.fixture(scope="module")
def slow_assistant(
    demo_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    copy = tmp_path_factory.mktemp("slow") / "demo.duckdb"
    shutil.copy(demo_path, copy)
    a = Assistant(Settings(warehouse_path=copy, query_timeout_ms=50))
    yield a
    a.session.close()


def test_run_sql_timeout_is_text(slow_assistant: Assistant) -> None:
    ctx = ToolContext(session=slow_assistant.session, account="acct_demo_02", as_of=AS_OF)
    out = run_sql(ctx, "SELECT count(*) FROM charges a, charges b, charges c")
    assert not out.ok and out.rule == "timeout"
    assert out.text.startswith("Timed out: ") and "query_timeout_ms" in out.text
