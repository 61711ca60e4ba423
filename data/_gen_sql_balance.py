"""SQL step 4: balance transactions, fee details, and automatic payouts (transfers).

Every money movement is one balance transaction in the charge's currency (multi-currency
settlement). Payouts run per (account, currency), daily or weekly (Mondays): a payout on day D
sweeps every unpaid transaction available by D 00:00 UTC; when that sum is not positive no payout
is made and the negative balance is carried to the next payout day.
"""

from __future__ import annotations

import duckdb

from data._gen_util import DAY

BT_KEY = 10_000_000_000_000  # key = kind * BT_KEY + source key
BT_CHARGE, BT_REFUND, BT_REFUND_FAILURE, BT_DISPUTE, BT_DISPUTE_REVERSAL, BT_FEE, BT_PAYOUT = range(
    1, 8
)
PAYOUT_HOUR = 6


def _append(conn: duckdb.DuckDBPyConnection, table: str, select: str) -> None:
    """Append a SELECT to a temp accumulator table that lives across customer batches."""
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]
    ).fetchone()[0]
    if exists:
        conn.execute(f"INSERT INTO {table} {select}")
    else:
        conn.execute(f"CREATE TEMP TABLE {table} AS {select}")


def balance_rows(conn: duckdb.DuckDBPyConnection) -> None:
    """Append this batch's balance transactions to w_bt and billing volume to w_fee_volume.

    Fee details depend only on this batch, so they are written straight to their table.
    """
    k = BT_KEY
    ceil_day = f"(({{x}} + {DAY} - 1) // {DAY}) * {DAY}"
    _append(
        conn,
        "w_bt",
        f"""
    SELECT {BT_CHARGE} * {k} + charge AS bt, acct, merchant_id, cur, ts AS created,
        (ts // {DAY}) * {DAY} + CASE WHEN pm_type = 'card' THEN 2 ELSE 4 END * {DAY}
            AS available_on,
        amount, fee_base + fee_extra AS fee, 'charge' AS type, 'charge' AS category,
        charge_id AS source_id,
        CASE billing_reason WHEN 'subscription_create' THEN 'Subscription creation'
             WHEN 'subscription_update' THEN 'Subscription update'
             ELSE 'Payment for Invoice' END AS description
    FROM w_charges WHERE ok
    UNION ALL
    SELECT {BT_REFUND} * {k} + charge, acct, merchant_id, cur, created,
        {ceil_day.format(x="created")}, -amount, 0, 'refund', 'refund', sid('re', charge),
        'REFUND FOR CHARGE (' || reason || ')'
    FROM w_refunds
    UNION ALL
    SELECT {BT_REFUND_FAILURE} * {k} + charge, acct, merchant_id, cur, created + 2 * {DAY},
        {ceil_day.format(x=f"created + 2 * {DAY}")}, amount, 0, 'refund_failure',
        'refund_failure', sid('re', charge), 'REFUND FAILURE'
    FROM w_refunds WHERE status = 'failed'
    UNION ALL
    SELECT {BT_DISPUTE} * {k} + charge, acct, merchant_id, cur, created,
        {ceil_day.format(x="created")}, -amount, 1500, 'adjustment', 'dispute', dispute_id,
        'Chargeback withdrawal for ' || charge_id
    FROM w_disputes WHERE NOT inquiry
    UNION ALL
    SELECT {BT_DISPUTE_REVERSAL} * {k} + charge, acct, merchant_id, cur, resolved_at,
        {ceil_day.format(x="resolved_at")}, amount, CASE WHEN acct = 0 THEN 0 ELSE -1500 END,
        'adjustment', 'dispute_reversal', dispute_id, 'Chargeback reversal for ' || charge_id
    FROM w_disputes WHERE NOT inquiry AND status = 'won'""",
    )
    _append(
        conn,
        "w_fee_volume",
        """
    SELECT acct, merchant_id, cur, date_trunc('month', ts(paid_at)) AS month, sum(total) AS volume
    FROM w_inv WHERE status = 'paid' GROUP BY ALL""",
    )
    conn.execute(f"""
    INSERT INTO balance_transaction_fee_details BY NAME
    SELECT merchant_id, sid('fd', bt * 4 + part) AS id, amount,
        sid('txn', bt) AS balance_transaction_id, cur AS currency, description,
        'stripe_fee' AS type
    FROM (
        SELECT {BT_CHARGE} * {k} + charge AS bt, 1 AS part, merchant_id, cur, fee_base AS amount,
            'Stripe processing fees' AS description
        FROM w_charges WHERE ok AND fee_base <> 0
        UNION ALL
        SELECT {BT_CHARGE} * {k} + charge, 2, merchant_id, cur, fee_extra,
            'International card fee'
        FROM w_charges WHERE ok AND fee_extra <> 0
        UNION ALL
        SELECT {BT_DISPUTE} * {k} + charge, 1, merchant_id, cur, 1500, 'Dispute fee'
        FROM w_disputes WHERE NOT inquiry
        UNION ALL
        SELECT {BT_DISPUTE_REVERSAL} * {k} + charge, 1, merchant_id, cur, -1500,
            'Dispute fee refund'
        FROM w_disputes WHERE NOT inquiry AND status = 'won' AND acct <> 0
    )""")


def billing_fees(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Add one Stripe Billing usage-fee transaction per account, currency and month (0.7%)."""
    ceil_day = f"((fee_at + {DAY} - 1) // {DAY}) * {DAY}"
    _append(
        conn,
        "w_bt",
        f"""
    SELECT {BT_FEE} * {BT_KEY} + (acct * 10 + cur_i) * 100000 + year(month) * 12 + month(month),
        acct, merchant_id, cur, fee_at, {ceil_day}, -half_up(volume * 70, 10000), 0,
        'stripe_fee', 'fee', NULL, 'Billing - Usage Fee (' || strftime(month, '%b %Y') || ')'
    FROM (
        SELECT acct, merchant_id, cur, month, sum(volume) AS volume,
            list_position(['usd', 'eur', 'gbp', 'cad', 'aud'], cur) AS cur_i,
            epoch(month + INTERVAL 1 MONTH)::BIGINT + 4 * 3600 AS fee_at
        FROM w_fee_volume GROUP BY ALL
    )
    WHERE fee_at < {cutoff} AND half_up(volume * 70, 10000) > 0""",
    )


def payouts(conn: duckdb.DuckDBPyConnection, start: int, cutoff: int) -> None:
    """Schedule automatic payouts (Lindley carry of negative balances) and tag swept BTs."""
    first_day = start // DAY + 1
    last_day = cutoff // DAY - 2  # a payout on D arrives D + 1, which must be <= end
    # next payout day on or after the day funds become available
    conn.execute(f"""
    CREATE TEMP TABLE w_bt_day AS
    SELECT b.* EXCLUDE (pday), CASE WHEN pday <= {last_day} THEN pday END AS pday
    FROM (
        SELECT b.*, a.weekly,
            CASE WHEN a.weekly
                 THEN greatest(d0 + (7 - (d0 + 3) % 7) % 7,
                               {first_day} + (7 - ({first_day} + 3) % 7) % 7)
                 ELSE greatest(d0, {first_day}) END AS pday
        FROM (SELECT *, available_on // {DAY} AS d0 FROM w_bt) b
        JOIN stg_accounts a USING (acct)
    ) b""")
    conn.execute("""
    CREATE TEMP TABLE w_payout_days AS
    WITH buckets AS (
        SELECT acct, merchant_id, cur, pday, sum(amount - fee) AS b
        FROM w_bt_day WHERE pday IS NOT NULL GROUP BY ALL
    ), s AS (
        SELECT *, sum(b) OVER w AS running,
            greatest(0, coalesce(max(running0) OVER w_prev, 0)) AS prev_max
        FROM (SELECT *, sum(b) OVER (PARTITION BY acct, cur ORDER BY pday
                                     ROWS UNBOUNDED PRECEDING) AS running0 FROM buckets)
        WINDOW w AS (PARTITION BY acct, cur ORDER BY pday ROWS UNBOUNDED PRECEDING),
               w_prev AS (PARTITION BY acct, cur ORDER BY pday
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    )
    SELECT *, CASE WHEN running > prev_max THEN running - prev_max END AS payout_amount,
        (acct * 10 + list_position(['usd', 'eur', 'gbp', 'cad', 'aud'], cur)) * 1000000 + pday
            AS po_key
    FROM s""")
    conn.execute("""
    CREATE TEMP TABLE w_bucket_payout AS
    SELECT acct, cur, pday,
        min(CASE WHEN payout_amount IS NOT NULL THEN po_key END) OVER (
            PARTITION BY acct, cur ORDER BY pday DESC ROWS UNBOUNDED PRECEDING) AS po_key
    FROM w_payout_days""")
    hour = PAYOUT_HOUR * 3600
    conn.execute(f"""
    CREATE TEMP TABLE w_payouts AS
    SELECT p.*, sid('po', po_key) AS payout_id,
        pday * {DAY} + {hour} + acct * 600 + list_position(['usd', 'eur', 'gbp', 'cad', 'aud'],
                                                           cur) * 60 AS created
    FROM w_payout_days p WHERE payout_amount IS NOT NULL""")


def write_balance(conn: duckdb.DuckDBPyConnection, cutoff: int) -> None:
    """Insert balance_transactions (with payout ids) and transfers."""
    conn.execute(f"""
    INSERT INTO balance_transactions BY NAME
    SELECT b.merchant_id, sid('txn', b.bt) AS id, b.amount,
        CASE WHEN bp.po_key IS NOT NULL THEN sid('po', bp.po_key) END AS automatic_transfer_id,
        ts(b.available_on) AS available_on, ts(b.created) AS created, b.cur AS currency,
        b.description, b.fee, b.amount - b.fee AS net, b.category AS reporting_category,
        b.source_id, CASE WHEN b.available_on < {cutoff} THEN 'available' ELSE 'pending' END
            AS status, b.type
    FROM w_bt_day b
    LEFT JOIN w_bucket_payout bp USING (acct, cur, pday)
    UNION ALL
    SELECT merchant_id, sid('txn', {BT_PAYOUT} * {BT_KEY} + po_key), -payout_amount,
        payout_id, ts(created), ts(created), cur, 'STRIPE PAYOUT', 0, -payout_amount, 'payout',
        payout_id, 'available', 'payout'
    FROM w_payouts""")
    conn.execute(f"""
    INSERT INTO transfers BY NAME
    SELECT merchant_id, payout_id AS id, payout_amount AS amount, 0 AS amount_reversed,
        true AS automatic, sid('txn', {BT_PAYOUT} * {BT_KEY} + po_key) AS balance_transaction_id,
        ts(created) AS created, cur AS currency, ts((pday + 1) * {DAY}) AS date,
        'STRIPE PAYOUT' AS description,
        sid('ba', acct * 10 + list_position(['usd', 'eur', 'gbp', 'cad', 'aud'], cur))
            AS destination_id,
        false AS reversed, 'card' AS source_type, 'paid' AS status,
        'supported' AS trace_id_status, 'bank_account' AS type
    FROM w_payouts""")
