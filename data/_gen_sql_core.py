"""SQL step 1: customers, tax ids, coupons, discounts, subscriptions, items and the MRR ledger."""

from __future__ import annotations

import duckdb

from data import _gen_config as cfg
from data._gen_lifecycle import EVENT_TYPES, FEEDBACK, SUB_STATUS


def _lit(values: tuple[str | None, ...] | list[str | None]) -> str:
    """A DuckDB list literal of strings (NULL for None)."""
    out = []
    for v in values:
        out.append("NULL" if v is None else "'" + v.replace("'", "''") + "'")
    return "[" + ", ".join(out) + "]"


def customers_work(conn: duckdb.DuckDBPyConnection) -> None:
    """Derive w_cust: one row per customer with every display string and payment detail."""
    suffix = "CASE c.country " + " ".join(
        f"WHEN '{k}' THEN '{v}'" for k, v in cfg.COMPANY_SUFFIX.items()
    ) + " ELSE 'Ltd' END"  # fmt: skip
    locale = (
        "CASE c.country WHEN 'DE' THEN 'de-DE' WHEN 'FR' THEN 'fr-FR' WHEN 'NL' THEN 'nl-NL' "
        "WHEN 'ES' THEN 'es-ES' WHEN 'IT' THEN 'it-IT' WHEN 'GB' THEN 'en-GB' WHEN 'IE' THEN "
        "'en-IE' WHEN 'AU' THEN 'en-AU' WHEN 'CH' THEN 'de-CH' WHEN 'BR' THEN 'pt-BR' WHEN 'CA' "
        "THEN (CASE WHEN l.l_state = 'QC' THEN 'fr-CA' ELSE 'en-CA' END) ELSE 'en-US' END"
    )
    calling = (
        "CASE c.country WHEN 'US' THEN '+1' WHEN 'CA' THEN '+1' WHEN 'DE' THEN '+49' WHEN 'FR' "
        "THEN '+33' WHEN 'NL' THEN '+31' WHEN 'ES' THEN '+34' WHEN 'IT' THEN '+39' WHEN 'IE' THEN "
        "'+353' WHEN 'GB' THEN '+44' WHEN 'AU' THEN '+61' WHEN 'CH' THEN '+41' WHEN 'SG' THEN "
        "'+65' ELSE '+55' END"
    )
    n_hostile = len(cfg.HOSTILE_NAMES)
    conn.execute(f"""
    CREATE TEMP TABLE w_cust AS
    WITH base AS (
        SELECT c.*, a.merchant_id, a.tz, a.country AS m_country, a.name AS m_name,
               l.l_city, l.l_state, l.l_postal,
               {_lit(cfg.FIRST_NAMES)}[c.first_i + 1] AS first_name,
               {_lit(cfg.LAST_NAMES)}[c.last_i + 1] AS last_name,
               {_lit(cfg.COMPANY_WORDS_A)}[c.word_a + 1] AS wa,
               {_lit(cfg.COMPANY_WORDS_B)}[c.word_b + 1] AS wb,
               {suffix} AS co_suffix, {locale} AS locale, {calling} AS calling
        FROM stg_customers c
        JOIN stg_accounts a USING (acct)
        JOIN stg_locations l USING (loc)
    )
    SELECT *,
        sid('cus', ckey) AS customer_id,
        sid('pm', ckey) AS pm_id,
        CASE WHEN hostile BETWEEN 1 AND {n_hostile} THEN {_lit(cfg.HOSTILE_NAMES)}[hostile]
             WHEN business THEN wa || ' ' || wb || ' ' || co_suffix
             ELSE first_name || ' ' || last_name END AS name,
        CASE WHEN business
             THEN 'billing@' || lower(wa || wb) || rint(ckey, 'dom', 90)::VARCHAR || '.example'
             ELSE regexp_replace(lower(strip_accents(first_name || '.' || last_name)),
                                 '[^a-z.]', '', 'g')
                  || (ckey % 997)::VARCHAR || '@'
                  || ['mail.example', 'inbox.example', 'post.example'][rint(ckey, 'em', 3) + 1]
        END AS email,
        calling || ' 555 ' || lpad(rint(ckey, 'ph', 10000)::VARCHAR, 4, '0') AS phone,
        CASE WHEN hostile = {n_hostile + 1} THEN {_lit([cfg.HOSTILE_DESCRIPTION])}[1]
             WHEN business AND exempt THEN 'Registered non-profit (tax exempt)'
             WHEN business THEN 'Business account'
        END AS description,
        CASE WHEN pm = 0 THEN 'card' WHEN pm = 1 THEN 'sepa_debit'
             WHEN pm = 2 THEN 'us_bank_account' ELSE 'bacs_debit' END AS pm_type,
        CASE WHEN pm <> 0 THEN NULL
             ELSE ['Visa', 'MasterCard', 'American Express', 'Discover'][brand + 1] END
            AS card_brand,
        CASE WHEN pm <> 0 THEN NULL WHEN card_foreign AND country = 'US' THEN 'CA'
             WHEN card_foreign THEN 'US' ELSE country END AS card_country,
        CASE WHEN country IN {tuple(cfg.EU)} THEN 'eu_vat' WHEN country = 'GB' THEN 'gb_vat'
             WHEN country = 'AU' THEN 'au_abn' WHEN country = 'CA' THEN 'ca_bn'
             ELSE 'us_ein' END AS tax_id_type,
        CASE WHEN exempt THEN 1 WHEN reverse THEN 2 ELSE 0 END AS tax_status,
        ['192.0.2.', '198.51.100.', '203.0.113.'][rint(ckey, 'ip0', 3) + 1]
            || (1 + rint(ckey, 'ip', 254))::VARCHAR AS ip,
        upper(left(md5(ckey::VARCHAR || 'prefix'), 8)) AS inv_prefix,
        left(md5(ckey::VARCHAR || 'fp'), 16) AS card_fingerprint,
        lpad(rint(ckey, 'last4', 10000)::VARCHAR, 4, '0') AS card_last4,
        1 + rint(ckey, 'expm', 12) AS card_exp_month, 1 + rint(ckey, 'expy', 5) AS card_exp_dy,
        CASE WHEN rnd(ckey, 'fund') < 0.7 THEN 'credit' ELSE 'debit' END AS card_funding_kind,
        sid('card', ckey) AS card_id
    FROM base""")


def write_customers(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Insert customers and customer_tax_ids (delinquent flags come from w_inv)."""
    conn.execute(f"""
    INSERT INTO customers BY NAME
    SELECT merchant_id, customer_id AS id, 0 AS account_balance, l_city AS address_city,
        country AS address_country,
        street_no::VARCHAR || ' ' || {_lit(cfg.STREETS)}[street_i + 1] AS address_line1,
        CASE WHEN business AND rnd(ckey, 'l2') < 0.4
             THEN 'Suite ' || (100 + rint(ckey, 'suite', 800))::VARCHAR END AS address_line2,
        l_postal AS address_postal_code, l_state AS address_state, 0 AS balance,
        CASE WHEN has_tax_id AND tax_id_type = 'eu_vat' THEN vat_value END AS business_vat_id,
        ts(created) AS created, cur AS currency, false AS deleted,
        coalesce(d.delinquent, false) AS delinquent, description, email,
        '{{}}' AS invoice_credit_balance,
        pm_id AS invoice_settings_default_payment_method_id, name, phone,
        '["' || locale || '"]' AS preferred_locales,
        CASE WHEN exempt THEN 'exempt' WHEN reverse THEN 'reverse' ELSE 'none' END AS tax_exempt,
        ip AS tax_ip_address
    FROM (SELECT *, {_vat_value()} AS vat_value FROM w_cust) c
    LEFT JOIN (
        SELECT ckey, bool_or(status = 'open' AND (failed_attempts > 0
                                                  OR (due >= 0 AND due < {cutoff}))) AS delinquent
        FROM w_inv GROUP BY ckey
    ) d USING (ckey)""")
    conn.execute(f"""
    INSERT INTO customer_tax_ids BY NAME
    SELECT merchant_id, sid('txi', ckey) AS id, country, ts(created + 120) AS created,
        customer_id AS customer, tax_id_type AS type, {_vat_value()} AS value,
        CASE WHEN tax_id_type IN ('eu_vat', 'gb_vat', 'au_abn')
             THEN (CASE WHEN tax_id_verified THEN 'verified' ELSE 'unverified' END)
             ELSE 'unavailable' END AS verification_status,
        CASE WHEN tax_id_verified AND tax_id_type IN ('eu_vat', 'gb_vat', 'au_abn')
             THEN upper(l_city) END AS verification_verified_address,
        CASE WHEN tax_id_verified AND tax_id_type IN ('eu_vat', 'gb_vat', 'au_abn')
             THEN upper(name) END AS verification_verified_name
    FROM w_cust WHERE has_tax_id""")


def _vat_value() -> str:
    digits = "lpad((hash(ckey, 'vat') % 1000000000000)::VARCHAR, 12, '0')"
    return (
        f"CASE tax_id_type WHEN 'eu_vat' THEN country || "
        f"(CASE country WHEN 'NL' THEN left({digits}, 9) || 'B01' "
        f"WHEN 'FR' THEN left({digits}, 11) WHEN 'IT' THEN left({digits}, 11) "
        f"WHEN 'ES' THEN 'B' || left({digits}, 8) WHEN 'IE' THEN left({digits}, 7) || 'W' "
        f"ELSE left({digits}, 9) END) "
        f"WHEN 'gb_vat' THEN 'GB' || left({digits}, 9) WHEN 'au_abn' THEN left({digits}, 11) "
        f"WHEN 'ca_bn' THEN left({digits}, 9) "
        f"ELSE left({digits}, 2) || '-' || right({digits}, 7) END"
    )


def write_discounts(conn: duckdb.DuckDBPyConnection) -> None:
    """Build w_disc and insert this batch's discounts."""
    conn.execute("""
    CREATE TEMP TABLE w_disc AS
    SELECT s.skey, s.ckey, s.coupon, s.disc_end, s.created, c.merchant_id, c.customer_id,
           co.coupon_id, co.pct, co.amount_off, co.duration,
           sid('di', s.skey) AS discount_id, sid('sub', s.skey) AS subscription_id
    FROM stg_subs s
    JOIN w_cust c USING (ckey)
    JOIN stg_coupons co ON co.acct = s.acct AND co.coupon = s.coupon
         AND co.cur = CASE WHEN co.amount_off IS NULL THEN 0 ELSE s.cur END
    WHERE s.coupon >= 0""")
    conn.execute("""
    INSERT INTO discounts BY NAME
    SELECT merchant_id, discount_id AS id, coupon_id, ts(created) AS created, customer_id,
        CASE WHEN disc_end >= 0 THEN disc_end END AS "end", subscription_id
    FROM w_disc""")


def write_coupons(conn: duckdb.DuckDBPyConnection) -> None:
    """Insert coupons, with redemption counts taken from all discounts (run once, at the end)."""
    conn.execute("""
    INSERT INTO coupons BY NAME
    SELECT a.merchant_id, co.coupon_id AS id, co.amount_off, ts(a.created + 86400) AS created,
        co.currency, co.duration, co.months AS duration_in_months, co.name,
        co.pct AS percent_off, coalesce(r.n, 0) AS times_redeemed, true AS valid
    FROM stg_coupons co JOIN stg_accounts a USING (acct)
    LEFT JOIN (SELECT coupon_id AS id, count(*) AS n FROM discounts GROUP BY ALL) r
           ON r.id = co.coupon_id""")


def write_subscriptions(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Insert subscriptions, subscription_items and subscription_item_change_events."""
    conn.execute(f"""
    INSERT INTO subscriptions BY NAME
    WITH latest AS (
        -- invoice keys are chronological within a subscription, and unique (no ties)
        SELECT skey, arg_max(status, inv) AS inv_status, arg_max(inv_id, inv) AS inv_id,
               arg_max(failed_attempts, inv) AS fails, arg_max(due, inv) AS due
        FROM w_inv WHERE skey >= 0 GROUP BY skey
    ), n_items AS (
        SELECT skey, count(*) AS n, arg_min(price, kind) AS price FROM stg_items GROUP BY skey
    )
    SELECT c.merchant_id, sid('sub', s.skey) AS id, true AS automatic_tax_enabled,
        CASE WHEN s.send THEN 'send_invoice' ELSE 'charge_automatically' END AS billing,
        ts(s.anchor) AS billing_cycle_anchor, 'classic' AS billing_mode_type,
        ts_nullable(s.cancel_at) AS cancel_at,
        (s.cancel_at >= 0 AND s.end_kind IN (0, 1)) AS cancel_at_period_end,
        ts_nullable(s.canceled_at) AS canceled_at,
        CASE WHEN s.end_kind = 3 THEN 'payment_failed'
             WHEN s.canceled_at >= 0 THEN 'cancellation_requested' END
            AS cancellation_details_reason,
        CASE WHEN s.end_kind IN (0, 1) AND s.canceled_at >= 0
             THEN {_lit(list(FEEDBACK))}[s.feedback + 1] END AS cancellation_details_feedback,
        ts(s.created) AS created, ts(s.cpe) AS current_period_end,
        ts(s.cps) AS current_period_start, c.customer_id,
        CASE WHEN s.send THEN 30 END AS days_until_due, c.pm_id AS default_payment_method_id,
        d.coupon_id AS discount_coupon_id, d.customer_id AS discount_customer_id,
        ts_nullable(d.disc_end) AS discount_end, ts_nullable(d.created) AS discount_start,
        d.subscription_id AS discount_subscription, d.discount_id AS discounts,
        ts_nullable(s.ended_at) AS ended_at, l.inv_id AS latest_invoice_id,
        CASE WHEN ni.n = 1 THEN sid('price', 5000 + ni.price) END AS plan_id,
        CASE WHEN ni.n = 1 THEN sid('price', 5000 + ni.price) END AS price_id,
        'create_prorations' AS proration_discounts,
        CASE WHEN ni.n = 1 THEN 1 END AS quantity,
        ts(s.last_change) AS start, ts(s.created) AS start_date,
        CASE WHEN s.status = 0 AND l.inv_status = 'open'
                  AND (l.fails > 0 OR (l.due >= 0 AND l.due < {cutoff})) THEN 'past_due'
             ELSE {_lit(list(SUB_STATUS))}[s.status + 1] END AS status,
        ts_nullable(s.trial_end) AS trial_end, ts_nullable(s.trial_start) AS trial_start
    FROM stg_subs s
    JOIN w_cust c USING (ckey)
    LEFT JOIN w_disc d USING (skey)
    LEFT JOIN latest l USING (skey)
    LEFT JOIN n_items ni USING (skey)""")
    conn.execute("""
    INSERT INTO subscription_items BY NAME
    SELECT c.merchant_id, sid('si', i.item) AS id, i.created AS created,
        CASE WHEN d.skey IS NOT NULL AND i.kind = 0 THEN d.discount_id END AS discounts,
        p.unit AS plan_amount, ts(p.created) AS plan_created, p.currency AS plan_currency,
        p.price_id AS plan_id, p.interval AS plan_interval, 1 AS plan_interval_count,
        p.nickname AS plan_nickname, p.product_id AS plan_product_id,
        p.trial_days AS plan_trial_period_days, ts(p.created) AS price_created,
        p.currency AS price_currency, p.price_id, p.nickname AS price_nickname,
        p.product_id AS price_product_id, p.interval AS price_recurring_interval,
        1 AS price_recurring_interval_count, p.trial_days AS price_recurring_trial_period_days,
        p.unit AS price_unit_amount, CASE WHEN i.kind = 2 THEN NULL ELSE i.qty END AS quantity,
        sid('sub', i.skey) AS subscription, sid('sub', i.skey) AS subscription_id
    FROM stg_items i
    JOIN stg_subs s USING (skey)
    JOIN w_cust c USING (ckey)
    JOIN w_price p ON p.pidx = i.price
    LEFT JOIN w_disc d ON d.skey = i.skey""")
    conn.execute(f"""
    INSERT INTO subscription_item_change_events BY NAME
    SELECT c.merchant_id, c.cur AS currency, c.customer_id, ts(e.ts) AS event_timestamp,
        {_lit(list(EVENT_TYPES))}[e.etype + 1] AS event_type,
        local_ts(c.tz, e.ts) AS local_event_timestamp, e.mrr AS mrr_change,
        p.price_id, p.product_id, e.dq AS quantity_change,
        sid('sub', e.skey) AS subscription_id, sid('si', e.item) AS subscription_item_id
    FROM stg_events e
    JOIN stg_subs s USING (skey)
    JOIN w_cust c USING (ckey)
    JOIN w_price p ON p.pidx = e.price
    WHERE e.ts < {cutoff}""")


def price_work(conn: duckdb.DuckDBPyConnection) -> None:
    """w_price: price index -> ids and attributes used by fact tables."""
    conn.execute("""
    CREATE TEMP TABLE w_price AS
    SELECT p.pidx, p.acct, p.product, p.annual, p.currency, p.unit, p.nickname, p.kind,
        sid('price', 5000 + p.pidx) AS price_id, sid('prod', 1000 + p.acct * 7 + p.product)
            AS product_id,
        a.created + 3600 * (p.product + 1) + 60 * (p.annual + 1) AS created,
        CASE WHEN p.kind = 'recurring' THEN (CASE WHEN p.annual = 1 THEN 'year' ELSE 'month'
             END) END AS interval,
        CASE WHEN p.kind = 'recurring' AND p.product BETWEEN 1 AND 3 THEN 14 END AS trial_days,
        pr.name AS product_name
    FROM stg_prices p JOIN stg_accounts a USING (acct)
    JOIN stg_products pr ON pr.acct = p.acct AND pr.product = p.product""")
