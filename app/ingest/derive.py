"""After the delivered tables are loaded: derive what a delivery lacks, then check the books.

`post_load` is the one place where the warehouse gets what the generator builds but Stripe does
not deliver: the `accounts` rows when the delivery has none, then the pre-aggregated daily rollups
(`data.rollups.build_rollups`, the same step `data build` runs), before the checks, so they are
swapped in with the rest and stamped with the delivered facts' fingerprint.
"""

from __future__ import annotations

import hashlib
import time

import duckdb

from app.ingest.schema import expected_columns
from data.rollups import build_rollups

# Derived `accounts` row per merchant that a delivery has rows for (docs/import.md).
_DERIVE_ACCOUNTS = """
INSERT INTO accounts
SELECT merchant_id, merchant_id, merchant_id, NULL,
       arg_max(currency, n), 'UTC', min(first_at)
FROM (
    SELECT merchant_id, currency, count(*) AS n, min(created) AS first_at
    FROM balance_transactions GROUP BY ALL
) GROUP BY merchant_id ORDER BY merchant_id
"""

# The books' invariants that real data satisfies: (what is wrong, SQL counting offending rows).
INVARIANTS: tuple[tuple[str, str], ...] = (
    (
        "balance transactions whose net is not amount - fee",
        "SELECT count(*) FROM balance_transactions WHERE net IS DISTINCT FROM amount - fee",
    ),
    (
        "balance transactions whose fee details do not add up to the fee",
        "SELECT count(*) FROM balance_transactions b JOIN (SELECT balance_transaction_id AS id, "
        "sum(amount) AS total FROM balance_transaction_fee_details GROUP BY 1) d USING (id) "
        "WHERE d.total <> b.fee",
    ),
    (
        "charges refunded by more than their amount",
        "SELECT count(*) FROM charges WHERE amount_refunded > amount",
    ),
)


def post_load(
    conn: duckdb.DuckDBPyConnection, delivered: set[str], phases: dict[str, float] | None = None
) -> list[str]:
    """Build the derived tables the delivery lacks; return the warnings that say how.

    `phases`, when given, receives the seconds of the derive and rollups steps.
    """
    warnings: list[str] = []
    t0 = time.perf_counter()
    if "accounts" not in delivered:
        conn.execute(_DERIVE_ACCOUNTS)
        n = conn.execute("SELECT count(*) FROM accounts").fetchone()
        warnings.append(
            f"The delivery has no accounts table; {n[0] if n else 0} account(s) were derived from "
            "balance_transactions (currency: the most used; time zone: UTC; name: the account "
            "id). Add accounts.parquet or accounts.csv to report in local time."
        )
    missing = conn.execute(
        "SELECT DISTINCT merchant_id FROM balance_transactions WHERE merchant_id NOT IN "
        "(SELECT merchant_id FROM accounts) ORDER BY 1"
    ).fetchall()
    if missing:
        warnings.append(
            "Accounts with balance transactions but no accounts row (their questions are "
            "refused as unknown accounts): " + ", ".join(str(m[0]) for m in missing)
        )
    t1 = time.perf_counter()
    build_rollups(conn)  # the daily rollups over the delivered facts, stamped for them
    if phases is not None:
        phases["derive"] = round(t1 - t0, 3)
        phases["rollups"] = round(time.perf_counter() - t1, 3)
    return warnings


def broken_books(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Each invariant the loaded tables break, with the number of offending rows."""
    out = []
    for what, sql in INVARIANTS:
        row = conn.execute(sql).fetchone()
        if row and row[0]:
            out.append(f"{row[0]:,} {what}")
    return out


def content_checksum(conn: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of every DDL table's name, row count and order-independent sum of row hashes."""
    digest = hashlib.sha256()
    for table in sorted(expected_columns()):
        row = conn.execute(
            f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{table}" t'
        ).fetchone()
        digest.update(f"{table}:{row[0] if row else 0}:{row[1] if row else 0};".encode())
    return digest.hexdigest()
