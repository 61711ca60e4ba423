"""SQL step 2: invoice money (discounts, tax, totals, status at the cutoff) and payments.

Work tables: w_lines (line amounts, discount, net, tax), w_tax (line x jurisdiction), w_inv
(invoice totals and status), w_charges (payment attempts with fees), w_cn / w_cn_tax (credit
notes), w_refunds, w_disputes. Randomness here is hash-based (`rnd(key, salt)`), so it does not
depend on row order or threads.
"""

from __future__ import annotations

import duckdb

from data import _gen_config as cfg
from data._gen_lifecycle import BILLING_REASONS
from data._gen_payments import RETRY_OFFSETS
from data._gen_sql_core import _lit

EEA = tuple(cfg.EU)
DISPUTE_REASONS = (
    ("fraudulent", 0.40), ("subscription_canceled", 0.18), ("product_not_received", 0.12),
    ("general", 0.12), ("duplicate", 0.08), ("credit_not_processed", 0.06),
    ("unrecognized", 0.04),
)  # fmt: skip


def _pick(key: str, salt: str, weighted: tuple[tuple[str, float], ...]) -> str:
    """SQL CASE choosing a label by hash-uniform draw with the given weights."""
    parts, acc = [], 0.0
    for label, w in weighted[:-1]:
        acc += w
        parts.append(f"WHEN rnd({key}, '{salt}') < {acc:.6f} THEN '{label}'")
    return f"CASE {' '.join(parts)} ELSE '{weighted[-1][0]}' END"


_FAILURE_CODE = _pick(
    "charge", "fc", (("card_declined", 0.5), ("insufficient_funds", 0.35), ("expired_card", 0.15))
)
_CN_REASON = _pick(
    "c.inv", "cnr", (("product_unsatisfactory", 0.5), ("order_change", 0.35), ("duplicate", 0.15))
)
_REFUND_REASON = _pick(
    "ch.charge",
    "rr",
    (("requested_by_customer", 0.75), ("duplicate", 0.15), ("fraudulent", 0.10)),
)
_DISPUTE_REASON = _pick("ch.charge", "dpr", DISPUTE_REASONS)


def invoice_work(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Build w_lines, w_tax and w_inv from the simulated invoices and lines."""
    conn.execute("""
    CREATE TEMP TABLE w_lines0 AS
    SELECT l.line, l.inv, l.item, l.kind AS line_kind, l.price, l.qty, l.amount, l.ps, l.pe,
           l.proration, i.ckey, i.skey, i.kind AS inv_kind, i.date, i.disc,
           (l.kind IN (0, 1) AND NOT l.proration) AS discountable
    FROM stg_lines l JOIN stg_invoices i USING (inv)""")
    conn.execute("""
    CREATE TEMP TABLE w_line_disc AS
    WITH x AS (
        SELECT l.line, l.inv, l.amount, d.pct, d.amount_off, d.discount_id,
               sum(l.amount) OVER (PARTITION BY l.inv) AS base,
               row_number() OVER (PARTITION BY l.inv ORDER BY l.line DESC) AS rn_last
        FROM w_lines0 l JOIN w_disc d ON d.skey = l.skey
        WHERE l.disc AND l.discountable
    ), y AS (
        SELECT *,
            CASE WHEN pct IS NOT NULL
                 THEN half_up(amount * CAST(round(pct * 1000) AS BIGINT), 100000)
                 ELSE (least(amount_off, base) * amount) // base END AS d0,
            least(amount_off, base) AS off_total
        FROM x
    )
    SELECT line, discount_id,
        CASE WHEN pct IS NULL AND rn_last = 1
             THEN off_total - (sum(d0) OVER (PARTITION BY inv) - d0)
             ELSE d0 END AS discount
    FROM y""")
    conn.execute("""
    CREATE TEMP TABLE w_lines AS
    SELECT l.*, coalesce(d.discount, 0) AS discount, l.amount - coalesce(d.discount, 0) AS net,
           d.discount_id, sid('il', l.line) AS line_id,
           CASE WHEN l.skey >= 0 THEN sid('sub', l.skey) END AS sub_id,
           CASE WHEN l.item >= 0 THEN sid('si', l.item) END AS si_id
    FROM w_lines0 l LEFT JOIN w_line_disc d USING (line)""")
    conn.execute("DROP TABLE w_lines0")
    conn.execute("DROP TABLE w_line_disc")
    conn.execute("""
    CREATE TEMP TABLE w_tax AS
    SELECT l.line, l.inv, r.seq, r.rate_key, r.j_country, r.j_state, r.j_name, r.j_level,
           r.tax_type, r.taxable, r.reason, r.rate, r.filing_currency, l.net,
           CASE WHEN r.taxable THEN half_up(l.net * r.rate, 100000) ELSE 0 END AS tax
    FROM w_lines l
    JOIN w_cust c USING (ckey)
    JOIN stg_tax_rules r ON r.acct = c.acct AND r.loc = c.loc AND r.status = c.tax_status""")
    offsets = _lit([str(int(x)) for x in RETRY_OFFSETS])
    conn.execute(f"""
    CREATE TEMP TABLE w_inv AS
    WITH t AS (
        SELECT l.inv, sum(l.amount) AS subtotal, sum(l.discount) AS discount,
               sum(coalesce(x.tax, 0)) AS tax
        FROM w_lines l
        LEFT JOIN (SELECT line, sum(tax) AS tax FROM w_tax GROUP BY line) x USING (line)
        GROUP BY l.inv
    ), a AS (
        SELECT inv, count(*) AS attempts, count(*) FILTER (WHERE NOT ok) AS failed_attempts,
               arg_max(charge, attempt) AS last_charge,
               max(charge) FILTER (WHERE ok) AS paid_charge
        FROM stg_attempts GROUP BY inv
    )
    SELECT i.*, sid('in', i.inv) AS inv_id, c.merchant_id, c.customer_id, c.cur, c.tz, c.acct,
        t.subtotal, t.discount, t.tax, t.subtotal - t.discount + t.tax AS total,
        t.subtotal - t.discount AS net_total,
        coalesce(a.attempts, 0) AS attempts, coalesce(a.failed_attempts, 0) AS failed_attempts,
        a.last_charge, a.paid_charge,
        CASE WHEN i.fin >= {cutoff} THEN 'draft'
             WHEN i.paid_at >= 0 AND i.paid_at < {cutoff} THEN 'paid'
             WHEN i.void AND i.final_at < {cutoff} THEN 'void'
             WHEN i.final_at >= 0 AND i.final_at < {cutoff} THEN 'uncollectible'
             ELSE 'open' END AS status,
        CASE WHEN NOT i.send AND i.paid_at < 0 AND i.final_at >= {cutoff}
                  AND i.fin < {cutoff} AND coalesce(a.attempts, 0) BETWEEN 1 AND 3
             THEN i.fin + CAST({offsets}[coalesce(a.attempts, 0) + 1] AS BIGINT) + i.jit
        END AS next_attempt,
        {_lit(list(BILLING_REASONS))}[i.reason + 1] AS billing_reason
    FROM stg_invoices i
    JOIN w_cust c USING (ckey)
    JOIN t USING (inv)
    LEFT JOIN a USING (inv)""")


def charge_work(conn: duckdb.DuckDBPyConnection) -> None:
    """Build w_charges: every payment attempt with amount, outcome and processing fees."""
    fixed = "CASE i.cur " + " ".join(
        f"WHEN '{k}' THEN {v}" for k, v in cfg.FIXED_FEE.items()
    ) + " END"  # fmt: skip
    conn.execute(f"""
    CREATE TEMP TABLE w_charges AS
    WITH x AS (
        SELECT a.charge, a.inv, a.attempt, a.ts, a.ok, i.total AS amount, i.cur, i.acct, i.ckey,
               i.merchant_id, i.customer_id, i.inv_id, i.billing_reason, c.pm_type, c.card_brand,
               c.card_country, c.country, c.pm_id, c.email,
               CASE c.pm_type WHEN 'card' THEN (CASE WHEN i.acct = 0 THEN 290 ELSE 150 END)
                    WHEN 'bacs_debit' THEN 100 ELSE 80 END AS base_bps,
               CASE c.pm_type WHEN 'card' THEN {fixed} WHEN 'bacs_debit' THEN 20 ELSE 0 END
                   AS fixed_fee,
               CASE c.pm_type WHEN 'card' THEN 1000000000 WHEN 'bacs_debit' THEN 400 ELSE 500
                   END AS fee_cap,
               CASE WHEN c.pm_type <> 'card' THEN 0
                    WHEN i.acct = 0 THEN (CASE WHEN c.card_country <> 'US' THEN 150 ELSE 0 END)
                    WHEN i.acct = 1 THEN (CASE WHEN c.card_country IN {EEA} THEN 0
                         WHEN c.card_country = 'GB' THEN 100 ELSE 175 END)
                    ELSE (CASE WHEN c.card_country = 'GB' THEN 0
                         WHEN c.card_country IN {EEA} THEN 100 ELSE 175 END) END AS extra_bps
        FROM stg_attempts a JOIN w_inv i USING (inv) JOIN w_cust c USING (ckey)
    )
    SELECT *, sid('ch', charge) AS charge_id,
        CASE WHEN ok THEN least(fee_cap, half_up(amount * base_bps, 10000) + fixed_fee) ELSE 0
            END AS fee_base,
        CASE WHEN ok THEN half_up(amount * extra_bps, 10000) ELSE 0 END AS fee_extra,
        CASE WHEN ok THEN NULL WHEN pm_type <> 'card' THEN 'insufficient_funds'
             ELSE {_FAILURE_CODE} END AS failure_code
    FROM x""")


def credit_note_work(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Pick credit notes (needs w_sched) and compute credited net and tax per jurisdiction."""
    conn.execute(f"""
    CREATE TEMP TABLE w_cn AS
    WITH cand AS (
        SELECT i.inv, i.inv_id, i.status, i.paid_charge, i.merchant_id, i.customer_id, i.cur,
               i.tz, i.acct, i.ckey,
               CASE WHEN i.status = 'paid' THEN 'post_payment' ELSE 'pre_payment' END AS cn_type,
               CASE WHEN i.status = 'paid' THEN i.paid_at + 3600 + rint(i.inv, 'cnt', 20 * 86400)
                    ELSE i.fin + 86400 + rint(i.inv, 'cnt', 9 * 86400) END AS c_ts
        FROM w_inv i
        WHERE (i.status = 'paid' AND rnd(i.inv, 'cn') < 0.015)
           OR (i.status = 'open' AND i.send AND rnd(i.inv, 'cn') < 0.10)
    ), fl AS (
        SELECT inv, min(line) AS line FROM w_lines WHERE net > 0 GROUP BY inv
    ), rem AS (
        SELECT c.inv, sum(s.share) AS remaining
        FROM cand c JOIN fl USING (inv) JOIN w_sched s ON s.line = fl.line
        WHERE s.em >= local_month(c.tz, c.c_ts)
        GROUP BY c.inv
    )
    SELECT c.*, fl.line, l.net, local_month(c.tz, c.c_ts) AS cn_m,
        least(r.remaining, CASE WHEN rnd(c.inv, 'cnf') < 0.4 THEN l.net
                                WHEN rnd(c.inv, 'cnf') < 0.7 THEN l.net // 2
                                ELSE l.net // 4 END) AS credited,
        {_CN_REASON} AS reason
    FROM cand c JOIN fl USING (inv) JOIN w_lines l ON l.line = fl.line
    JOIN rem r USING (inv)
    WHERE c.c_ts < {cutoff}
      AND least(r.remaining, CASE WHEN rnd(c.inv, 'cnf') < 0.4 THEN l.net
                                  WHEN rnd(c.inv, 'cnf') < 0.7 THEN l.net // 2
                                  ELSE l.net // 4 END) > 0""")
    conn.execute("""
    CREATE TEMP TABLE w_cn_tax AS
    SELECT c.inv, c.line, t.seq, t.rate_key, t.taxable, t.rate, c.credited,
           CASE WHEN t.taxable THEN half_up(c.credited * t.rate, 100000) ELSE 0 END AS tax
    FROM w_cn c JOIN w_tax t USING (line)""")
    conn.execute("""
    ALTER TABLE w_cn ADD COLUMN cn_tax BIGINT;
    UPDATE w_cn SET cn_tax = (SELECT sum(tax) FROM w_cn_tax t WHERE t.inv = w_cn.inv);
    ALTER TABLE w_cn ADD COLUMN cn_amount BIGINT;
    UPDATE w_cn SET cn_amount = credited + cn_tax;""")


def refund_dispute_work(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Build w_refunds (credit-note refunds + standalone ones) and w_disputes."""
    day = 86400
    conn.execute(f"""
    CREATE TEMP TABLE w_refunds AS
    SELECT ch.charge, ch.charge_id, ch.inv, ch.amount AS charge_amount, ch.cur, ch.merchant_id,
           ch.acct, ch.ckey, c.cn_amount AS amount, c.c_ts AS created,
           'requested_by_customer' AS reason, 'succeeded' AS status, c.inv AS cn_inv
    FROM w_cn c JOIN w_charges ch ON ch.charge = c.paid_charge
    WHERE c.cn_type = 'post_payment'
    UNION ALL
    SELECT charge, charge_id, inv, amount, cur, merchant_id, acct, ckey,
        CASE WHEN full_refund THEN amount
             ELSE greatest(1, half_up(amount * (10 + rint(charge, 'rp', 41)), 100)) END,
        r_ts, reason,
        CASE WHEN rnd(charge, 'rfail') < 0.02 AND r_ts + 2 * {day} < {cutoff} THEN 'failed'
             WHEN r_ts > {cutoff} - 3 * {day} AND rnd(charge, 'rpend') < 0.5 THEN 'pending'
             ELSE 'succeeded' END,
        NULL
    FROM (
        SELECT ch.*, ch.ts + 3600 + rint(ch.charge, 'rft', 30 * {day}) AS r_ts,
            {_REFUND_REASON} AS reason,
            rnd(ch.charge, 'rfull') < 0.55 AS full0
        FROM w_charges ch
        WHERE ch.ok AND rnd(ch.charge, 'rf') < 0.025
          AND ch.inv NOT IN (SELECT inv FROM w_cn)
    ) x, LATERAL (SELECT full0 OR reason <> 'requested_by_customer' AS full_refund)
    WHERE r_ts < {cutoff}""")
    conn.execute(f"""
    CREATE TEMP TABLE w_disputes AS
    SELECT *,
        CASE WHEN inquiry THEN (CASE WHEN resolved_at < {cutoff} THEN 'warning_closed'
                                     WHEN created + 3 * {day} < {cutoff}
                                     THEN 'warning_under_review'
                                     ELSE 'warning_needs_response' END)
             WHEN resolved_at < {cutoff} THEN (CASE WHEN won THEN 'won' ELSE 'lost' END)
             WHEN created + 5 * {day} < {cutoff} THEN 'under_review'
             ELSE 'needs_response' END AS status
    FROM (
        SELECT ch.charge, ch.charge_id, ch.inv, ch.amount, ch.cur, ch.merchant_id, ch.acct,
               ch.card_brand, sid('dp', ch.charge) AS dispute_id,
               ch.ts + 7 * {day} + rint(ch.charge, 'dpt', 53 * {day}) AS created,
               rnd(ch.charge, 'dpi') < 0.12 AS inquiry,
               rnd(ch.charge, 'dpw') < 0.35 AS won,
               {_DISPUTE_REASON} AS reason
        FROM w_charges ch
        WHERE ch.ok AND ch.pm_type = 'card' AND rnd(ch.charge, 'dp') < 0.006
          AND ch.charge NOT IN (SELECT charge FROM w_refunds)
    ) d, LATERAL (SELECT created + 30 * {day} + rint(charge, 'dprs', 45 * {day}) AS resolved_at)
    WHERE created < {cutoff}""")
