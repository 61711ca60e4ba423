"""Dimension tables: accounts, products, prices, coupons, tax rates and rules, exchange rates."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from data import _gen_config as cfg
from data._gen_customers import LOCATIONS
from data._gen_util import DAY, Staging

NONE, EXEMPT, REVERSE = range(3)  # customer tax status codes


@dataclass(frozen=True)
class TaxRule:
    """One jurisdiction line applied to a (merchant, location, tax status) profile."""

    country: str
    state: str | None
    name: str
    level: str
    tax_type: str | None
    reason: str
    rate: int  # milli-percent; 0 for non-taxable rows

    @property
    def taxable(self) -> bool:
        """Whether tax is collected for this jurisdiction."""
        return self.rate > 0


def _rules(acct: int, country: str, state: str | None, city: str, status: int) -> list[TaxRule]:
    cname = cfg.COUNTRY_NAMES[country]
    us_state = (
        ("US", state, cfg.US_STATE_NAMES.get(state or "", state or ""), "state")
        if country == "US"
        else None
    )
    home = us_state or (country, None, cname, "country")

    def non(reason: str, tax_type: str | None) -> list[TaxRule]:
        return [TaxRule(home[0], home[1], home[2], home[3], tax_type, reason, 0)]

    if status == EXEMPT:
        return non("customer_exempt", "sales_tax" if country == "US" else "vat")
    if status == REVERSE:
        return non("reverse_charge", "vat")
    if country == "US":
        if not cfg.COLLECTS_US[acct] or state in cfg.US_NOT_COLLECTING:
            return non("not_collecting", None)
        if state in cfg.US_NOT_SUBJECT or state not in cfg.US_SALES_TAX:
            return non("not_subject_to_tax", "sales_tax")
        rate, locals_ = cfg.US_SALES_TAX[state]
        out = [TaxRule("US", state, cfg.US_STATE_NAMES[state], "state", "sales_tax",
                       "standard_rated", rate)]  # fmt: skip
        out += [
            TaxRule("US", state, name, level, "sales_tax", "standard_rated", r)
            for c, level, name, r in locals_
            if c == city
        ]
        return out
    if country in cfg.VAT_RATES:
        return [TaxRule(country, None, cname, "country", "vat", "standard_rated",
                        cfg.VAT_RATES[country])]  # fmt: skip
    if country in ("CA", "AU"):
        if not cfg.COLLECTS_CA_AU[acct]:
            return non("not_collecting", None)
        if country == "AU":
            return [TaxRule("AU", None, "Australia", "country", "gst", "standard_rated", 10000)]
        gst = TaxRule("CA", None, "Canada", "country", "gst", "standard_rated", 5000)
        prov = cfg.CA_PROVINCE_NAMES[state or "ON"]
        if state == "ON":
            return [TaxRule("CA", "ON", prov, "state", "hst", "standard_rated", 13000)]
        if state == "QC":
            return [gst, TaxRule("CA", "QC", prov, "state", "qst", "standard_rated", 9975)]
        if state == "BC":
            return [gst, TaxRule("CA", "BC", prov, "state", "pst", "standard_rated", 7000)]
        return [gst]
    return non("not_collecting", None)


_DISPLAY = {"sales_tax": "Sales Tax", "vat": "VAT", "gst": "GST", "hst": "HST", "qst": "QST",
            "pst": "PST"}  # fmt: skip


def load_dimensions(conn: duckdb.DuckDBPyConnection, st: Staging, config: cfg.GenConfig) -> None:
    """Create accounts, products, prices, coupons, tax_rates, FX and the small staging lookups."""
    start = config.start
    # ---- accounts -------------------------------------------------------------------------
    st.append("stg_accounts", {
        "acct": np.arange(len(cfg.ACCOUNTS)),
        "merchant_id": [a.id for a in cfg.ACCOUNTS],
        "name": [a.name for a in cfg.ACCOUNTS],
        "country": [a.country for a in cfg.ACCOUNTS],
        "currency": [a.currency for a in cfg.ACCOUNTS],
        "tz": [a.tz for a in cfg.ACCOUNTS],
        "created": [start - a.created_days_before_start * DAY for a in cfg.ACCOUNTS],
        "weekly": [a.payout_weekly for a in cfg.ACCOUNTS],
    })  # fmt: skip
    conn.execute("""
        INSERT INTO accounts BY NAME
        SELECT merchant_id, merchant_id AS id, name AS business_profile_name, country,
               currency AS default_currency, tz AS settings_dashboard_timezone,
               ts(created) AS created
        FROM stg_accounts""")

    # ---- products and prices --------------------------------------------------------------
    rows: dict[str, list] = {k: [] for k in ("acct", "product", "pkey", "code", "name", "desc",
                                             "unit_label")}  # fmt: skip
    prices: dict[str, list] = {k: [] for k in ("pidx", "acct", "product", "annual", "currency",
                                               "unit", "nickname", "kind", "usage")}  # fmt: skip
    for a in range(len(cfg.ACCOUNTS)):
        for p, (code, name, label) in enumerate(cfg.PRODUCTS):
            rows["acct"].append(a)
            rows["product"].append(p)
            rows["pkey"].append(a * cfg.N_PRODUCTS + p)
            rows["code"].append(code)
            rows["name"].append(name)
            rows["desc"].append(cfg.PRODUCT_DESCRIPTIONS[p])
            rows["unit_label"].append(label)
            for annual in (0, 1):
                if not cfg.price_exists(p, annual):
                    continue
                for ci, cur in enumerate(cfg.CURRENCIES):
                    prices["pidx"].append(cfg.price_index(a, p, annual, ci))
                    prices["acct"].append(a)
                    prices["product"].append(p)
                    prices["annual"].append(annual)
                    prices["currency"].append(cur)
                    prices["unit"].append(cfg.unit_amount(p, annual, ci))
                    if p == cfg.FREE:
                        nick = "Free"
                    elif p == cfg.USAGE:
                        nick = "API usage (metered)"
                    elif p == cfg.ONBOARDING:
                        nick = "Onboarding"
                    elif p == cfg.SEATS:
                        nick = "Seats " + ("annual" if annual else "monthly")
                    else:
                        nick = f"{name} " + ("annual" if annual else "monthly")
                    prices["nickname"].append(nick)
                    prices["kind"].append("one_time" if p == cfg.ONBOARDING else "recurring")
                    prices["usage"].append("metered" if p == cfg.USAGE else "licensed")
    st.append("stg_products", {k: np.asarray(v, dtype=object if k in ("code", "name", "desc",
              "unit_label") else None) for k, v in rows.items()})  # fmt: skip
    st.append("stg_prices", {k: np.asarray(v, dtype=object if k in ("currency", "nickname",
              "kind", "usage") else None) for k, v in prices.items()})  # fmt: skip
    conn.execute("""
        INSERT INTO products BY NAME
        SELECT a.merchant_id, sid('prod', 1000 + p.pkey) AS id, true AS active,
               ts(a.created + 3600 * (p.product + 1)) AS created, p.desc AS description,
               p.name, false AS shippable, upper(left(a.name, 10)) AS statement_descriptor,
               'service' AS type, p.unit_label
        FROM stg_products p JOIN stg_accounts a USING (acct)""")
    conn.execute("""
        INSERT INTO prices BY NAME
        SELECT a.merchant_id, sid('price', 5000 + p.pidx) AS id, true AS active,
               'per_unit' AS billing_scheme,
               ts(a.created + 3600 * (p.product + 1) + 60 * (p.annual + 1)) AS created,
               p.currency,
               lower(replace(p.nickname, ' ', '_')) || '_' || p.currency AS lookup_key,
               p.nickname, sid('prod', 1000 + p.acct * 7 + p.product) AS product_id,
               CASE WHEN p.usage = 'metered' THEN 'sum' END AS recurring_aggregate_usage,
               CASE WHEN p.kind = 'recurring' THEN (CASE WHEN p.annual = 1 THEN 'year'
                    ELSE 'month' END) END AS recurring_interval,
               CASE WHEN p.kind = 'recurring' THEN 1 END AS recurring_interval_count,
               CASE WHEN p.kind = 'recurring' AND p.product BETWEEN 1 AND 3 THEN 14 END
                   AS recurring_trial_period_days,
               CASE WHEN p.kind = 'recurring' THEN p.usage END AS recurring_usage_type,
               'exclusive' AS tax_behavior, p.kind AS type, p.unit AS unit_amount,
               p.unit::VARCHAR AS unit_amount_decimal
        FROM stg_prices p JOIN stg_accounts a USING (acct)""")

    # ---- coupons --------------------------------------------------------------------------
    crow: dict[str, list] = {k: [] for k in ("acct", "coupon", "code", "name", "pct", "amounts",
                                             "duration", "months")}  # fmt: skip
    for a in range(len(cfg.ACCOUNTS)):
        for i, (code, name, pct, amounts, duration, months) in enumerate(cfg.COUPONS):
            crow["acct"].append(a)
            crow["coupon"].append(i)
            crow["code"].append(code)
            crow["name"].append(name)
            crow["pct"].append(pct)
            crow["amounts"].append(list(amounts) if amounts else None)
            crow["duration"].append(duration)
            crow["months"].append(months)
    conn.register("_c", pa.table({
        "acct": pa.array(crow["acct"], pa.int64()), "coupon": pa.array(crow["coupon"], pa.int64()),
        "code": crow["code"], "name": crow["name"], "pct": pa.array(crow["pct"], pa.float64()),
        "amounts": pa.array(crow["amounts"], pa.list_(pa.int64())),
        "duration": crow["duration"], "months": pa.array(crow["months"], pa.int64()),
    }))  # fmt: skip
    # amount-off coupons exist once per currency; percent coupons once per account
    conn.execute(f"""
        CREATE TEMP TABLE stg_coupons AS
        SELECT c.acct, c.coupon, cu.ci AS cur,
               c.code || CASE WHEN c.amounts IS NULL THEN '' ELSE '_' || upper(cu.currency) END
                   || '_' || lpad((c.acct + 1)::VARCHAR, 2, '0') AS coupon_id,
               c.name, c.pct, CASE WHEN c.amounts IS NULL THEN NULL ELSE c.amounts[cu.ci + 1]
               END AS amount_off, CASE WHEN c.amounts IS NULL THEN NULL ELSE cu.currency END
               AS currency, c.duration, c.months
        FROM _c c
        JOIN (SELECT unnest(range({cfg.N_CUR})) AS ci,
                     unnest({list(cfg.CURRENCIES)!r}) AS currency) cu
          ON c.amounts IS NOT NULL OR cu.ci = 0""")
    conn.unregister("_c")

    # ---- tax rules and tax rates ----------------------------------------------------------
    rate_keys: dict[tuple, int] = {}
    rr: dict[str, list] = {k: [] for k in ("acct", "loc", "status", "seq", "rate_key",
                                           "j_country", "j_state", "j_name", "j_level",
                                           "tax_type", "taxable", "reason", "rate",
                                           "filing_currency")}  # fmt: skip
    for a in range(len(cfg.ACCOUNTS)):
        for li, (country, state, city, _postal) in enumerate(LOCATIONS):
            for status in (NONE, EXEMPT, REVERSE):
                for seq, r in enumerate(_rules(a, country, state, city, status)):
                    key = -1
                    if r.taxable:
                        ident = (a, r.country, r.state, r.name, r.level, r.tax_type, r.rate)
                        key = rate_keys.setdefault(ident, len(rate_keys))
                    for k, v in (
                        ("acct", a),
                        ("loc", li),
                        ("status", status),
                        ("seq", seq),
                        ("rate_key", key),
                        ("j_country", r.country),
                        ("j_state", r.state),
                        ("j_name", r.name),
                        ("j_level", r.level),
                        ("tax_type", r.tax_type),
                        ("taxable", r.taxable),
                        ("reason", r.reason),
                        ("rate", r.rate),
                        ("filing_currency", cfg.FILING_CURRENCY.get(r.country)),
                    ):
                        rr[k].append(v)  # fmt: skip
    st.append("stg_tax_rules", {k: np.asarray(v, dtype=object) if k in (
        "j_country", "j_state", "j_name", "j_level", "tax_type", "reason", "filing_currency")
        else np.asarray(v) for k, v in rr.items()})  # fmt: skip
    conn.execute("""
        INSERT INTO tax_rates BY NAME
        SELECT a.merchant_id, sid('txr', 3000 + r.rate_key) AS id, true AS active,
               r.j_country AS country, ts(a.created + 86400) AS created,
               r.j_name || ' ' || CASE r.tax_type WHEN 'sales_tax' THEN 'sales tax'
                   ELSE upper(r.tax_type) END AS description,
               CASE r.tax_type WHEN 'sales_tax' THEN 'Sales Tax' WHEN 'vat' THEN 'VAT'
                   ELSE upper(r.tax_type) END AS display_name,
               r.rate / 1000.0 AS effective_percentage, false AS inclusive,
               CASE WHEN r.j_level = 'country' THEN r.j_country
                    WHEN r.j_level = 'state' THEN r.j_country || '-' || r.j_state
                    ELSE r.j_name END AS jurisdiction,
               r.j_level AS jurisdiction_level, r.rate / 1000.0 AS percentage,
               r.j_state AS state, r.tax_type
        FROM (SELECT DISTINCT acct, rate_key, j_country, j_state, j_name, j_level, tax_type, rate
              FROM stg_tax_rules WHERE rate_key >= 0) r
        JOIN stg_accounts a USING (acct)""")

    # ---- locations ------------------------------------------------------------------------
    st.append("stg_locations", {
        "loc": np.arange(len(LOCATIONS)),
        "l_country": np.asarray([x[0] for x in LOCATIONS], dtype=object),
        "l_state": np.asarray([x[1] for x in LOCATIONS], dtype=object),
        "l_city": np.asarray([x[2] for x in LOCATIONS], dtype=object),
        "l_postal": np.asarray([x[3] for x in LOCATIONS], dtype=object),
    })  # fmt: skip

    _exchange_rates(conn, config)


_FX_BASE = {"eur": 0.92, "gbp": 0.79, "cad": 1.36, "aud": 1.52, "chf": 0.89, "sgd": 1.34,
            "jpy": 149.5}  # fmt: skip


def _exchange_rates(conn: duckdb.DuckDBPyConnection, config: cfg.GenConfig) -> None:
    """Daily USD->X rates: a mean-reverting random walk in log space, same for every merchant."""
    rng = np.random.Generator(np.random.PCG64([config.seed, 0xF0F0]))
    first = config.start // DAY - 7
    last = config.cutoff // DAY - 1
    days = np.arange(first, last + 1)
    cols = {}
    for cur, base in _FX_BASE.items():
        shocks = rng.normal(0.0, 0.0035, len(days))
        x = np.zeros(len(days))
        for i in range(1, len(days)):  # loop over days (≈1,100), not over facts
            x[i] = 0.995 * x[i - 1] + shocks[i]
        cols[cur] = base * np.exp(x)
    payload = [
        "{" + ",".join(['"usd":1.0'] + [f'"{c}":{cols[c][i]:.6f}' for c in _FX_BASE]) + "}"
        for i in range(len(days))
    ]
    conn.register("_fx", pa.table({"day": days, "rates": payload}))
    conn.execute("""
        INSERT INTO exchange_rates_from_usd BY NAME
        SELECT a.merchant_id, f.rates AS buy_currency_exchange_rates, ts(f.day * 86400) AS date,
               'usd' AS sell_currency
        FROM _fx f CROSS JOIN stg_accounts a""")
    conn.unregister("_fx")
