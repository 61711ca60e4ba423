"""Customers of one batch: account, signup time, geography, tax status, payment method (numpy)."""

from __future__ import annotations

import numpy as np

from data import _gen_config as cfg
from data._gen_util import DAY, categorical

COUNTRIES: tuple[str, ...] = tuple(cfg.COUNTRY_NAMES)
# Flattened (country, state, city, postal) location table; customers hold an index into it.
LOCATIONS: tuple[tuple[str, str | None, str, str], ...] = tuple(
    (country, state, city, postal)
    for (country, state), cities in cfg.CITIES.items()
    for city, postal in cities
)


def _location_sampler(country: str) -> tuple[np.ndarray, np.ndarray]:
    """Location indices and weights for one country (state weight split evenly over cities)."""
    idx, w = [], []
    states = cfg.STATES.get(country, ((None, 1.0),))
    for state, sw in states:
        locs = [i for i, loc in enumerate(LOCATIONS) if loc[0] == country and loc[1] == state]
        for i in locs:
            idx.append(i)
            # the first city of a state is the big one
            w.append(sw * (2.0 if i == locs[0] else 1.0) / (len(locs) + 1.0))
    return np.asarray(idx), np.asarray(w)


_SAMPLERS = {c: _location_sampler(c) for c in COUNTRIES}


def signup_times(
    rng: np.random.Generator, n: int, start: int, cutoff: int, growth: float
) -> np.ndarray:
    """Signup instants: exponential growth, yearly seasonality (Jan high, Aug/Dec low), weekdays."""
    days = np.arange(start // DAY, cutoff // DAY, dtype=np.int64)
    t_years = (days - days[0]) / 365.25
    doy = (days * DAY).astype("datetime64[s]").astype("datetime64[D]")
    month = (doy.astype("datetime64[M]").astype(np.int64) % 12) + 1
    weekday = (days + 3) % 7  # 0 = Monday
    season = 1.0 + 0.18 * np.cos(2 * np.pi * (month - 1.5) / 12) - 0.12 * (month == 12)
    season -= 0.08 * (month == 8)
    w = np.exp(growth * t_years) * season * np.where(weekday >= 5, 0.55, 1.0)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    day = days[np.searchsorted(cdf, rng.random(n), side="right")]
    # business hours are busier: mix of uniform and a 13:00-21:00 UTC bump
    sec = np.where(
        rng.random(n) < 0.6, rng.integers(13 * 3600, 21 * 3600, n), rng.integers(0, DAY, n)
    )
    return np.minimum(day * DAY + sec, cutoff - 1)


def generate_customers(
    rng: np.random.Generator, acct: np.ndarray, start: int, cutoff: int, key0: int
) -> dict[str, np.ndarray]:
    """Draw the customers of one batch; `acct` holds each customer's account index."""
    n = len(acct)
    created = np.zeros(n, dtype=np.int64)
    country = np.zeros(n, dtype=np.int64)
    for a, account in enumerate(cfg.ACCOUNTS):
        m = acct == a
        k = int(m.sum())
        created[m] = signup_times(rng, k, start, cutoff, account.growth)
        mix = cfg.COUNTRY_MIX[a]
        names = list(mix)
        country[m] = np.asarray([COUNTRIES.index(c) for c in names])[
            categorical(rng, k, list(mix.values()))
        ]
    loc = np.zeros(n, dtype=np.int64)
    for ci, c in enumerate(COUNTRIES):
        m = country == ci
        if m.any():
            idx, w = _SAMPLERS[c]
            loc[m] = idx[categorical(rng, int(m.sum()), w)]

    cc = np.asarray(COUNTRIES)[country]
    is_us = cc == "US"
    is_eu = np.isin(cc, cfg.EU)
    is_gb = cc == "GB"
    merchant_country = np.asarray([a.country for a in cfg.ACCOUNTS])[acct]
    business = rng.random(n) < np.where(acct == 0, 0.42, 0.50)
    exempt = is_us & business & (rng.random(n) < 0.07)
    has_tax_id = business & np.isin(cc, (*cfg.EU, "GB", "AU", "CA")) & (rng.random(n) < 0.8)
    has_tax_id |= is_us & business & ~exempt & (rng.random(n) < 0.15)
    verified = has_tax_id & (rng.random(n) < 0.92)
    reverse = verified & (is_eu | is_gb) & (cc != merchant_country)
    send_invoice = business & (rng.random(n) < 0.22)

    u = rng.random(n)
    pm = np.zeros(n, dtype=np.int64)  # card
    pm[is_eu & (u < 0.22)] = 1
    pm[is_us & business & (u < 0.18)] = 2
    pm[is_gb & (u < 0.15)] = 3
    brand = categorical(rng, n, (0.55, 0.28, 0.12, 0.05))
    brand[(brand == 3) & ~is_us] = 0  # Discover is (almost) US-only
    card_foreign = rng.random(n) < 0.08

    hostile = np.zeros(n, dtype=np.int64)
    if n >= 40:
        picks = rng.choice(n, size=len(cfg.HOSTILE_NAMES) + 1, replace=False)
        hostile[picks] = np.arange(1, len(picks) + 1)

    return {
        "ckey": key0 + np.arange(n, dtype=np.int64),
        "acct": acct.astype(np.int64),
        "created": created,
        "country": cc,
        "loc": loc,
        "business": business,
        "exempt": exempt,
        "reverse": reverse,
        "has_tax_id": has_tax_id,
        "tax_id_verified": verified,
        "send_invoice": send_invoice,
        "pm": pm,
        "brand": brand,
        "card_foreign": card_foreign,
        "first_i": rng.integers(0, len(cfg.FIRST_NAMES), n),
        "last_i": rng.integers(0, len(cfg.LAST_NAMES), n),
        "word_a": rng.integers(0, len(cfg.COMPANY_WORDS_A), n),
        "word_b": rng.integers(0, len(cfg.COMPANY_WORDS_B), n),
        "street_i": rng.integers(0, len(cfg.STREETS), n),
        "street_no": rng.integers(1, 400, n),
        "hostile": hostile,
    }
