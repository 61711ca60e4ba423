"""Shared helpers for the warehouse tests: tiny builds, checksums, book invariants as SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from data.build import build_warehouse

TINY_CUSTOMERS = 240
TINY_MONTHS = 15
TINY_END = dt.date(2025, 6, 30)


def build_tiny(path: Path, seed: int, customers: int = TINY_CUSTOMERS,
               months: int = TINY_MONTHS, end: dt.date = TINY_END) -> Path:  # fmt: skip
    """Build a small warehouse for tests and return its path."""
    build_warehouse(str(customers), seed, end, path, progress=False, months=months)
    return path


def cutoff_literal(end: dt.date) -> str:
    """SQL literal of end + 1 day 00:00 (the first instant that must not appear in facts)."""
    return f"TIMESTAMP '{(end + dt.timedelta(days=1)).isoformat()}'"


def table_checksums(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Order-independent (row count, sum of row hashes) per base table."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for n in names:
        cnt, h = conn.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{n}" t').fetchone()
        out[n] = (int(cnt), int(h))
    return out


# Columns that hold scheduled / forward-looking dates and may legitimately lie after the end.
FORWARD_LOOKING = {
    ("balance_transactions", "available_on"),
    ("subscriptions", "current_period_end"),
    ("subscriptions", "billing_cycle_anchor"),  # trialing subscriptions bill from trial end
    ("subscriptions", "cancel_at"),
    ("subscriptions", "trial_end"),
    ("subscriptions", "discount_end"),
    ("invoices", "due_date"),
    ("invoices", "next_payment_attempt"),
    ("invoices", "discount_end"),
    ("invoice_line_items", "period_end"),
    ("disputes", "evidence_details_due_by"),
    ("revenue_recognition_debits_and_credits", "accounting_period_date"),
    ("revenue_recognition_debits_and_credits", "original_accounting_period_date"),
    ("coupons", "redeem_by"),
    # naive account-local time, checked against event_timestamp by an invariant instead
    ("subscription_item_change_events", "local_event_timestamp"),
}

# Each query returns the rows that violate the invariant; an empty result means it holds.
INVARIANTS: dict[str, str] = {
    "invoice_total_is_subtotal_minus_discounts_plus_tax": """
        SELECT i.id, i.total, i.subtotal, d.disc, i.tax
        FROM invoices i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS disc
                   FROM invoice_line_item_discount_amounts GROUP BY 1) d ON d.invoice_id = i.id
        WHERE i.total <> i.subtotal - coalesce(d.disc, 0) + i.tax""",
    "invoice_subtotal_is_sum_of_lines": """
        SELECT i.id FROM invoices i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS s FROM invoice_line_items GROUP BY 1) l
               ON l.invoice_id = i.id
        WHERE i.subtotal <> coalesce(l.s, 0)""",
    "invoice_tax_is_sum_of_tax_amounts": """
        SELECT i.id FROM invoices i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS s FROM invoice_line_item_tax_amounts
                   GROUP BY 1) t ON t.invoice_id = i.id
        WHERE i.tax <> coalesce(t.s, 0)""",
    "invoice_amounts_match_status": """
        SELECT id, status FROM invoices
        WHERE amount_due <> total - pre_payment_credit_notes_amount
           OR (status = 'paid' AND (amount_paid <> amount_due OR amount_remaining <> 0
                                    OR status_transitions_paid_at IS NULL))
           OR (status IN ('open', 'uncollectible', 'draft')
               AND (amount_paid <> 0 OR amount_remaining <> amount_due))
           OR (status = 'draft' AND (number IS NOT NULL OR status_transitions_finalized_at
                                     IS NOT NULL))
           OR (status <> 'draft' AND status_transitions_finalized_at IS NULL)
           OR (status = 'void' AND status_transitions_voided_at IS NULL)
           OR (status = 'uncollectible' AND status_transitions_marked_uncollectible_at IS NULL)
           OR (collection_method = 'send_invoice' AND status <> 'draft' AND due_date IS NULL)""",
    "paid_invoices_have_a_succeeded_charge_for_the_total": """
        SELECT i.id FROM invoices i
        WHERE i.status = 'paid' AND NOT EXISTS (
            SELECT 1 FROM charges c WHERE c.invoice_id = i.id AND c.status = 'succeeded'
              AND c.paid AND c.captured AND c.amount = i.total AND c.currency = i.currency
              AND c.merchant_id = i.merchant_id)""",
    "unpaid_invoices_have_no_succeeded_charge": """
        SELECT c.id FROM charges c JOIN invoices i ON i.id = c.invoice_id
        WHERE c.status = 'succeeded' AND i.status <> 'paid'""",
    "refunds_do_not_exceed_their_charge": """
        SELECT c.id, c.amount, r.total_refunded, c.amount_refunded, r.succeeded
        FROM charges c
        JOIN (SELECT charge_id, sum(amount) FILTER (WHERE status <> 'failed') AS total_refunded,
                     coalesce(sum(amount) FILTER (WHERE status = 'succeeded'), 0) AS succeeded
              FROM refunds GROUP BY 1) r ON r.charge_id = c.id
        WHERE r.total_refunded > c.amount OR c.amount_refunded <> r.succeeded
           OR c.status <> 'succeeded' OR c.refunded <> (c.amount_refunded = c.amount)""",
    "charges_without_refunds_have_zero_refunded": """
        SELECT id FROM charges c
        WHERE amount_refunded <> 0 AND NOT EXISTS (SELECT 1 FROM refunds r
                                                   WHERE r.charge_id = c.id)""",
    "balance_transaction_net_is_amount_minus_fee": """
        SELECT id FROM balance_transactions WHERE net <> amount - fee""",
    "fee_details_sum_to_fee": """
        SELECT b.id, b.fee, f.s FROM balance_transactions b
        LEFT JOIN (SELECT balance_transaction_id, sum(amount) AS s
                   FROM balance_transaction_fee_details GROUP BY 1) f
               ON f.balance_transaction_id = b.id
        WHERE b.fee <> coalesce(f.s, 0)""",
    "fee_details_point_to_existing_balance_transactions": """
        SELECT f.id FROM balance_transaction_fee_details f
        LEFT JOIN balance_transactions b ON b.id = f.balance_transaction_id
        WHERE b.id IS NULL OR b.merchant_id <> f.merchant_id OR b.currency <> f.currency""",
    "charge_balance_transactions_match_charges": """
        SELECT c.id FROM charges c
        LEFT JOIN balance_transactions b ON b.id = c.balance_transaction_id
        WHERE (c.status = 'succeeded') <> (b.id IS NOT NULL)
           OR (b.id IS NOT NULL AND (b.amount <> c.amount OR b.source_id <> c.id
                                     OR b.currency <> c.currency OR b.type <> 'charge'))""",
    "each_payout_is_the_sum_of_the_transactions_it_pays_out": """
        SELECT t.id, t.amount, b.s FROM transfers t
        LEFT JOIN (SELECT automatic_transfer_id, sum(net) AS s, count(DISTINCT currency) AS nc
                   FROM balance_transactions WHERE type <> 'payout' GROUP BY 1) b
               ON b.automatic_transfer_id = t.id
        LEFT JOIN balance_transactions pb ON pb.id = t.balance_transaction_id
        WHERE t.amount <= 0 OR t.amount <> coalesce(b.s, 0) OR b.nc <> 1
           OR pb.amount <> -t.amount OR pb.type <> 'payout' OR pb.automatic_transfer_id <> t.id
           OR pb.currency <> t.currency""",
    "paid_out_transactions_were_available_before_the_payout": """
        SELECT b.id FROM balance_transactions b JOIN transfers t ON t.id = b.automatic_transfer_id
        WHERE b.type <> 'payout' AND (b.available_on > t.created OR b.created > t.created
                                      OR b.currency <> t.currency)""",
    "mrr_running_sum_matches_the_item_amount_after_every_event": """
        WITH e AS (
            SELECT e.*, p.unit_amount, p.recurring_interval, p.recurring_usage_type,
                sum(e.mrr_change) OVER w AS run_mrr, sum(e.quantity_change) OVER w AS run_qty
            FROM subscription_item_change_events e JOIN prices p ON p.id = e.price_id
            WINDOW w AS (PARTITION BY e.subscription_item_id ORDER BY e.event_timestamp,
                         CASE WHEN e.event_type = 'ACTIVE_START' THEN 0
                              WHEN e.event_type IN ('ACTIVE_UPGRADE', 'ACTIVE_DOWNGRADE') THEN 1
                              WHEN e.event_type LIKE 'ACTIVE_QUANTITY%' THEN 2 ELSE 3 END
                         ROWS UNBOUNDED PRECEDING)
        )
        SELECT subscription_item_id, event_type, run_mrr, run_qty FROM e
        WHERE run_mrr <> CASE WHEN event_type = 'ACTIVE_END' THEN 0
                              WHEN recurring_interval = 'year' THEN unit_amount // 12 * run_qty
                              ELSE unit_amount * run_qty END
           OR (event_type = 'ACTIVE_END' AND run_qty <> 0)
           OR run_qty < 0 OR unit_amount <= 0 OR recurring_usage_type <> 'licensed'
           OR (recurring_interval = 'year' AND unit_amount % 12 <> 0)""",
    "mrr_ledger_total_matches_items_at_the_end": """
        SELECT si.id, coalesce(e.s, 0) AS ledger, expected FROM (
            SELECT si.*, CASE WHEN s.status IN ('active', 'past_due')
                              AND p.recurring_usage_type = 'licensed' AND p.unit_amount > 0
                         THEN (CASE WHEN p.recurring_interval = 'year' THEN p.unit_amount // 12
                                    ELSE p.unit_amount END) * si.quantity ELSE 0 END AS expected
            FROM subscription_items si JOIN subscriptions s ON s.id = si.subscription_id
            JOIN prices p ON p.id = si.price_id) si
        LEFT JOIN (SELECT subscription_item_id, sum(mrr_change) AS s
                   FROM subscription_item_change_events GROUP BY 1) e
               ON e.subscription_item_id = si.id
        WHERE coalesce(e.s, 0) <> expected""",
    "mrr_events_local_time_matches_account_time_zone": """
        SELECT e.subscription_item_id FROM subscription_item_change_events e
        JOIN accounts a ON a.id = e.merchant_id
        WHERE e.local_event_timestamp <> timezone(a.settings_dashboard_timezone,
                                                  timezone('UTC', e.event_timestamp))""",
    "recognized_plus_deferred_equals_net_less_credit_notes_at_every_month_end": """
        WITH rr AS (SELECT * FROM revenue_recognition_debits_and_credits
                    WHERE line_item_id IS NOT NULL),
        lines AS (
            SELECT line_item_id, sum(amount) AS n, min(accounting_period_date) AS m0
            FROM rr WHERE event_type = 'invoice_line_item_finalized' GROUP BY 1
        ), last AS (SELECT max(accounting_period_date) AS m1 FROM rr),
        grid AS (
            SELECT line_item_id, n, unnest(generate_series(m0, m1, INTERVAL 1 MONTH)) AS m
            FROM lines, last
        ), deltas AS (
            SELECT line_item_id, accounting_period_date AS m,
                sum(CASE WHEN credit = 'Revenue' THEN amount ELSE 0 END)
                - sum(CASE WHEN debit = 'Revenue' THEN amount ELSE 0 END) AS d_rec,
                sum(CASE WHEN credit = 'DeferredRevenue' THEN amount ELSE 0 END)
                - sum(CASE WHEN debit = 'DeferredRevenue' THEN amount ELSE 0 END) AS d_def,
                sum(CASE WHEN debit = 'CreditNotes' THEN amount ELSE 0 END) AS d_cn
            FROM rr GROUP BY 1, 2
        ), cum AS (
            SELECT g.line_item_id, g.m, g.n,
                sum(coalesce(d.d_rec, 0)) OVER w AS rec, sum(coalesce(d.d_def, 0)) OVER w AS def,
                sum(coalesce(d.d_cn, 0)) OVER w AS cn
            FROM grid g LEFT JOIN deltas d USING (line_item_id, m)
            WINDOW w AS (PARTITION BY g.line_item_id ORDER BY g.m ROWS UNBOUNDED PRECEDING)
        )
        SELECT * FROM cum WHERE rec + def <> n - cn OR def < 0 OR rec < 0""",
    "recognized_over_the_service_period_is_net_less_credit_notes": """
        WITH rr AS (SELECT * FROM revenue_recognition_debits_and_credits
                    WHERE line_item_id IS NOT NULL)
        SELECT l.id, l.amount, n.n, r.rec, c.cn FROM invoice_line_items l
        JOIN (SELECT invoice_id, line_item_id, sum(amount) AS n FROM rr
              WHERE event_type = 'invoice_line_item_finalized' GROUP BY 1, 2) n
             ON n.line_item_id = l.id
        LEFT JOIN (SELECT line_item_id, sum(amount) AS rec, min(accounting_period_date) AS first_m,
                          max(accounting_period_date) AS last_m
                   FROM rr WHERE credit = 'Revenue' GROUP BY 1) r ON r.line_item_id = l.id
        LEFT JOIN (SELECT line_item_id, sum(amount) AS cn FROM rr WHERE debit = 'CreditNotes'
                   GROUP BY 1) c ON c.line_item_id = l.id
        LEFT JOIN (SELECT invoice_line_item_id, sum(amount) AS d
                   FROM invoice_line_item_discount_amounts GROUP BY 1) d
               ON d.invoice_line_item_id = l.id
        JOIN invoices i ON i.id = l.invoice_id
        JOIN accounts a ON a.id = l.merchant_id
        WHERE n.n <> l.amount - coalesce(d.d, 0)
           OR coalesce(r.rec, 0) + coalesce(c.cn, 0) <> n.n
           OR r.first_m < date_trunc('month', timezone(a.settings_dashboard_timezone,
                                                       timezone('UTC', i.date)))
           OR r.last_m > greatest(date_trunc('month', timezone(a.settings_dashboard_timezone,
                                                  timezone('UTC', l.period_end))),
                                  date_trunc('month', timezone(a.settings_dashboard_timezone,
                                                  timezone('UTC', i.date))))""",
    "only_finalized_non_void_invoices_are_booked": """
        SELECT DISTINCT r.invoice_id FROM revenue_recognition_debits_and_credits r
        JOIN invoices i ON i.id = r.invoice_id
        WHERE i.status IN ('draft', 'void')""",
    "payment_rows_equal_invoice_net": """
        SELECT i.id FROM invoices i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS s FROM revenue_recognition_debits_and_credits
                   WHERE event_type = 'invoice_paid' GROUP BY 1) p ON p.invoice_id = i.id
        LEFT JOIN (SELECT invoice_id, sum(amount) AS d FROM invoice_line_item_discount_amounts
                   GROUP BY 1) d ON d.invoice_id = i.id
        WHERE (i.status = 'paid') <> (p.s IS NOT NULL)
           OR (i.status = 'paid' AND p.s <> i.subtotal - coalesce(d.d, 0))""",
    "revrec_account_types_are_consistent": """
        SELECT id FROM revenue_recognition_debits_and_credits
        WHERE amount <> presentment_amount OR currency <> presentment_currency
           OR amount <> round(amount) OR amount < 0
           OR debit_account_type <> CASE debit WHEN 'AccountsReceivable' THEN 'Assets'
                WHEN 'Cash' THEN 'Assets' WHEN 'DeferredRevenue' THEN 'Liabilities'
                WHEN 'Revenue' THEN 'Revenue' ELSE 'ContraRevenue' END
           OR credit_account_type <> CASE credit WHEN 'AccountsReceivable' THEN 'Assets'
                WHEN 'Cash' THEN 'Assets' WHEN 'DeferredRevenue' THEN 'Liabilities'
                WHEN 'Revenue' THEN 'Revenue' ELSE 'ContraRevenue' END
           OR accounting_period_date <> date_trunc('month', accounting_period_date)""",
    "tax_amount_is_taxable_times_rate_within_half_a_minor_unit": """
        SELECT t.id, t.amount, t.taxable_amount, r.percentage FROM invoice_line_item_tax_amounts t
        JOIN tax_rates r ON r.id = t.tax_rate
        WHERE abs(t.amount - t.taxable_amount * r.percentage / 100.0) > 0.5 + 1e-9
           OR r.merchant_id <> t.merchant_id""",
    "tax_jurisdiction_rows_add_up_to_line_tax": """
        SELECT li.id FROM tax_transaction_line_items li
        LEFT JOIN (SELECT j.tax_transaction_item_id, sum(j.amount_tax) AS s,
                          bool_and(abs(j.amount_tax - j.amount_taxable * j.tax_rate_percentage
                                       / 100.0) <= 0.5 + 1e-9) AS ok,
                          bool_and(j.amount_taxable + j.amount_non_taxable = li2.amount) AS parts
                   FROM tax_transaction_jurisdiction_details j
                   JOIN tax_transaction_line_items li2 ON li2.id = j.tax_transaction_item_id
                   GROUP BY 1) j ON j.tax_transaction_item_id = li.id
        WHERE j.s IS NULL OR li.amount_tax <> j.s OR NOT j.ok OR NOT j.parts""",
    "tax_transactions_match_invoices": """
        SELECT i.id FROM invoices i
        LEFT JOIN tax_transactions t ON t.source_id = i.id AND t.type = 'transaction'
        LEFT JOIN (SELECT tax_transaction_id, sum(amount) AS amt, sum(amount_tax) AS tax
                   FROM tax_transaction_line_items GROUP BY 1) l ON l.tax_transaction_id = t.id
        LEFT JOIN (SELECT invoice_id, sum(amount) AS d FROM invoice_line_item_discount_amounts
                   GROUP BY 1) d ON d.invoice_id = i.id
        WHERE (i.status = 'draft') <> (t.id IS NULL)
           OR (t.id IS NOT NULL AND (l.tax <> i.tax OR l.amt <> i.subtotal - coalesce(d.d, 0)))""",
    "tax_reversals_are_negative_and_point_to_originals": """
        SELECT t.id FROM tax_transactions t
        LEFT JOIN tax_transactions o ON o.id = t.reversal_original_tax_transaction_id
        LEFT JOIN (SELECT tax_transaction_id, max(amount) AS a, max(amount_tax) AS x
                   FROM tax_transaction_line_items GROUP BY 1) l ON l.tax_transaction_id = t.id
        WHERE t.type = 'reversal' AND (o.id IS NULL OR o.type <> 'transaction' OR l.a > 0
                                       OR l.x > 0)""",
    "credit_notes_are_consistent": """
        SELECT cn.id FROM credit_notes cn
        JOIN invoices i ON i.id = cn.invoice_id
        JOIN (SELECT credit_note_id, sum(amount) AS s, any_value(invoice_line_item) AS li
              FROM credit_note_line_items GROUP BY 1) l ON l.credit_note_id = cn.id
        LEFT JOIN invoice_line_items il ON il.id = l.li
        LEFT JOIN refunds r ON r.id = cn.refund_id
        WHERE cn.amount < l.s OR il.invoice_id <> cn.invoice_id
           OR (cn.type = 'post_payment' AND (i.status <> 'paid' OR r.amount <> cn.amount
                                             OR i.post_payment_credit_notes_amount <> cn.amount))
           OR (cn.type = 'pre_payment' AND (i.status NOT IN ('open', 'uncollectible')
                                            OR i.pre_payment_credit_notes_amount <> cn.amount))""",
    "disputes_match_charges_and_balance": """
        SELECT d.id FROM disputes d JOIN charges c ON c.id = d.charge_id
        LEFT JOIN (SELECT source_id, count(*) FILTER (WHERE reporting_category = 'dispute') AS n,
                          count(*) FILTER (WHERE reporting_category = 'dispute_reversal') AS nr
                   FROM balance_transactions GROUP BY 1) b ON b.source_id = d.id
        WHERE c.dispute_id <> d.id OR d.amount > c.amount OR c.payment_method_type <> 'card'
           OR (d.status LIKE 'warning%' AND coalesce(b.n, 0) + coalesce(b.nr, 0) > 0)
           OR (d.status NOT LIKE 'warning%' AND coalesce(b.n, 0) <> 1)
           OR ((d.status = 'won') <> (coalesce(b.nr, 0) = 1))""",
    "accounts_have_distinct_currencies_and_time_zones": """
        SELECT count(*) FROM accounts
        HAVING count(DISTINCT default_currency) <> count(*)
            OR count(DISTINCT settings_dashboard_timezone) <> count(*)
            OR count(*) FILTER (WHERE id <> merchant_id) > 0""",
}


def fact_reference_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per table: rows whose merchant is unknown or whose customer is not the merchant's."""
    customer_cols = {
        "subscriptions": "customer_id", "invoices": "customer_id", "charges": "customer_id",
        "credit_notes": "customer_id", "discounts": "customer_id",
        "customer_tax_ids": "customer", "subscription_item_change_events": "customer_id",
        "tax_transactions": "customer_id",
        "revenue_recognition_debits_and_credits": "customer_id",
    }  # fmt: skip
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for t in tables:
        q = f'SELECT merchant_id FROM "{t}" x WHERE merchant_id NOT IN (SELECT id FROM accounts)'
        if t in customer_cols:
            col = customer_cols[t]
            q += (
                f" OR NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = x.{col} "
                f"AND c.merchant_id = x.merchant_id)"
            )
        out[t] = q
    return out


FOREIGN_KEYS = {
    # (child table, column) -> parent table (id); same merchant required
    ("invoice_line_items", "invoice_id"): "invoices",
    ("invoice_line_items", "price_id"): "prices",
    ("invoice_line_items", "subscription_item_id"): "subscription_items",
    ("invoices", "subscription_id"): "subscriptions",
    ("invoices", "charge_id"): "charges",
    ("charges", "invoice_id"): "invoices",
    ("refunds", "charge_id"): "charges",
    ("disputes", "charge_id"): "charges",
    ("subscription_items", "subscription_id"): "subscriptions",
    ("subscription_items", "price_id"): "prices",
    ("subscription_item_change_events", "subscription_item_id"): "subscription_items",
    ("subscription_item_change_events", "price_id"): "prices",
    ("prices", "product_id"): "products",
    ("discounts", "coupon_id"): "coupons",
    ("discounts", "subscription_id"): "subscriptions",
    ("credit_notes", "invoice_id"): "invoices",
    ("credit_note_line_items", "credit_note_id"): "credit_notes",
    ("credit_note_line_items", "invoice_line_item"): "invoice_line_items",
    ("invoice_line_item_tax_amounts", "tax_rate"): "tax_rates",
    ("invoice_line_item_tax_amounts", "invoice_line_item_id"): "invoice_line_items",
    ("invoice_line_item_discount_amounts", "invoice_line_item_id"): "invoice_line_items",
    ("invoice_line_item_discount_amounts", "discount"): "discounts",
    ("balance_transactions", "automatic_transfer_id"): "transfers",
    ("balance_transaction_fee_details", "balance_transaction_id"): "balance_transactions",
    ("tax_transactions", "source_id"): None,  # polymorphic, checked by type below
    ("tax_transaction_line_items", "tax_transaction_id"): "tax_transactions",
    ("tax_transaction_line_items", "source_line_item_id"): "invoice_line_items",
    ("tax_transaction_jurisdiction_details", "tax_transaction_item_id"):
        "tax_transaction_line_items",
    ("revenue_recognition_debits_and_credits", "line_item_id"): "invoice_line_items",
    ("revenue_recognition_debits_and_credits", "invoice_id"): "invoices",
    ("revenue_recognition_debits_and_credits", "refund_id"): "refunds",
    ("revenue_recognition_debits_and_credits", "credit_note_id"): "credit_notes",
    ("revenue_recognition_debits_and_credits", "dispute_id"): "disputes",
    ("revenue_recognition_debits_and_credits", "charge_id"): "charges",
    ("subscriptions", "latest_invoice_id"): "invoices",
    ("transfers", "balance_transaction_id"): "balance_transactions",
    ("refunds", "balance_transaction_id"): "balance_transactions",
    ("charges", "balance_transaction_id"): "balance_transactions",
    ("charges", "dispute_id"): "disputes",
    ("credit_notes", "refund_id"): "refunds",
}  # fmt: skip


def foreign_key_queries() -> dict[str, str]:
    """Per (child, column): rows pointing to a missing parent or one of another merchant."""
    out = {}
    for (child, col), parent in FOREIGN_KEYS.items():
        if parent is None:
            continue
        out[f"{child}.{col}"] = (
            f'SELECT x."{col}" FROM "{child}" x LEFT JOIN "{parent}" p ON p.id = x."{col}" '
            f'WHERE x."{col}" IS NOT NULL AND (p.id IS NULL OR p.merchant_id <> x.merchant_id)'
        )
    return out


def unique_id_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per table with an `id` column: ids that occur more than once (ids are global keys)."""
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM duckdb_columns() WHERE column_name = 'id' AND NOT internal "
        "AND table_name <> 'payouts' ORDER BY 1").fetchall()]  # fmt: skip
    return {
        t: f'SELECT id, count(*) FROM "{t}" GROUP BY id HAVING count(*) > 1 OR id IS NULL'
        for t in tables
    }


def future_timestamp_queries(conn: duckdb.DuckDBPyConnection, end: dt.date) -> dict[str, str]:
    """Per timestamp column (minus scheduled-date columns): rows at or after end + 1 day."""
    cols = conn.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND data_type IN ('TIMESTAMP', 'BIGINT') ORDER BY 1, 2"
    ).fetchall()
    cutoff = cutoff_literal(end)
    out = {}
    for t, c, typ in cols:
        if (t, c) in FORWARD_LOOKING or t == "payouts":
            continue
        if typ == "TIMESTAMP":
            out[f"{t}.{c}"] = f'SELECT "{c}" FROM "{t}" WHERE "{c}" >= {cutoff}'
    out["subscription_items.created"] = (
        f"SELECT created FROM subscription_items WHERE created >= epoch({cutoff})"
    )
    return out
