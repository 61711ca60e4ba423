"""Guard tests: executed golden files (tests/fixtures/guard/*.sql) and tenant-isolation checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from app.core.errors import GuardError
from app.core.settings import Settings
from app.run.duckdb import Executor
from app.semantic.catalog import DDL_DIR, warehouse_tables
from app.sql.guard import checks as guard
from app.sql.guard.checks import CHECKS, Guarded, Policy, check_sql

FIXTURES = Path(__file__).parent / "fixtures" / "guard"
ACCOUNTS = ("acct_a", "acct_b", "acct_c")
MAX_ROWS = 100

# A handful of rows per table for three accounts. Ids deliberately collide across accounts
# (acct_b's refund points at acct_a's charge ch_a1) so an unscoped join would leak.
SEED = """
INSERT INTO accounts (merchant_id, id, business_profile_name, country, default_currency,
    settings_dashboard_timezone, created) VALUES
 ('acct_a', 'acct_a', 'Alpha Inc', 'US', 'usd', 'America/New_York', '2024-01-01'),
 ('acct_b', 'acct_b', 'Beta GmbH', 'DE', 'eur', 'Europe/Berlin', '2024-02-01'),
 ('acct_c', 'acct_c', 'Gamma Ltd', 'GB', 'gbp', 'Europe/London', '2024-03-01');
INSERT INTO customers (merchant_id, id, email, name, address_country, created, currency) VALUES
 ('acct_a', 'cus_a1', 'ann@alpha.test', 'Ann', 'US', '2024-06-01', 'usd'),
 ('acct_a', 'cus_a2', 'bob@alpha.test', 'Bob', 'CA', '2024-07-01', 'usd'),
 ('acct_b', 'cus_b1', 'cem@beta.test', 'Cem', 'DE', '2024-06-15', 'eur'),
 ('acct_c', 'cus_c1', 'dee@gamma.test', 'Dee', 'GB', '2024-08-01', 'gbp');
INSERT INTO products (merchant_id, id, name, active, created) VALUES
 ('acct_a', 'prod_a1', 'Pro', true, '2024-01-02'),
 ('acct_b', 'prod_b1', 'Team', true, '2024-02-02');
INSERT INTO prices (merchant_id, id, product_id, currency, unit_amount, recurring_interval,
    nickname, created) VALUES
 ('acct_a', 'price_a1', 'prod_a1', 'usd', 1000, 'month', 'Pro monthly', '2024-01-02'),
 ('acct_b', 'price_b1', 'prod_b1', 'eur', 5000, 'month', 'Team monthly', '2024-02-02');
INSERT INTO subscriptions (merchant_id, id, customer_id, status, created) VALUES
 ('acct_a', 'sub_a1', 'cus_a1', 'active', '2024-06-01'),
 ('acct_a', 'sub_a2', 'cus_a2', 'canceled', '2024-07-01'),
 ('acct_b', 'sub_b1', 'cus_b1', 'active', '2024-06-15');
INSERT INTO invoices (merchant_id, id, customer_id, charge_id, currency, paid, status, total) VALUES
 ('acct_a', 'in_a1', 'cus_a1', 'ch_a1', 'usd', true, 'paid', 1000),
 ('acct_a', 'in_a2', 'cus_a2', 'ch_a2', 'usd', true, 'paid', 2000),
 ('acct_b', 'in_b1', 'cus_b1', 'ch_b1', 'eur', true, 'paid', 5000);
INSERT INTO charges (merchant_id, id, customer_id, invoice_id, amount, amount_refunded,
    currency, paid, refunded, status, created) VALUES
 ('acct_a', 'ch_a1', 'cus_a1', 'in_a1', 1000, 0, 'usd', true, false, 'succeeded',
  '2025-01-05 10:00:00'),
 ('acct_a', 'ch_a2', 'cus_a2', 'in_a2', 2000, 500, 'usd', true, false, 'succeeded',
  '2025-02-10 12:00:00'),
 ('acct_a', 'ch_a3', 'cus_a2', NULL, 1500, 0, 'usd', false, false, 'failed',
  '2025-02-11 09:30:00'),
 ('acct_b', 'ch_b1', 'cus_b1', 'in_b1', 5000, 0, 'eur', true, false, 'succeeded',
  '2025-01-20 08:00:00'),
 ('acct_b', 'ch_b2', 'cus_b1', NULL, 7000, 7000, 'eur', true, true, 'succeeded',
  '2025-03-01 16:45:00'),
 ('acct_c', 'ch_c1', 'cus_c1', NULL, 300, 0, 'gbp', true, false, 'succeeded',
  '2025-01-15 11:00:00');
INSERT INTO refunds (merchant_id, id, charge_id, amount, currency, status, created) VALUES
 ('acct_a', 're_a1', 'ch_a2', 500, 'usd', 'succeeded', '2025-02-12 10:00:00'),
 ('acct_b', 're_b1', 'ch_a1', 100, 'eur', 'succeeded', '2025-02-01 10:00:00'),
 ('acct_b', 're_b2', 'ch_b2', 7000, 'eur', 'succeeded', '2025-03-02 10:00:00');
INSERT INTO disputes (merchant_id, id, charge_id, amount, currency, status, created) VALUES
 ('acct_a', 'dp_a1', 'ch_a1', 1000, 'usd', 'needs_response', '2025-01-20 10:00:00'),
 ('acct_b', 'dp_b1', 'ch_b1', 5000, 'eur', 'lost', '2025-02-20 10:00:00');
INSERT INTO balance_transactions (merchant_id, id, amount, fee, net, currency, status, type,
    created) VALUES
 ('acct_a', 'txn_a1', 1000, 59, 941, 'usd', 'available', 'charge', '2025-01-05 10:00:00'),
 ('acct_a', 'txn_a2', 2000, 88, 1912, 'usd', 'available', 'charge', '2025-02-10 12:00:00'),
 ('acct_a', 'txn_a3', -500, 0, -500, 'usd', 'available', 'refund', '2025-02-12 10:00:00'),
 ('acct_b', 'txn_b1', 5000, 170, 4830, 'eur', 'available', 'charge', '2025-01-20 08:00:00'),
 ('acct_b', 'txn_b2', 7000, 228, 6772, 'eur', 'pending', 'charge', '2025-03-01 16:45:00'),
 ('acct_c', 'txn_c1', 300, 30, 270, 'gbp', 'available', 'charge', '2025-01-15 11:00:00');
INSERT INTO transfers (merchant_id, id, amount, currency, status, type, created) VALUES
 ('acct_a', 'po_a1', 2353, 'usd', 'paid', 'bank_account', '2025-02-15 00:00:00'),
 ('acct_a', 'tr_a2', 100, 'usd', 'paid', 'stripe_account', '2025-02-16 00:00:00'),
 ('acct_b', 'po_b1', 4830, 'eur', 'paid', 'bank_account', '2025-02-01 00:00:00');
INSERT INTO exchange_rates_from_usd (merchant_id, date, sell_currency,
    buy_currency_exchange_rates) VALUES
 ('acct_a', '2025-01-05', 'usd', '{"eur": 0.91, "gbp": 0.79}'),
 ('acct_b', '2025-01-05', 'usd', '{"eur": 0.92, "gbp": 0.80}');
"""


def build_test_warehouse(path: Path, seed: str = SEED) -> None:
    """Create the warehouse schema from data/ddl and insert the small multi-account data set."""
    conn = duckdb.connect(str(path))
    try:
        for ddl in sorted(DDL_DIR.glob("*.sql")):
            conn.execute(ddl.read_text(encoding="utf-8"))
        conn.execute(seed)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executor]:
    path = tmp_path_factory.mktemp("guard") / "warehouse.duckdb"
    build_test_warehouse(path)
    with Executor(path, Settings(max_rows=1000, query_timeout_ms=20_000)) as ex:
        yield ex


def policy(account: str | None = None, read_dialect: str = "duckdb") -> Policy:
    return Policy(account, warehouse_tables(), MAX_ROWS, read_dialect)


def trusted(sql: str) -> Guarded:
    """Wrap test-authored reference SQL so the executor will run it unguarded."""
    return Guarded(sqlglot.parse_one(sql, read="duckdb"), sql, ())


def normalise(sql: str) -> str:
    return sqlglot.transpile(sql, read="duckdb", write="duckdb")[0]


def rows_of(executor: Executor, guarded: Guarded) -> list[tuple[Any, ...]]:
    return sorted(executor.run(guarded).rows, key=repr)


# --- golden files -------------------------------------------------------------------------


def load_cases(name: str) -> Iterator[Any]:
    """Yield pytest params (meta, input, expected) from a golden file, one per blank-line block."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if all(line.startswith("--") for line in lines):
            continue  # a file's header comment
        meta: dict[str, str] = {}
        while lines and lines[0].startswith("#"):
            key, _, value = lines.pop(0).lstrip("#").partition(":")
            meta[key.strip()] = value.strip()
        if "reject" in meta:
            sql, expected = "\n".join(lines).rstrip().removesuffix(";"), None
        else:
            end = next(i for i, line in enumerate(lines) if line.rstrip().endswith(";")) + 1
            sql = "\n".join(lines[:end]).rstrip().removesuffix(";")
            expected = "\n".join(lines[end:]).rstrip().removesuffix(";")
        yield pytest.param(meta, sql, expected, id=f"{name[:-4]}: {meta['title']}")


GOLDEN = [*load_cases("accept.sql"), *load_cases("scope.sql"), *load_cases("reject.sql")]


@pytest.mark.parametrize(("meta", "sql", "expected"), GOLDEN)
def test_golden(executor: Executor, meta: dict[str, str], sql: str, expected: str | None) -> None:
    rules = policy(meta.get("account"), meta.get("dialect", "duckdb"))
    if expected is None:
        with pytest.raises(GuardError) as caught:
            check_sql(sql, rules)
        assert caught.value.rule == meta["reject"], caught.value
        return
    guarded = check_sql(sql, rules)
    assert normalise(guarded.sql) == normalise(expected)
    if meta.get("execute", "true") != "false":
        got = executor.run(guarded)
        want = executor.run(trusted(expected))
        assert got.columns == want.columns
        assert sorted(got.rows, key=repr) == sorted(want.rows, key=repr)


def test_golden_counts() -> None:
    files = {name: list(load_cases(name)) for name in ("accept.sql", "scope.sql", "reject.sql")}
    assert len(files["accept.sql"]) >= 20
    assert len(files["scope.sql"]) >= 15
    assert len(files["reject.sql"]) >= 40
    rejected_rules = {case.values[0]["reject"] for case in files["reject.sql"]}
    check_names = {check.__name__ for check in CHECKS}
    assert check_names - {"scope_to_account", "cap_rows"} <= rejected_rules


RULES = {"empty", "too_long", "parse_error", "too_complex"} | {c.__name__ for c in CHECKS}
TOKENS = (
    *("SELECT", "*", "FROM", "charges", "refunds", "x", "WITH", "AS", "(", ")", ",", ";", "1"),
    *("UNION", "ALL", "JOIN", "ON", "WHERE", "=", "'a'", "LIMIT", "read_csv", "range", "main."),
    *("RECURSIVE", "LATERAL", "INSERT", "INTO", "VALUES", "DELETE", "RETURNING", "getenv", "."),
)

# --- tenant isolation ---------------------------------------------------------------------

ISOLATION_QUERIES = [
    "SELECT merchant_id, id FROM charges",
    "SELECT merchant_id, id FROM charges WHERE merchant_id = 'acct_b'",
    "SELECT merchant_id, id FROM charges WHERE merchant_id <> 'acct_a' OR true",
    "SELECT merchant_id, id FROM charges UNION ALL SELECT merchant_id, id FROM refunds",
    "SELECT r.merchant_id, r.id FROM charges c JOIN refunds r ON r.charge_id = c.id",
    "SELECT merchant_id, id FROM refunds r WHERE EXISTS "
    "(SELECT 1 FROM charges c WHERE c.id = r.charge_id)",
    "SELECT c.merchant_id, c.id FROM charges c WHERE c.amount > "
    "(SELECT avg(amount) FROM charges c2 WHERE c2.currency = c.currency)",
    "WITH charges AS (SELECT * FROM charges) SELECT merchant_id, id FROM charges",
    "WITH x AS (SELECT * FROM refunds) SELECT merchant_id, id FROM x "
    "UNION SELECT merchant_id, id FROM disputes",
    "SELECT t.merchant_id, t.id FROM charges c, LATERAL "
    "(SELECT * FROM balance_transactions b WHERE b.amount = c.amount) t",
    "SELECT merchant_id, id FROM payouts",
    "SELECT merchant_id, id FROM (charges JOIN refunds USING (merchant_id, id))",
    "SELECT * FROM (SELECT merchant_id, id FROM customers) WHERE id IN "
    "(SELECT customer_id FROM subscriptions)",
    "FROM charges SELECT merchant_id, id",
    "SELECT merchant_id, id FROM charges UNION ALL BY NAME SELECT merchant_id, id FROM refunds",
    "SELECT merchant_id, id FROM charges WHERE id = ANY (SELECT charge_id FROM refunds)",
    "SELECT c.merchant_id, r.id FROM charges c ASOF JOIN refunds r "
    "ON r.charge_id = c.id AND r.created >= c.created",
    "SELECT c.merchant_id, c.id FROM charges c POSITIONAL JOIN refunds r",
    "WITH x AS MATERIALIZED (SELECT * FROM refunds) SELECT merchant_id, id FROM x",
    "SELECT merchant_id, id FROM (TABLE disputes)",
    "SELECT merchant_id, id FROM (FROM invoices)",
    "SELECT * FROM (WITH charges AS (SELECT * FROM charges) SELECT merchant_id, id FROM charges)",
]


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("sql", ISOLATION_QUERIES)
def test_scoped_rows_belong_to_account(executor: Executor, sql: str, account: str) -> None:
    result = executor.run(check_sql(sql, policy(account)))
    assert {row[0] for row in result.rows} <= {account}
    ids = {row[1] for row in result.rows}
    assert all(str(i).split("_")[1].startswith(account[-1]) for i in ids), ids


def test_other_accounts_rows_are_invisible(executor: Executor) -> None:
    sql = "SELECT * FROM charges WHERE merchant_id = 'acct_b'"
    assert executor.run(check_sql(sql, policy("acct_a"))).rows == ()
    assert len(executor.run(check_sql(sql, policy(None))).rows) == 2


def test_colliding_ids_do_not_join_across_accounts(executor: Executor) -> None:
    sql = "SELECT r.id FROM charges c JOIN refunds r ON r.charge_id = c.id ORDER BY 1"
    assert executor.run(check_sql(sql, policy("acct_a"))).rows == (("re_a1",),)
    unscoped = executor.run(check_sql(sql, policy(None))).rows
    assert ("re_b1",) in unscoped


def test_correlated_subquery_counts_only_own_rows(executor: Executor) -> None:
    sql = (
        "SELECT c.id, (SELECT count(*) FROM refunds r WHERE r.charge_id = c.id) AS n "
        "FROM charges c ORDER BY c.id"
    )
    rows = executor.run(check_sql(sql, policy("acct_a"))).rows
    assert rows == (("ch_a1", 0), ("ch_a2", 1), ("ch_a3", 0))


def test_cte_shadowing_a_table_is_scoped_inside(executor: Executor) -> None:
    sql = "WITH charges AS (SELECT * FROM charges WHERE amount > 1000) SELECT id FROM charges"
    assert sorted(executor.run(check_sql(sql, policy("acct_b"))).rows) == [("ch_b1",), ("ch_b2",)]


def test_account_literal_is_never_spliced(executor: Executor) -> None:
    hostile = "x' OR '1'='1"
    guarded = check_sql("SELECT * FROM charges", policy(hostile))
    assert "'x'' OR ''1''=''1'" in guarded.sql
    assert executor.run(guarded).rows == ()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(account=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_any_account_string_sees_only_itself(executor: Executor, account: str) -> None:
    sql = "SELECT merchant_id FROM charges UNION ALL SELECT merchant_id FROM refunds"
    rows = executor.run(check_sql(sql, policy(account))).rows
    assert all(row[0] == account for row in rows)


@settings(max_examples=300, deadline=None)
@given(sql=st.one_of(st.text(max_size=200), st.lists(st.sampled_from(TOKENS)).map(" ".join)))
def test_any_input_is_guarded_or_refused(sql: str) -> None:
    try:
        guarded = check_sql(sql, policy("acct_a"))
    except GuardError as err:
        assert err.rule in RULES
    else:
        assert "merchant_id = 'acct_a'" in guarded.sql or not guarded.tables


# --- pipeline properties ------------------------------------------------------------------


def test_checks_order_is_pinned() -> None:
    assert [check.__name__ for check in CHECKS] == [
        "single_statement",
        "select_only",
        "allowed_relations",
        "no_table_functions",
        "no_dangerous_functions",
        "scope_to_account",
        "cap_rows",
    ]


def test_warehouse_tables_come_from_ddl() -> None:
    tables = warehouse_tables()
    assert {"charges", "refunds", "balance_transactions", "payouts", "accounts"} <= tables
    assert len(tables) == 29
    assert all(name == name.lower() for name in tables)


def test_expression_input_is_not_mutated() -> None:
    query = exp.select("id").from_("charges")
    before = query.sql()
    guarded = check_sql(query, policy("acct_a"))
    assert query.sql() == before
    assert guarded.tables == ("charges",)
    assert "merchant_id = 'acct_a'" in guarded.sql


def test_guarded_reports_tables_read() -> None:
    sql = "WITH refunds AS (SELECT 1 AS x) SELECT * FROM charges, refunds, payouts"
    assert check_sql(sql, policy("acct_a")).tables == ("charges", "payouts")


def test_parse_error_names_the_position() -> None:
    with pytest.raises(GuardError) as caught:
        check_sql("SELECT id FROM charges WHERE (", policy())
    assert caught.value.rule == "parse_error"
    assert "line 1" in caught.value.detail and "column" in caught.value.detail


@pytest.mark.parametrize("sql", ["SELECT amount * FROM charges", "SELCT 1", "SELECT (1 +"])
def test_parse_errors_are_in_plain_words(sql: str) -> None:
    with pytest.raises(GuardError) as caught:
        check_sql(sql, policy())
    detail = caught.value.detail
    assert caught.value.rule == "parse_error" and "line 1, column" in detail
    assert "<class" not in detail and "sqlglot" not in detail and "Required keyword" not in detail


def test_guard_error_names_the_offending_fragment() -> None:
    with pytest.raises(GuardError) as caught:
        check_sql("SELECT id FROM charges WHERE id = getenv('HOME')", policy("acct_a"))
    assert caught.value.rule == "no_dangerous_functions"
    assert "GETENV('HOME')" in caught.value.detail


def test_cap_keeps_smaller_limits_and_cuts_larger() -> None:
    assert normalise(check_sql("SELECT 1 LIMIT 7", policy()).sql) == "SELECT 1 LIMIT 7"
    assert normalise(check_sql("SELECT 1 LIMIT 700", policy()).sql) == "SELECT 1 LIMIT 101"
    assert normalise(check_sql("SELECT 1", policy()).sql) == "SELECT 1 LIMIT 101"


def test_unknown_dialect_is_refused_early() -> None:
    with pytest.raises(ValueError):
        Policy(None, frozenset(), 10, read_dialect="no_such_dialect")


def test_deep_nesting_is_refused_not_crashed() -> None:
    sql = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    with pytest.raises(GuardError) as caught:
        check_sql(sql, policy())
    assert caught.value.rule in {"parse_error", "too_complex"}


def test_unscoped_output_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    without_scoping = tuple(c for c in CHECKS if c is not guard.scope_to_account)
    monkeypatch.setattr(guard, "CHECKS", without_scoping)
    with pytest.raises(GuardError) as caught:
        check_sql("SELECT id FROM charges", policy("acct_a"))
    assert caught.value.rule == "scope_to_account"


def test_overlong_input_is_refused() -> None:
    with pytest.raises(GuardError) as caught:
        check_sql("SELECT 1" + " " * guard.MAX_SQL_CHARS, policy())
    assert caught.value.rule == "too_long"


def test_comments_are_not_rendered() -> None:
    guarded = check_sql("SELECT 1 -- */ ; DROP TABLE charges", policy())
    assert "DROP" not in guarded.sql and "--" not in guarded.sql
