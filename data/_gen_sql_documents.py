"""SQL step 3: write invoices, lines, discount/tax amounts, credit notes and payments.

Reads the work tables of `_gen_sql_billing` and writes the Sigma tables: invoices,
invoice_line_items, invoice_line_item_discount_amounts / _tax_amounts, credit_notes,
credit_note_line_items, charges, refunds and disputes.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from data._gen_lifecycle import L_ONBOARDING, L_USAGE

SYMBOL = "CASE {c} WHEN 'usd' THEN '$' WHEN 'eur' THEN '€' WHEN 'gbp' THEN '£' " \
         "WHEN 'cad' THEN 'CA$' ELSE 'A$' END"  # fmt: skip


def _money(amount: str, cur: str) -> str:
    return f"({SYMBOL.format(c=cur)} || printf('%.2f', ({amount}) / 100.0))"


def write_invoices(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Insert invoices, invoice_line_items, discount amounts and tax amounts."""
    conn.execute("""
    CREATE TEMP TABLE w_inv_num AS
    SELECT i.inv,
        c.inv_prefix || '-' ||
        lpad(row_number() OVER (PARTITION BY i.ckey ORDER BY i.date, i.inv)::VARCHAR, 4, '0')
            AS number
    FROM w_inv i JOIN w_cust c USING (ckey) WHERE i.status <> 'draft'""")
    conn.execute("""
    INSERT INTO invoices BY NAME
    SELECT i.merchant_id, i.inv_id AS id,
        i.total - coalesce(pre.cn_amount, 0) AS amount_due,
        CASE WHEN i.status = 'paid' THEN i.total ELSE 0 END AS amount_paid,
        CASE WHEN i.status IN ('paid', 'void') THEN 0
             ELSE i.total - coalesce(pre.cn_amount, 0) END AS amount_remaining,
        0 AS amount_shipping, i.attempts AS attempt_count, i.attempts > 0 AS attempted,
        i.status IN ('draft', 'open') AS auto_advance, true AS automatic_tax_enabled,
        'complete' AS automatic_tax_status, i.billing_reason,
        CASE WHEN i.last_charge IS NOT NULL THEN sid('ch', i.last_charge) END AS charge_id,
        CASE WHEN i.send THEN 'send_invoice' ELSE 'charge_automatically' END
            AS collection_method,
        i.cur AS currency, c.l_city AS customer_address_city,
        c.country AS customer_address_country, c.l_postal AS customer_address_postal_code,
        c.l_state AS customer_address_state, c.email AS customer_email, i.customer_id,
        c.name AS customer_name, c.phone AS customer_phone,
        CASE c.tax_status WHEN 1 THEN 'exempt' WHEN 2 THEN 'reverse' ELSE 'none' END
            AS customer_tax_exempt,
        ts(i.date) AS date,
        CASE WHEN i.kind = 2 THEN 'Onboarding and data migration package' END AS description,
        CASE WHEN i.disc THEN d.coupon_id END AS discount_coupon_id,
        CASE WHEN i.disc THEN d.customer_id END AS discount_customer_id,
        CASE WHEN i.disc THEN ts_nullable(d.disc_end) END AS discount_end,
        CASE WHEN i.disc THEN ts(d.created) END AS discount_start,
        CASE WHEN i.disc THEN d.subscription_id END AS discount_subscription,
        CASE WHEN i.disc THEN d.discount_id END AS discounts,
        CASE WHEN i.send AND i.status <> 'draft' THEN ts(i.due) END AS due_date,
        CASE WHEN i.status <> 'draft' THEN ts(i.fin) END AS effective_at,
        CASE WHEN i.status <> 'draft' THEN 0 END AS ending_balance,
        ts_nullable(i.next_attempt) AS next_payment_attempt, n.number,
        i.status = 'paid' AS paid, false AS paid_out_of_band,
        ts(i.date) AS period_end, ts(i.inv_ps) AS period_start,
        coalesce(post.cn_amount, 0) AS post_payment_credit_notes_amount,
        coalesce(pre.cn_amount, 0) AS pre_payment_credit_notes_amount,
        CASE WHEN i.status = 'paid' THEN left(n.number, 4) || '-' ||
             lpad(rint(i.inv, 'rcpt', 10000)::VARCHAR, 4, '0') END AS receipt_number,
        0 AS starting_balance, i.status,
        CASE WHEN i.status <> 'draft' THEN ts(i.fin) END AS status_transitions_finalized_at,
        CASE WHEN i.status = 'uncollectible' THEN ts(i.final_at) END
            AS status_transitions_marked_uncollectible_at,
        CASE WHEN i.status = 'paid' THEN ts(i.paid_at) END AS status_transitions_paid_at,
        CASE WHEN i.status = 'void' THEN ts(i.final_at) END AS status_transitions_voided_at,
        CASE WHEN i.skey >= 0 THEN sid('sub', i.skey) END AS subscription_id,
        i.subtotal, i.tax, i.total,
        ts(i.date + 30) AS webhooks_delivered_at
    FROM w_inv i
    JOIN w_cust c USING (ckey)
    LEFT JOIN w_inv_num n USING (inv)
    LEFT JOIN w_disc d ON d.skey = i.skey
    LEFT JOIN (SELECT inv, cn_amount FROM w_cn WHERE cn_type = 'pre_payment') pre USING (inv)
    LEFT JOIN (SELECT inv, cn_amount FROM w_cn WHERE cn_type = 'post_payment') post USING (inv)""")
    per = "CASE WHEN p.interval = 'year' THEN 'year' ELSE 'month' END"
    conn.execute(f"""
    INSERT INTO invoice_line_items BY NAME
    SELECT i.merchant_id, l.line_id AS id, l.amount, i.cur AS currency,
        CASE WHEN l.line_kind = {L_ONBOARDING} THEN 'Onboarding'
             WHEN l.line_kind = {L_USAGE} THEN l.qty::VARCHAR || ' × ' || p.product_name ||
                  ' (at ' || {_money("p.unit", "i.cur")} || ' / 1,000 API calls)'
             WHEN l.proration THEN 'Remaining time on ' || l.qty::VARCHAR || ' × ' ||
                  p.product_name || ' after ' || strftime(ts(l.ps), '%d %b %Y')
             ELSE l.qty::VARCHAR || ' × ' || p.product_name || ' (at ' ||
                  {_money("p.unit", "i.cur")} || ' / ' || {per} || ')' END AS description,
        l.discountable, i.inv_id AS invoice_id,
        CASE WHEN l.proration OR l.line_kind = {L_ONBOARDING} THEN sid('ii', l.line) END
            AS invoice_item_id,
        ts(l.pe) AS period_end, ts(l.ps) AS period_start,
        CASE WHEN p.kind = 'recurring' THEN p.price_id END AS plan_id, p.price_id, l.proration,
        CASE WHEN l.line_kind = {L_ONBOARDING} OR l.proration THEN sid('ii', l.line)
             ELSE l.sub_id END AS source_id,
        CASE WHEN l.line_kind = {L_ONBOARDING} OR l.proration THEN 'invoiceitem'
             ELSE 'subscription' END AS source_type,
        l.qty AS quantity,
        l.sub_id AS subscription, l.si_id AS subscription_item_id
    FROM w_lines l JOIN w_inv i USING (inv) JOIN w_price p ON p.pidx = l.price""")
    conn.execute("""
    INSERT INTO invoice_line_item_discount_amounts BY NAME
    SELECT i.merchant_id, sid('ilda', l.line) AS id, l.discount AS amount,
        l.discount_id AS discount, i.inv_id AS invoice_id, l.line_id AS invoice_line_item_id
    FROM w_lines l JOIN w_inv i USING (inv) WHERE l.discount > 0""")
    conn.execute("""
    INSERT INTO invoice_line_item_tax_amounts BY NAME
    SELECT i.merchant_id, sid('ilta', t.line * 8 + t.seq) AS id, t.tax AS amount,
        CASE WHEN t.filing_currency = i.cur THEN t.tax END AS filing_amount,
        false AS inclusive, i.inv_id AS invoice_id, sid('il', t.line) AS invoice_line_item_id,
        sid('txr', 3000 + t.rate_key) AS tax_rate, t.net AS taxable_amount
    FROM w_tax t JOIN w_inv i USING (inv) WHERE t.taxable""")
    conn.execute("""
    INSERT INTO credit_notes BY NAME
    SELECT c.merchant_id, sid('cn', c.inv) AS id, c.cn_amount AS amount, 0 AS amount_shipping,
        ts(c.c_ts) AS created, c.cur AS currency, c.customer_id, ts(c.c_ts) AS effective_at,
        c.inv_id AS invoice_id,
        CASE c.reason WHEN 'duplicate' THEN 'Duplicate billing corrected'
             WHEN 'order_change' THEN 'Plan change credit'
             ELSE 'Service credit' END AS memo,
        n.number || '-CN-01' AS number, 0 AS out_of_band_amount, c.reason,
        CASE WHEN c.cn_type = 'post_payment' THEN sid('re', c.paid_charge) END AS refund_id,
        0 AS shipping_cost_amount_subtotal, 0 AS shipping_cost_amount_tax,
        0 AS shipping_cost_amount_total, 'issued' AS status, c.cn_type AS type
    FROM w_cn c JOIN w_inv_num n USING (inv)""")
    conn.execute("""
    INSERT INTO credit_note_line_items BY NAME
    SELECT c.merchant_id, sid('cnli', c.inv) AS id, c.credited AS amount,
        sid('cn', c.inv) AS credit_note_id, 'Credit: ' || p.product_name AS description,
        0 AS discount_amount, sid('il', c.line) AS invoice_line_item, 1 AS quantity,
        'invoice_line_item' AS type, c.credited AS unit_amount,
        c.credited::VARCHAR AS unit_amount_decimal
    FROM w_cn c JOIN w_lines l USING (line) JOIN w_price p ON p.pidx = l.price""")


def write_payments(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Insert charges, refunds and disputes."""
    year_now = dt.datetime.fromtimestamp(cutoff - 1, dt.UTC).year
    conn.execute(f"""
    INSERT INTO charges BY NAME
    SELECT ch.merchant_id, ch.charge_id AS id, ch.amount,
        coalesce(r.refunded, 0) AS amount_refunded,
        CASE WHEN ch.ok THEN sid('txn', 10000000000000 + ch.charge) END AS balance_transaction_id,
        upper(left(a.name, 22)) AS calculated_statement_descriptor, ch.ok AS captured,
        CASE WHEN ch.ok THEN ts(ch.ts) END AS captured_at,
        CASE WHEN ch.pm_type = 'card' THEN c.l_city END AS card_address_city,
        CASE WHEN ch.pm_type = 'card' THEN c.country END AS card_address_country,
        CASE WHEN ch.pm_type = 'card' THEN c.l_postal END AS card_address_postal_code,
        CASE WHEN ch.pm_type = 'card' THEN 'pass' END AS card_address_zip_check,
        ch.card_brand, ch.card_country,
        CASE WHEN ch.pm_type = 'card' THEN 'pass' END AS card_cvc_check,
        CASE WHEN ch.pm_type = 'card' THEN c.card_exp_month END AS card_exp_month,
        CASE WHEN ch.pm_type = 'card' THEN {year_now} + c.card_exp_dy END AS card_exp_year,
        CASE WHEN ch.pm_type = 'card' THEN c.card_fingerprint END AS card_fingerprint,
        CASE WHEN ch.pm_type = 'card' THEN c.card_funding_kind END AS card_funding,
        CASE WHEN ch.pm_type = 'card' THEN c.card_id END AS card_id,
        CASE WHEN ch.pm_type = 'card' THEN c.card_last4 END AS card_last4,
        CASE WHEN ch.pm_type = 'card' THEN c.name END AS card_name,
        CASE WHEN ch.pm_type = 'card' THEN lower(replace(ch.card_brand, ' ', '_')) END
            AS card_network,
        ts(ch.ts) AS created, ch.cur AS currency, ch.customer_id,
        CASE ch.billing_reason WHEN 'subscription_create' THEN 'Subscription creation'
             WHEN 'subscription_update' THEN 'Subscription update'
             ELSE 'Payment for Invoice' END AS description,
        d.dispute_id, ch.failure_code,
        CASE ch.failure_code WHEN 'card_declined' THEN 'Your card was declined.'
             WHEN 'insufficient_funds' THEN 'Your card has insufficient funds.'
             WHEN 'expired_card' THEN 'Your card has expired.' END AS failure_message,
        ch.inv_id AS invoice_id,
        CASE WHEN ch.ok THEN 'approved_by_network' ELSE 'declined_by_network' END
            AS outcome_network_status,
        CASE WHEN ch.ok THEN NULL ELSE (CASE WHEN ch.failure_code = 'card_declined'
             THEN 'generic_decline' ELSE ch.failure_code END) END AS outcome_reason,
        CASE WHEN rnd(ch.charge, 'risk') < 0.9 THEN 'normal' ELSE 'elevated' END
            AS outcome_risk_level,
        CASE WHEN rnd(ch.charge, 'risk') < 0.9 THEN rint(ch.charge, 'rs', 55)
             ELSE 55 + rint(ch.charge, 'rs', 20) END AS outcome_risk_score,
        CASE WHEN ch.ok THEN 'Payment complete.'
             ELSE 'The bank did not return any further details with this decline.' END
            AS outcome_seller_message,
        CASE WHEN ch.ok THEN 'authorized' ELSE 'issuer_declined' END AS outcome_type,
        ch.ok AS paid, sid('pi', ch.inv) AS payment_intent, ch.pm_id AS payment_method_id,
        ch.pm_type AS payment_method_type, ch.email AS receipt_email,
        CASE WHEN ch.ok THEN lpad(rint(ch.charge, 'rn', 10000)::VARCHAR, 4, '0') || '-' ||
             lpad(rint(ch.charge, 'rn2', 10000)::VARCHAR, 4, '0') END AS receipt_number,
        coalesce(r.refunded, 0) = ch.amount AS refunded,
        CASE WHEN ch.ok THEN 'succeeded' ELSE 'failed' END AS status
    FROM w_charges ch
    JOIN w_cust c USING (ckey)
    JOIN stg_accounts a ON a.acct = ch.acct
    LEFT JOIN (SELECT charge, sum(amount) AS refunded FROM w_refunds
               WHERE status = 'succeeded' GROUP BY charge) r USING (charge)
    LEFT JOIN w_disputes d USING (charge)""")
    conn.execute("""
    INSERT INTO refunds BY NAME
    SELECT r.merchant_id, sid('re', r.charge) AS id, r.amount,
        sid('txn', 20000000000000 + r.charge) AS balance_transaction_id, r.charge_id,
        ts(r.created) AS created, r.cur AS currency,
        CASE WHEN r.status = 'failed' THEN sid('txn', 30000000000000 + r.charge) END
            AS failure_balance_transaction_id,
        CASE WHEN r.status = 'failed' THEN 'expired_or_canceled_card' END AS failure_reason,
        r.reason, lpad(rint(r.charge, 'rrn', 10000)::VARCHAR, 4, '0') || '-' ||
            lpad(rint(r.charge, 'rrn2', 10000)::VARCHAR, 4, '0') AS receipt_number,
        sid('pi', r.inv) AS refund_payment_intent, r.status
    FROM w_refunds r""")
    conn.execute("""
    INSERT INTO disputes BY NAME
    SELECT d.merchant_id, d.dispute_id AS id, d.amount, d.charge_id, ts(d.created) AS created,
        d.cur AS currency, ts(d.created + 7 * 86400) AS evidence_details_due_by,
        d.status NOT IN ('needs_response', 'warning_needs_response')
            AS evidence_details_has_evidence,
        false AS evidence_details_past_due,
        CASE WHEN d.status IN ('needs_response', 'warning_needs_response') THEN 0 ELSE 1 END
            AS evidence_details_submission_count,
        false AS is_charge_refundable,
        lower(replace(d.card_brand, ' ', '_')) AS network_details_type,
        false AS network_details_visa_rapid_dispute_resolution,
        CASE d.card_brand WHEN 'Visa' THEN (CASE d.reason WHEN 'fraudulent' THEN '10.4'
             WHEN 'product_not_received' THEN '13.1' WHEN 'subscription_canceled' THEN '13.2'
             WHEN 'duplicate' THEN '12.6.1' ELSE '13.7' END)
             WHEN 'MasterCard' THEN (CASE d.reason WHEN 'fraudulent' THEN '4837'
             WHEN 'duplicate' THEN '4834' ELSE '4853' END)
             ELSE (CASE d.reason WHEN 'fraudulent' THEN 'F29' ELSE 'C08' END) END
            AS network_reason_code,
        d.reason, d.status
    FROM w_disputes d""")
