"""Synthetic Stripe-shaped warehouse generator (orchestration).

The generator runs in three layers:

1. numpy: dimension rows and, per batch of customers, a vectorised simulation of signups,
   subscription lifecycles, invoices, invoice lines and payment attempts (`_gen_customers`,
   `_gen_lifecycle`), staged into temporary DuckDB tables through Arrow;
2. DuckDB SQL: everything derived from those facts (discounts, tax, totals, charges and fees,
   credit notes, refunds, disputes, balance transactions, payouts, Stripe Tax, revenue
   recognition), written with `INSERT ... SELECT` into the tables of `data/ddl`;
3. cleanup: temporary tables are dropped and the database is checkpointed.

Determinism: numpy randomness comes from `PCG64` seeded with (seed, batch); SQL randomness is
`hash(key, salt, seed)` of stable integer keys (never DuckDB's thread-dependent random
function); nothing reads the clock, every time derives from `end`; ids are a bijection of
integer keys. Same (scale, seed, end, months) therefore gives identical table contents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import numpy as np

from data import _gen_config as cfg
from data._gen_catalog import load_dimensions
from data._gen_customers import generate_customers
from data._gen_lifecycle import simulate
from data._gen_sql_balance import balance_rows, billing_fees, payouts, write_balance
from data._gen_sql_billing import (
    charge_work,
    credit_note_work,
    invoice_work,
    refund_dispute_work,
)
from data._gen_sql_core import (
    customers_work,
    price_work,
    write_coupons,
    write_customers,
    write_discounts,
    write_subscriptions,
)
from data._gen_sql_documents import write_invoices, write_payments
from data._gen_sql_ledgers import (
    schedule,
    schedule_with_credit_notes,
    write_revrec,
    write_tax_transactions,
)
from data._gen_util import Staging, sql_macros

GenConfig = cfg.GenConfig
StepCallback = Callable[[str, float], None]  # (label, fraction of the whole build just done)

# Temp tables that live for the whole build; every other temp table belongs to one batch.
GLOBAL_TABLES = frozenset({
    "stg_accounts", "stg_products", "stg_prices", "stg_coupons", "stg_tax_rules",
    "stg_locations", "w_price", "w_bt", "w_fee_volume",
})  # fmt: skip
_SHARE_CATALOG, _SHARE_BATCHES, _SHARE_FINISH = 0.01, 0.91, 0.08

_B = "BIGINT"
_EMPTY_STAGING = {
    "stg_events": ", ".join(f"{c} {_B}" for c in
                            ("item", "skey", "ts", "seq", "etype", "mrr", "dq", "price")),
    "stg_invoices": "inv BIGINT, skey BIGINT, ckey BIGINT, kind BIGINT, reason BIGINT, "
    "date BIGINT, fin BIGINT, inv_ps BIGINT, disc BOOLEAN, send BOOLEAN, n_fail BIGINT, "
    "paid_at BIGINT, final_at BIGINT, void BOOLEAN, due BIGINT, jit BIGINT",
    "stg_lines": "line BIGINT, inv BIGINT, item BIGINT, kind BIGINT, price BIGINT, qty BIGINT, "
    "amount BIGINT, ps BIGINT, pe BIGINT, proration BOOLEAN",
    "stg_attempts": "charge BIGINT, inv BIGINT, attempt BIGINT, ts BIGINT, ok BOOLEAN",
}  # fmt: skip


def make_config(
    scale: str | int, seed: int, end: dt.date, months: int = cfg.DEFAULT_MONTHS
) -> GenConfig:
    """Build a GenConfig from a CLI-style scale ('demo', 'small', 'large' or a number)."""
    name, customers = cfg.parse_scale(scale)
    if months < 2:
        raise ValueError("months must be at least 2")
    return GenConfig(customers=customers, seed=int(seed), end=end, months=months, scale_name=name)


def account_of_customers(n: int) -> np.ndarray:
    """Deterministic account index of customers 0..n-1 (contiguous blocks by account weight)."""
    weights = np.asarray([a.weight for a in cfg.ACCOUNTS])
    counts = np.maximum(1, np.floor(weights * n).astype(np.int64))
    counts[0] += n - counts.sum()
    return np.repeat(np.arange(len(cfg.ACCOUNTS)), counts)


def _stage_batch(
    conn: duckdb.DuckDBPyConnection, config: GenConfig, acct: np.ndarray, batch: int, lo: int
) -> None:
    """Simulate customers [lo, lo + CHUNK) and stage them as temp tables."""
    hi = min(lo + cfg.CHUNK_CUSTOMERS, config.customers)
    rng = np.random.Generator(np.random.PCG64([config.seed, batch]))
    cust = generate_customers(rng, acct[lo:hi], config.start, config.cutoff, lo)
    res = simulate(rng, cust, config.cutoff, batch)
    st = Staging(conn)
    cur = np.asarray([cfg.COUNTRY_CURRENCY.get(c, "usd") for c in cfg.COUNTRY_NAMES])
    country_idx = {c: i for i, c in enumerate(cfg.COUNTRY_NAMES)}
    cidx = np.fromiter((country_idx[c] for c in cust["country"]), np.int64, len(cust["country"]))
    st.append("stg_customers", cust | {"cur": cur[cidx]})
    st.append("stg_subs", res.subs)
    st.append("stg_items", res.items)
    for name, cols in (("stg_events", res.events), ("stg_invoices", res.invoices),
                       ("stg_lines", res.lines), ("stg_attempts", res.attempts)):  # fmt: skip
        if cols:
            st.append(name, cols)
        else:  # tiny scales can have no row of a kind at all
            conn.execute(f"CREATE TEMP TABLE {name} ({_EMPTY_STAGING[name]})")


def _derive_batch(conn: duckdb.DuckDBPyConnection, config: GenConfig) -> None:
    """Run every per-customer SQL step on the staged batch and write the Sigma tables."""
    T = config.cutoff
    customers_work(conn)
    write_discounts(conn)
    invoice_work(conn, T)
    charge_work(conn)
    schedule(conn)
    credit_note_work(conn, T)
    refund_dispute_work(conn, T)
    schedule_with_credit_notes(conn)
    write_customers(conn, T)
    write_subscriptions(conn, T)
    write_invoices(conn, T)
    write_payments(conn, T)
    balance_rows(conn)
    write_tax_transactions(conn)
    write_revrec(conn, config.end)


def _drop_temp(conn: duckdb.DuckDBPyConnection, keep: frozenset[str]) -> None:
    names = conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name"
    ).fetchall()
    for (name,) in names:
        if name not in keep:
            conn.execute(f'DROP TABLE "{name}"')


def generate(
    conn: duckdb.DuckDBPyConnection, config: GenConfig, on_step: StepCallback | None = None
) -> None:
    """Fill the (already created) warehouse schema on `conn` with synthetic data."""

    def step(label: str, share: float) -> None:
        if on_step is not None:
            on_step(label, share)

    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET preserve_insertion_order = false")
    conn.execute("SET enable_progress_bar = false")
    conn.execute(sql_macros(config.seed))
    load_dimensions(conn, Staging(conn), config)
    price_work(conn)
    step("catalog", _SHARE_CATALOG)

    acct = account_of_customers(config.customers)
    starts = list(range(0, config.customers, cfg.CHUNK_CUSTOMERS))
    for batch, lo in enumerate(starts):
        _stage_batch(conn, config, acct, batch, lo)
        _derive_batch(conn, config)
        _drop_temp(conn, GLOBAL_TABLES)
        step(f"customers batch {batch + 1}/{len(starts)}", _SHARE_BATCHES / len(starts))

    write_coupons(conn)
    billing_fees(conn, config.cutoff)
    payouts(conn, config.start, config.cutoff)
    write_balance(conn, config.cutoff)
    _drop_temp(conn, frozenset())
    conn.execute("CHECKPOINT")
    step("payouts & finish", _SHARE_FINISH)
