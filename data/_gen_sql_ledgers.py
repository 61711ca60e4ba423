"""SQL step 5: revenue-recognition schedule and journal, and Stripe Tax transactions.

Recognition (account-local calendar months): each finalized, non-void line's net amount N (after
discounts, before tax) is booked AR -> DeferredRevenue in the invoice month, then recognised
DeferredRevenue -> Revenue month by month in proportion to the service days in each month
(integer floors, remainder in the last month). Months before the invoice month are caught up in
the invoice month. A credit note of net C issued in month m re-spreads the not-yet-recognised
part over months >= m on the reduced base, and writes CreditNotes -> AR/Cash plus
DeferredRevenue -> CreditNotes for C, so DeferredRevenue stays exact.
"""

from __future__ import annotations

import datetime as dt

import duckdb

ACCOUNT_TYPES = {
    "AccountsReceivable": "Assets", "Cash": "Assets", "DeferredRevenue": "Liabilities",
    "Revenue": "Revenue", "Refunds": "ContraRevenue", "CreditNotes": "ContraRevenue",
    "Disputes": "ContraRevenue", "BadDebt": "ContraRevenue",
}  # fmt: skip
RR_KEY = 10_000_000_000_000  # key = kind * RR_KEY + source key * 64 + month (< 2**48)


def schedule(conn: duckdb.DuckDBPyConnection) -> None:
    """Build w_rl (recognisable lines) and w_sched (base monthly recognition shares)."""
    conn.execute("""
    CREATE TEMP TABLE w_rl AS
    SELECT l.line, l.inv, l.net AS n, i.tz, local_month(i.tz, i.date) AS book_m,
        CAST(local_ts(i.tz, l.ps) AS DATE) AS ds, CAST(local_ts(i.tz, l.pe) AS DATE) AS de
    FROM w_lines l JOIN w_inv i USING (inv)
    WHERE i.status IN ('open', 'paid', 'uncollectible')""")
    conn.execute("""
    CREATE TEMP TABLE w_sched AS
    WITH ex AS (
        SELECT line, n, book_m, ds, de,
            unnest(CASE WHEN de <= ds THEN [book_m]
                        ELSE generate_series(date_trunc('month', ds)::TIMESTAMP,
                                             date_trunc('month', de - 1)::TIMESTAMP,
                                             INTERVAL 1 MONTH) END) AS m
        FROM w_rl
    ), w AS (
        SELECT line, n, greatest(m, book_m) AS em,
            sum(CASE WHEN de <= ds THEN 1
                     ELSE date_diff('day', greatest(ds, m::DATE),
                                    least(de, (m + INTERVAL 1 MONTH)::DATE)) END) AS w
        FROM ex GROUP BY line, n, greatest(m, book_m)
    ), r AS (
        SELECT *, (n * w) // sum(w) OVER (PARTITION BY line) AS floor_share,
            row_number() OVER (PARTITION BY line ORDER BY em DESC) AS rn_desc,
            row_number() OVER (PARTITION BY line ORDER BY em) AS mi
        FROM w
    )
    SELECT line, em, w, mi,
        CASE WHEN rn_desc = 1 THEN n - (sum(floor_share) OVER (PARTITION BY line) - floor_share)
             ELSE floor_share END AS share
    FROM r""")


def schedule_with_credit_notes(conn: duckdb.DuckDBPyConnection) -> None:
    """Build w_recog: final recognition shares after re-spreading credited lines."""
    conn.execute("""
    CREATE TEMP TABLE w_recog AS
    SELECT s.line, s.em, s.mi, s.share FROM w_sched s ANTI JOIN w_cn c USING (line)
    UNION ALL
    SELECT line, em, mi,
        CASE WHEN em < cn_m THEN share
             WHEN em = last_em THEN base2 - (sum(a0) OVER (PARTITION BY line) - a0)
             ELSE a0 END
    FROM (
        SELECT *, CASE WHEN em >= cn_m THEN (base2 * w) // w_rem ELSE 0 END AS a0
        FROM (
            SELECT s.*, c.cn_m, r.n - c.credited
                       - sum(CASE WHEN s.em < c.cn_m THEN s.share ELSE 0 END)
                             OVER (PARTITION BY s.line) AS base2,
                   sum(CASE WHEN s.em >= c.cn_m THEN s.w ELSE 0 END)
                       OVER (PARTITION BY s.line) AS w_rem,
                   max(s.em) OVER (PARTITION BY s.line) AS last_em
            FROM w_sched s JOIN w_cn c USING (line) JOIN w_rl r USING (line)
        )
    )""")


def write_revrec(conn: duckdb.DuckDBPyConnection, end: dt.date) -> None:
    """Insert revenue_recognition_debits_and_credits."""
    open_from = f"TIMESTAMP '{end.replace(day=1).isoformat()}'"
    types = "CASE {a} " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ACCOUNT_TYPES.items())
    types += " END"
    k = RR_KEY
    line_ctx = """
        FROM {src} x JOIN w_lines l USING (line) JOIN w_inv i ON i.inv = l.inv
        JOIN w_price p ON p.pidx = l.price"""
    line_cols = """i.merchant_id, i.cur, i.customer_id, i.inv_id, l.line_id, p.price_id,
        p.product_id, l.sub_id, l.si_id"""
    inv_cols = """i.merchant_id, i.cur, i.customer_id, i.inv_id, NULL AS line_id, NULL AS price_id,
        NULL AS product_id, CASE WHEN i.skey >= 0 THEN sid('sub', i.skey) END AS sub_id,
        NULL AS si_id"""
    conn.execute(f"""
    INSERT INTO revenue_recognition_debits_and_credits BY NAME
    WITH w_journal AS (
    SELECT {1} * {k} + l.line * 64 AS jkey, x.book_m AS apd, i.fin AS booked, x.n AS amount,
        'AccountsReceivable' AS debit, 'DeferredRevenue' AS credit,
        'invoice_line_item_finalized' AS event_type, {line_cols},
        NULL AS charge_key, NULL AS refund_key, NULL AS cn_inv, NULL AS dispute_id
    {line_ctx.format(src="w_rl")}
    UNION ALL
    SELECT {2} * {k} + l.line * 64 + x.mi, x.em, i.fin, x.share, 'DeferredRevenue', 'Revenue',
        'revenue_recognized', {line_cols}, NULL, NULL, NULL, NULL
    {line_ctx.format(src="w_recog")}
    WHERE x.share <> 0
    UNION ALL
    SELECT {3} * {k} + i.inv * 64, local_month(i.tz, i.paid_at), i.paid_at, i.net_total, 'Cash',
        'AccountsReceivable', 'invoice_paid', {inv_cols}, i.paid_charge, NULL, NULL, NULL
    FROM w_inv i WHERE i.status = 'paid'
    UNION ALL
    SELECT {4} * {k} + i.inv * 64, local_month(i.tz, i.final_at), i.final_at, i.net_total,
        'BadDebt', 'AccountsReceivable', 'invoice_marked_uncollectible', {inv_cols},
        NULL, NULL, NULL, NULL
    FROM w_inv i WHERE i.status = 'uncollectible'
    UNION ALL
    SELECT {5} * {k} + c.inv * 64, c.cn_m, c.c_ts, c.credited, 'CreditNotes',
        CASE WHEN c.cn_type = 'post_payment' THEN 'Cash' ELSE 'AccountsReceivable' END,
        'credit_note_issued', {line_cols},
        CASE WHEN c.cn_type = 'post_payment' THEN c.paid_charge END,
        CASE WHEN c.cn_type = 'post_payment' THEN c.paid_charge END, c.inv, NULL
    FROM w_cn c JOIN w_lines l ON l.line = c.line JOIN w_inv i ON i.inv = l.inv
    JOIN w_price p ON p.pidx = l.price
    UNION ALL
    SELECT {6} * {k} + c.inv * 64, c.cn_m, c.c_ts, c.credited, 'DeferredRevenue', 'CreditNotes',
        'credit_note_deferred_revenue_reduced', {line_cols}, NULL, NULL, c.inv, NULL
    FROM w_cn c JOIN w_lines l ON l.line = c.line JOIN w_inv i ON i.inv = l.inv
    JOIN w_price p ON p.pidx = l.price
    UNION ALL
    SELECT {7} * {k} + r.charge * 64, local_month(i.tz, r.created), r.created,
        half_up(r.amount * i.net_total, i.total), 'Refunds', 'Cash', 'charge_refunded',
        {inv_cols}, r.charge, r.charge, NULL, NULL
    FROM w_refunds r JOIN w_inv i ON i.inv = r.inv
    WHERE r.cn_inv IS NULL AND r.status = 'succeeded'
    UNION ALL
    SELECT {8} * {k} + d.charge * 64, local_month(i.tz, d.created), d.created,
        half_up(d.amount * i.net_total, i.total), 'Disputes', 'Cash', 'dispute_funds_withdrawn',
        {inv_cols}, d.charge, NULL, NULL, d.dispute_id
    FROM w_disputes d JOIN w_inv i ON i.inv = d.inv WHERE NOT d.inquiry
    UNION ALL
    SELECT {9} * {k} + d.charge * 64, local_month(i.tz, d.resolved_at), d.resolved_at,
        half_up(d.amount * i.net_total, i.total), 'Cash', 'Disputes',
        'dispute_funds_reinstated', {inv_cols}, d.charge, NULL, NULL, d.dispute_id
    FROM w_disputes d JOIN w_inv i ON i.inv = d.inv WHERE NOT d.inquiry AND d.status = 'won'
    )
    SELECT merchant_id, sid('rrde', jkey) AS id, apd AS accounting_period_date,
        amount::DOUBLE AS amount, ts(booked) AS booked_date,
        CASE WHEN charge_key IS NOT NULL THEN sid('ch', charge_key) END AS charge_id,
        credit, {types.format(a="credit")} AS credit_account_type,
        CASE WHEN cn_inv IS NOT NULL THEN sid('cn', cn_inv) END AS credit_note_id,
        cur AS currency, customer_id, debit, {types.format(a="debit")} AS debit_account_type,
        dispute_id, event_type, inv_id AS invoice_id, apd >= {open_from}
            AS is_accounting_period_open,
        line_id AS line_item_id, true AS livemode, apd AS original_accounting_period_date,
        amount::DOUBLE AS presentment_amount, cur AS presentment_currency, price_id, product_id,
        CASE WHEN refund_key IS NOT NULL THEN sid('re', refund_key) END AS refund_id,
        sub_id AS subscription_id, si_id AS subscription_item_id
    FROM w_journal""")


def write_tax_transactions(conn: duckdb.DuckDBPyConnection) -> None:
    """Insert tax_transactions, their line items and jurisdiction details (with reversals)."""
    # reversal sources: (tkey, inv, kind, created, source type/id, scale numerator/denominator)
    conn.execute("""
    CREATE TEMP TABLE w_trev AS
    SELECT 1000000000000 + c.inv AS tkey, c.inv, 'credit_note' AS source_type,
        sid('cn', c.inv) AS source_id, c.c_ts AS created, c.line AS only_line,
        NULL::BIGINT AS num, NULL::BIGINT AS den
    FROM w_cn c
    UNION ALL
    SELECT 2000000000000 + r.charge, r.inv, 'refund', sid('re', r.charge), r.created, NULL,
        r.amount, i.total
    FROM w_refunds r JOIN w_inv i USING (inv)
    WHERE r.cn_inv IS NULL AND r.status = 'succeeded'
    UNION ALL
    SELECT 3000000000000 + i.inv, i.inv, 'invoice', i.inv_id, i.final_at, NULL, 1, 1
    FROM w_inv i WHERE i.status = 'void'""")
    # jurisdiction rows of originals (sign +1) and reversals (negative, scaled)
    conn.execute("""
    CREATE TEMP TABLE w_tj AS
    SELECT t.inv AS tkey, t.inv, t.line, t.seq, t.net AS amount, t.tax, t.taxable,
        t.rate, t.j_country, t.j_state, t.j_name, t.j_level, t.tax_type, t.reason,
        t.filing_currency, NULL::BIGINT AS orig_tkey
    FROM w_tax t JOIN w_inv i USING (inv) WHERE i.status <> 'draft'
    UNION ALL
    SELECT tkey, inv, line, seq, -base,
        -CASE WHEN taxable THEN half_up(base * rate, 100000) ELSE 0 END,
        taxable, rate, j_country, j_state, j_name, j_level, tax_type, reason, filing_currency,
        inv
    FROM (
        SELECT r.tkey, t.*, CASE WHEN r.only_line IS NOT NULL THEN c.credited
                                 ELSE half_up(t.net * r.num, r.den) END AS base
        FROM w_trev r JOIN w_tax t ON t.inv = r.inv
        LEFT JOIN w_cn c ON c.inv = r.inv AND r.only_line IS NOT NULL
        WHERE r.only_line IS NULL OR t.line = r.only_line
    )""")
    conn.execute("""
    INSERT INTO tax_transactions BY NAME
    WITH src AS (
        SELECT i.inv AS tkey, i.inv, 'transaction' AS type, 'invoice' AS source_type,
            i.inv_id AS source_id, i.fin AS created, NULL::BIGINT AS orig
        FROM w_inv i WHERE i.status <> 'draft'
        UNION ALL
        SELECT tkey, inv, 'reversal', source_type, source_id, created, inv FROM w_trev
    )
    SELECT i.merchant_id, sid('tax', s.tkey) AS id, ts(s.created) AS created,
        c.l_city AS customer_details_address_city, c.country AS customer_details_address_country,
        c.l_postal AS customer_details_address_postal_code,
        c.l_state AS customer_details_address_state,
        'billing' AS customer_details_address_source, c.ip AS customer_details_ip_address,
        CASE c.tax_status WHEN 1 THEN 'customer_exempt' WHEN 2 THEN 'reverse_charge'
             ELSE 'none' END AS customer_details_taxability_override,
        i.customer_id, ts(s.created) AS posted_at, 'stripe' AS provider,
        CASE WHEN s.orig IS NOT NULL THEN sid('tax', s.orig) END
            AS reversal_original_tax_transaction_id,
        s.source_id, s.source_type, ts(CASE WHEN s.orig IS NULL THEN i.date ELSE s.created END)
            AS tax_date, s.type
    FROM src s JOIN w_inv i ON i.inv = s.inv JOIN w_cust c ON c.ckey = i.ckey""")
    conn.execute("""
    INSERT INTO tax_transaction_line_items BY NAME
    SELECT i.merchant_id, sid('tax_li', j.line + (j.tkey // 1000000000000) * 1000000000000) AS id,
        j.amount, j.amount_tax, i.cur AS currency, c.l_city AS determined_destination_address_city,
        c.country AS determined_destination_address_country,
        c.l_postal AS determined_destination_address_postal_code,
        c.l_state AS determined_destination_address_state,
        a.country AS determined_origin_address_country, l.qty::VARCHAR AS quantity_decimal,
        CASE WHEN j.orig_tkey IS NOT NULL THEN sid('tax_li', j.line) END
            AS reversal_original_tax_transaction_line_item_id,
        l.line_id AS source_line_item_id, 'exclusive' AS tax_behavior,
        CASE WHEN l.line_kind = 3 THEN 'txcd_20030000' ELSE 'txcd_10103001' END AS tax_code,
        sid('tax', j.tkey) AS tax_transaction_id
    FROM (SELECT tkey, line, any_value(inv) AS inv, any_value(amount) AS amount,
                 sum(tax) AS amount_tax, any_value(orig_tkey) AS orig_tkey
          FROM w_tj GROUP BY tkey, line) j
    JOIN w_inv i ON i.inv = j.inv JOIN w_cust c ON c.ckey = i.ckey
    JOIN stg_accounts a ON a.acct = i.acct JOIN w_lines l ON l.line = j.line""")
    conn.execute("""
    INSERT INTO tax_transaction_jurisdiction_details BY NAME
    SELECT i.merchant_id,
        CASE WHEN j.taxable THEN 0 ELSE j.amount END AS amount_non_taxable, j.tax AS amount_tax,
        CASE WHEN j.taxable THEN j.amount ELSE 0 END AS amount_taxable, i.cur AS currency,
        CASE WHEN j.filing_currency = i.cur THEN (CASE WHEN j.taxable THEN 0 ELSE j.amount END)
            END AS filing_amount_non_taxable,
        CASE WHEN j.filing_currency = i.cur THEN j.tax END AS filing_amount_tax,
        CASE WHEN j.filing_currency = i.cur THEN (CASE WHEN j.taxable THEN j.amount ELSE 0 END)
            END AS filing_amount_taxable,
        j.filing_currency, j.j_country AS jurisdiction_country, j.j_level AS jurisdiction_level,
        j.j_name AS jurisdiction_name, j.j_state AS jurisdiction_state,
        j.rate / 1000.0 AS tax_rate_percentage, sid('tax', j.tkey) AS tax_transaction_id,
        sid('tax_li', j.line + (j.tkey // 1000000000000) * 1000000000000)
            AS tax_transaction_item_id,
        'tax_transaction_line_item' AS tax_transaction_item_type, j.tax_type,
        CASE WHEN j.taxable THEN 'taxable' ELSE 'nontaxable' END AS taxability,
        j.reason AS taxability_reason
    FROM w_tj j JOIN w_inv i ON i.inv = j.inv""")
