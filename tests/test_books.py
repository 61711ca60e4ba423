"""The books of the synthetic warehouse balance: every invariant is a SQL query whose result
must be empty. Cheap checks run on one fixed-seed warehouse; hypothesis re-checks them all on
warehouses built from other seeds."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import _gen_config as cfg
from tests._warehouse_fixtures import (
    INVARIANTS,
    TINY_END,
    build_tiny,
    fact_reference_queries,
    foreign_key_queries,
    future_timestamp_queries,
    unique_id_queries,
)

FIXED_SEED = 11


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = build_tiny(tmp_path_factory.mktemp("books") / "books.duckdb", FIXED_SEED)
    conn = duckdb.connect(str(path), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    yield conn
    conn.close()


def violations(conn: duckdb.DuckDBPyConnection, query: str, limit: int = 5) -> list[tuple]:
    return conn.execute(f"SELECT * FROM ({query}) LIMIT {limit}").fetchall()


def all_checks(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    checks = dict(INVARIANTS)
    checks |= {f"references {k}": v for k, v in fact_reference_queries(conn).items()}
    checks |= {f"foreign key {k}": v for k, v in foreign_key_queries().items()}
    checks |= {f"no future {k}": v for k, v in future_timestamp_queries(conn, TINY_END).items()}
    checks |= {f"unique ids {k}": v for k, v in unique_id_queries(conn).items()}
    return checks


@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_invariant(books: duckdb.DuckDBPyConnection, name: str) -> None:
    assert violations(books, INVARIANTS[name]) == []


def test_every_fact_row_has_its_account_and_customer(books: duckdb.DuckDBPyConnection) -> None:
    bad = {t: v for t, q in fact_reference_queries(books).items() if (v := violations(books, q))}
    assert bad == {}


def test_references_point_to_rows_of_the_same_merchant(books: duckdb.DuckDBPyConnection) -> None:
    bad = {k: v for k, q in foreign_key_queries().items() if (v := violations(books, q))}
    assert bad == {}


def test_ids_are_unique(books: duckdb.DuckDBPyConnection) -> None:
    queries = unique_id_queries(books)
    assert len(queries) > 20
    bad = {t: v for t, q in queries.items() if (v := violations(books, q))}
    assert bad == {}


def test_invariants_hold_across_customer_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # large builds process customers in batches; payouts, billing fees and coupon counts span
    # batches, and keys must stay unique across them
    monkeypatch.setattr(cfg, "CHUNK_CUSTOMERS", 70)
    path = build_tiny(tmp_path / "batched.duckdb", FIXED_SEED, customers=200, months=12)
    conn = duckdb.connect(str(path), read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 200
        failed = {name: rows for name, q in all_checks(conn).items()
                  if (rows := violations(conn, q, limit=3))}  # fmt: skip
        payouts_per_currency = conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM transfers GROUP BY merchant_id, "
            "currency, date)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert failed == {}
    assert payouts_per_currency == 1  # one payout stream per (account, currency), not per batch


def test_no_fact_timestamp_after_the_end(books: duckdb.DuckDBPyConnection) -> None:
    queries = future_timestamp_queries(books, TINY_END)
    assert len(queries) > 40  # every timestamp column of every table is covered
    bad = {k: v for k, q in queries.items() if (v := violations(books, q))}
    assert bad == {}


def test_freshness_is_the_latest_balance_transaction(books: duckdb.DuckDBPyConnection) -> None:
    latest = books.execute("SELECT max(created) FROM balance_transactions").fetchone()[0]
    assert latest is not None
    assert latest.date() <= TINY_END


def test_fixed_warehouse_exercises_the_interesting_cases(books: duckdb.DuckDBPyConnection) -> None:
    # the invariants above would hold vacuously on empty tables: make sure they do not
    tables = (
        "credit_notes", "refunds", "disputes", "transfers", "invoice_line_item_discount_amounts",
        "subscription_item_change_events", "tax_transaction_jurisdiction_details",
    )  # fmt: skip
    counts = {t: books.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert all(n > 0 for n in counts.values()), counts
    kinds = {
        r[0]
        for r in books.execute(
            "SELECT DISTINCT event_type FROM subscription_item_change_events"
        ).fetchall()
    }
    assert {"ACTIVE_START", "ACTIVE_END", "ACTIVE_UPGRADE"} <= kinds


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000))
def test_invariants_hold_for_any_seed(seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ledgerlens-books-") as tmp:
        path = build_tiny(Path(tmp) / "w.duckdb", seed, customers=180, months=14)
        conn = duckdb.connect(str(path), read_only=True)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            failed = {name: rows for name, q in all_checks(conn).items()
                      if (rows := violations(conn, q, limit=3))}  # fmt: skip
        finally:
            conn.close()
    assert failed == {}, f"seed {seed}"
