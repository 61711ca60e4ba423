"""Materialize the semantic model's rollups into a warehouse, stamped with its fingerprint.

`build_rollups(conn)` (re)creates every rollup table and its rows in `rollup_builds` in one
transaction, after the facts are written: the warehouse build calls it, and so must any writer of
facts (an importer) once its rows are in, best inside the transaction that wrote them
(`own_transaction=False`). A reader uses a rollup only while the fingerprint it
recomputes (the rollup's definition and the account's source row counts) matches the stamp.
"""

from __future__ import annotations

import time

import duckdb
from pydantic import BaseModel, Field

from app.semantic.load import semantic_model
from app.semantic.model import SemanticModel
from app.semantic.rollups import BUILDS_TABLE, is_rollup_table
from app.sql.compile.rollups import build_select, fingerprint, source_tables

BUILDS_DDL = (
    f"CREATE TABLE {BUILDS_TABLE} (merchant_id VARCHAR NOT NULL, rollup VARCHAR NOT NULL, "
    "fingerprint VARCHAR NOT NULL, rows BIGINT NOT NULL, PRIMARY KEY (merchant_id, rollup))"
)


class RollupStats(BaseModel):
    """What build_rollups wrote: rows per rollup table, and how long it took."""

    rows: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


def _counts(conn: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, dict[str, int]]:
    """Rows per account of each table: {account: {table: rows}}."""
    out: dict[str, dict[str, int]] = {}
    for t in tables:
        for account, n in conn.execute(
            f'SELECT merchant_id, count(*) FROM "{t}" GROUP BY ALL'
        ).fetchall():
            out.setdefault(str(account), {})[t] = int(n)
    return out


def build_rollups(
    conn: duckdb.DuckDBPyConnection,
    model: SemanticModel | None = None,
    *,
    own_transaction: bool = True,
) -> RollupStats:
    """(Re)build every rollup and its fingerprint rows atomically in the open warehouse.

    With `own_transaction=False` the caller's open transaction holds the work, so an importer can
    commit its facts and the rollups over them together (and roll both back together).
    """
    model = model or semantic_model()
    t0 = time.perf_counter()
    stats = RollupStats()
    if own_transaction:
        conn.execute("BEGIN TRANSACTION")
    try:
        stale = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
            if is_rollup_table(str(r[0]))
        ]
        for name in stale:
            conn.execute(f'DROP TABLE "{name}"')
        conn.execute(BUILDS_DDL)
        accounts = [str(r[0]) for r in conn.execute("SELECT id FROM accounts").fetchall()]
        sources = sorted({t for r in model.rollups.values() for t in source_tables(model, r)})
        counts = _counts(conn, sources)
        for r in model.rollups.values():
            select = build_select(model, r).sql(dialect="duckdb")
            conn.execute(f'CREATE TABLE "{r.table}" AS {select}')
            per_account = dict(
                conn.execute(
                    f'SELECT merchant_id, count(*) FROM "{r.table}" GROUP BY ALL'
                ).fetchall()
            )
            for account in accounts:
                stamp = fingerprint(model, r, counts.get(account, {}))
                conn.execute(
                    f"INSERT INTO {BUILDS_TABLE} VALUES (?, ?, ?, ?)",
                    [account, r.name, stamp, int(per_account.get(account, 0))],
                )
            stats.rows[r.table] = sum(int(v) for v in per_account.values())
        if own_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if own_transaction:
            conn.execute("ROLLBACK")
        raise
    stats.seconds = round(time.perf_counter() - t0, 3)
    return stats
