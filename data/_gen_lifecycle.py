"""Subscription lifecycle simulation, vectorised over subscriptions and looped over billing periods.

Each loop iteration handles the next billing period of every live subscription at once: renewal
changes (cancellations, downgrades, interval switches, seat decreases, free-to-paid conversions)
take effect at the period start, the period is invoiced, its payment outcome is drawn, and at most
one mid-period change (upgrade, seat increase, seat add-on) is prorated. The whole future timeline
is simulated and then observed at the cutoff (end + 1 day): nothing at or after it is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data import _gen_config as cfg
from data._gen_payments import FINALIZE_DELAY, draw_payments, payment_attempts
from data._gen_util import DAY, HOUR, add_months, categorical

# MRR ledger event codes (index into EVENT_TYPES)
EVENT_TYPES = (
    "ACTIVE_START",
    "ACTIVE_END",
    "ACTIVE_UPGRADE",
    "ACTIVE_DOWNGRADE",
    "ACTIVE_QUANTITY_INCREASE",
    "ACTIVE_QUANTITY_DECREASE",
)
E_START, E_END, E_UP, E_DOWN, E_QINC, E_QDEC = range(6)
BILLING_REASONS = ("subscription_create", "subscription_cycle", "subscription_update", "manual")
R_CREATE, R_CYCLE, R_UPDATE, R_MANUAL = range(4)
K_PERIOD, K_PRORATION, K_ONBOARDING = range(3)  # invoice kinds
L_PLAN, L_SEATS, L_USAGE, L_ONBOARDING = range(4)  # invoice line kinds
ITEM_PLAN, ITEM_SEATS, ITEM_USAGE = range(3)
SUB_STATUS = ("active", "trialing", "canceled", "unpaid")
ST_ACTIVE, ST_TRIALING, ST_CANCELED, ST_UNPAID = range(4)
END_NONE, END_CANCEL, END_TRIAL, END_PAYMENT = range(4)
FEEDBACK = (
    "too_expensive", "missing_features", "switched_service", "unused", "customer_service",
    "too_complex", "low_quality", "other",
)  # fmt: skip

N_PRICES = len(cfg.ACCOUNTS) * cfg.N_PRODUCTS * 2 * cfg.N_CUR
PRICE_UNIT = np.zeros(N_PRICES, dtype=np.int64)
PRICE_MRR = np.zeros(N_PRICES, dtype=np.int64)
for _a in range(len(cfg.ACCOUNTS)):
    for _p in range(cfg.N_PRODUCTS):
        for _y in (0, 1):
            if cfg.price_exists(_p, _y):
                for _c in range(cfg.N_CUR):
                    _i = cfg.price_index(_a, _p, _y, _c)
                    PRICE_UNIT[_i] = cfg.unit_amount(_p, _y, _c)
                    PRICE_MRR[_i] = cfg.mrr_per_unit(_p, _y, _c)


def _pidx(acct: np.ndarray, product: np.ndarray | int, annual: np.ndarray, cur: np.ndarray):
    return ((acct * cfg.N_PRODUCTS + product) * 2 + annual) * cfg.N_CUR + cur


def _half_up_ratio(amount: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """round(amount * num / den), halves up, in exact integers (all inputs non-negative)."""
    return (2 * amount * num + den) // (2 * den)


@dataclass
class _Rows:
    """Column batches for one output (list of dicts of equal-length arrays)."""

    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, **cols: np.ndarray) -> None:
        n = len(next(iter(cols.values())))
        if n:
            self.parts.append({k: np.broadcast_to(v, (n,)).copy() for k, v in cols.items()})

    def concat(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


class _Keys:
    """Deterministic integer key counters of one batch."""

    def __init__(self, base: int) -> None:
        self.next = base

    def take(self, n: int) -> np.ndarray:
        out = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        return out


@dataclass
class SimResult:
    """Staging columns produced by the simulation of one batch."""

    subs: dict[str, np.ndarray]
    items: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    invoices: dict[str, np.ndarray]
    lines: dict[str, np.ndarray]
    attempts: dict[str, np.ndarray]


class _Sim:
    def __init__(
        self, rng: np.random.Generator, cust: dict[str, np.ndarray], cutoff: int, batch: int
    ) -> None:
        self.rng = rng
        self.T = cutoff
        self.n = n = len(cust["ckey"])
        self.ckey = cust["ckey"]
        self.skey = cust["ckey"]  # one subscription per customer
        self.acct = cust["acct"]
        country_cur = {c: cfg.CURRENCIES.index(cfg.COUNTRY_CURRENCY.get(c, "usd")) for c in
                       cfg.COUNTRY_NAMES}  # fmt: skip
        self.cur = np.vectorize(country_cur.__getitem__, otypes=[np.int64])(cust["country"])
        self.send_inv = cust["send_invoice"]
        business = cust["business"]
        self.business = business
        self.inv_keys = _Keys(batch * 10**8)
        self.line_keys = _Keys(batch * 10**9)
        self.invoices = _Rows()
        self.lines = _Rows()
        self.events = _Rows()

        rng = self.rng
        tier = np.where(
            business,
            categorical(rng, n, (0.08, 0.25, 0.42, 0.25)),
            categorical(rng, n, (0.25, 0.45, 0.27, 0.03)),
        )
        self.tier = tier
        self.iv = ((tier > 0) & (rng.random(n) < np.where(business, 0.35, 0.18))).astype(np.int64)
        self.trial = (tier > 0) & (rng.random(n) < 0.45)
        self.trial_converts = rng.random(n) < 0.6
        has_seats = (tier >= cfg.PRO) & (rng.random(n) < 0.45)
        self.seats = np.where(has_seats, np.minimum(1 + rng.geometric(0.3, n), 40), 0)
        u = rng.random(n)
        self.metered = (self.iv == 0) & (
            ((tier == cfg.BUSINESS) & (u < 0.5)) | ((tier == cfg.PRO) & (u < 0.15))
        )
        coupon = np.where((tier > 0) & (rng.random(n) < 0.22), categorical(
            rng, n, cfg.COUPON_WEIGHTS), -1)  # fmt: skip
        nonprofit = cfg.COUPONS.index(next(c for c in cfg.COUPONS if c[0] == "NONPROFIT25"))
        coupon[(coupon == nonprofit) & ~cust["exempt"]] = 0
        coupon[cust["exempt"] & (tier > 0) & (rng.random(n) < 0.6)] = nonprofit
        self.coupon = coupon
        self.onboarding = ((tier == cfg.BUSINESS) & (rng.random(n) < 0.6)) | (
            (tier == cfg.PRO) & (rng.random(n) < 0.1)
        )
        self.created = np.minimum(cust["created"] + rng.integers(30, 900, n), cutoff - 1)
        self.trial_start = np.where(self.trial, self.created, -1)
        self.trial_end = np.where(self.trial, self.created + 14 * DAY, -1)
        self.anchor = np.where(self.trial, self.trial_end, self.created)
        dur = np.asarray([c[5] or 0 for c in cfg.COUPONS])[np.maximum(coupon, 0)]
        self.disc_kind = np.asarray([c[4] for c in cfg.COUPONS])[np.maximum(coupon, 0)]
        self.disc_end = np.where(
            (coupon >= 0) & (self.disc_kind == "repeating"), add_months(self.created, dur), -1
        )
        self.disc_used = np.zeros(n, dtype=bool)

        # state
        self.c = np.zeros(n, dtype=np.int64)
        self.first = np.ones(n, dtype=bool)
        self.prev_s = np.full(n, -1, dtype=np.int64)
        self.prev_paid = np.zeros(n, dtype=bool)
        self.cps = np.full(n, -1, dtype=np.int64)
        self.cpe = np.full(n, -1, dtype=np.int64)
        self.pend_cancel = np.zeros(n, dtype=bool)
        self.canceled_at = np.full(n, -1, dtype=np.int64)
        self.cancel_at = np.full(n, -1, dtype=np.int64)
        self.pend_tier = np.full(n, -1, dtype=np.int64)
        self.pend_iv = np.full(n, -1, dtype=np.int64)
        self.pend_seats = np.zeros(n, dtype=np.int64)
        self.ended_at = np.full(n, -1, dtype=np.int64)
        self.end_kind = np.full(n, END_NONE, dtype=np.int64)
        self.last_change = self.created.copy()
        self.first_paid_at = np.full(n, -1, dtype=np.int64)
        self.seat_created = np.where(self.seats > 0, self.created, -1)
        self.state_p = np.full((3, n), -1, dtype=np.int64)  # counted price per item kind
        self.state_q = np.zeros((3, n), dtype=np.int64)

    # ----------------------------------------------------------------------------------------
    def emit(self, j: np.ndarray, t: np.ndarray, kind: int, new_p: np.ndarray, new_q: np.ndarray):
        """Write MRR ledger events for item `kind` of subscriptions j moving to (new_p, new_q)."""
        old_p, old_q = self.state_p[kind, j], self.state_q[kind, j]
        new_p = np.where(new_q > 0, new_p, -1)
        new_q = np.where(new_p >= 0, new_q, 0)
        old_m = np.where(old_p >= 0, PRICE_MRR[np.maximum(old_p, 0)], 0)
        new_m = np.where(new_p >= 0, PRICE_MRR[np.maximum(new_p, 0)], 0)
        # metered/free prices never count: treat as not counting
        old_on, new_on = (old_p >= 0) & (old_m > 0), (new_p >= 0) & (new_m > 0)
        item = self.skey[j] * 3 + kind

        def add(mask: np.ndarray, etype: np.ndarray | int, mrr: np.ndarray, dq: np.ndarray,
                price: np.ndarray, seq: int) -> None:  # fmt: skip
            if mask.any():
                self.events.add(
                    item=item[mask], skey=self.skey[j][mask], ts=t[mask], seq=np.int64(seq),
                    etype=np.broadcast_to(etype, mask.shape)[mask].astype(np.int64),
                    mrr=mrr[mask], dq=dq[mask], price=price[mask],
                )  # fmt: skip

        add(new_on & ~old_on, E_START, new_m * new_q, new_q, new_p, 0)
        add(old_on & ~new_on, E_END, -old_m * old_q, -old_q, old_p, 0)
        both = old_on & new_on
        d_price = (new_m - old_m) * old_q
        pc = both & (old_p != new_p) & (d_price != 0)
        add(pc, np.where(d_price > 0, E_UP, E_DOWN), d_price, np.zeros_like(d_price), new_p, 0)
        d_qty = new_m * (new_q - old_q)
        qc = both & (new_q != old_q)
        add(qc, np.where(new_q > old_q, E_QINC, E_QDEC), d_qty, new_q - old_q, new_p, 1)
        self.state_p[kind, j] = np.where(new_on, new_p, -1)
        self.state_q[kind, j] = np.where(new_on, new_q, 0)

    def end_items(self, j: np.ndarray, t: np.ndarray) -> None:
        zero = np.zeros(len(j), dtype=np.int64)
        for kind in (ITEM_PLAN, ITEM_SEATS):
            self.emit(j, t, kind, zero - 1, zero)

    def set_items(self, j: np.ndarray, t: np.ndarray) -> None:
        paid = self.tier[j] > 0
        plan_p = _pidx(self.acct[j], self.tier[j], self.iv[j], self.cur[j])
        seat_p = _pidx(self.acct[j], cfg.SEATS, self.iv[j], self.cur[j])
        self.emit(j, t, ITEM_PLAN, np.where(paid, plan_p, -1), paid.astype(np.int64))
        self.emit(j, t, ITEM_SEATS, np.where(paid, seat_p, -1), np.where(paid, self.seats[j], 0))

    # ----------------------------------------------------------------------------------------
    def payment(
        self, fin: np.ndarray, send: np.ndarray, can_fail: bool, cap: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Draw the payment timeline of invoices finalized at `fin` (see _gen_payments)."""
        return draw_payments(self.rng, fin, send, can_fail, cap)

    def add_invoices(
        self, j: np.ndarray, date: np.ndarray, kind: int, reason: np.ndarray, disc: np.ndarray,
        inv_ps: np.ndarray, pay: dict[str, np.ndarray], fin: np.ndarray | None = None,
    ) -> np.ndarray:  # fmt: skip
        keys = self.inv_keys.take(len(j))
        fin = date + FINALIZE_DELAY if fin is None else fin
        self.invoices.add(
            inv=keys, skey=np.where(kind == K_ONBOARDING, -1, self.skey[j]), ckey=self.ckey[j],
            kind=np.int64(kind), reason=reason.astype(np.int64), date=date,
            fin=fin, inv_ps=inv_ps, disc=disc, send=self.send_inv[j],
            n_fail=pay["n_fail"], paid_at=pay["paid_at"], final_at=pay["final_at"],
            void=pay["void"], due=pay["due"], jit=pay["jit"],
        )  # fmt: skip
        return keys

    def add_lines(
        self, inv: np.ndarray, j: np.ndarray, kind: int, item: np.ndarray, price: np.ndarray,
        qty: np.ndarray, amount: np.ndarray, ps: np.ndarray, pe: np.ndarray, proration: bool,
    ) -> None:  # fmt: skip
        self.lines.add(
            line=self.line_keys.take(len(inv)), inv=inv, item=item, kind=np.int64(kind),
            price=price, qty=qty, amount=amount, ps=ps, pe=pe, proration=np.bool_(proration),
        )  # fmt: skip

    # ----------------------------------------------------------------------------------------
    def run(self) -> None:
        T = self.T
        trial_live = self.trial & (self.trial_end >= T)
        trial_lost = self.trial & ~self.trial_converts & (self.trial_end < T)
        self.ended_at[trial_lost] = self.trial_end[trial_lost]
        self.end_kind[trial_lost] = END_TRIAL
        alive = ~trial_live & ~trial_lost
        while True:
            j = np.nonzero(alive)[0]
            if not len(j):
                break
            s = add_months(self.anchor[j], self.c[j])
            stop = s >= T
            alive[j[stop]] = False
            j, s = j[~stop], s[~stop]
            if not len(j):
                break
            pc = self.pend_cancel[j]
            if pc.any():
                jj = j[pc]
                self.ended_at[jj] = s[pc]
                self.end_kind[jj] = END_CANCEL
                self.end_items(jj, s[pc])
                alive[jj] = False
                j, s = j[~pc], s[~pc]
            self._period(j, s, alive)

    def _period(self, j: np.ndarray, s: np.ndarray, alive: np.ndarray) -> None:
        rng, T = self.rng, self.T
        n = len(j)
        # renewal-time changes
        tier_chg = self.pend_tier[j] >= 0
        converted = tier_chg & (self.tier[j] == 0)
        self.tier[j] = np.where(tier_chg, self.pend_tier[j], self.tier[j])
        iv_chg = self.pend_iv[j] >= 0
        self.iv[j] = np.where(iv_chg, self.pend_iv[j], self.iv[j])
        seat_chg = self.pend_seats[j] != 0
        self.seats[j] += self.pend_seats[j]
        self.pend_tier[j], self.pend_iv[j], self.pend_seats[j] = -1, -1, 0
        changed = tier_chg | iv_chg | seat_chg
        self.last_change[j] = np.where(changed, s, self.last_change[j])
        self.set_items(j, s)

        tier, iv, acct, cur = self.tier[j], self.iv[j], self.acct[j], self.cur[j]
        length = np.where(iv == 1, 12, 1)
        e = add_months(self.anchor[j], self.c[j] + length)
        self.cps[j], self.cpe[j] = s, e
        paid = tier > 0
        self.first_paid_at[j] = np.where(paid & (self.first_paid_at[j] < 0), s,
                                         self.first_paid_at[j])  # fmt: skip

        # ---- period invoice ---------------------------------------------------------------
        p = np.nonzero(paid)[0]
        jp, sp, ep = j[p], s[p], e[p]
        first = self.first[jp]
        reason = np.where(
            converted[p], R_UPDATE,
            np.where(first & ~self.trial[jp], R_CREATE, R_CYCLE),
        )  # fmt: skip
        dk = self.disc_kind[jp]
        has_c = self.coupon[jp] >= 0
        disc = has_c & (
            (dk == "forever")
            | ((dk == "repeating") & (sp < self.disc_end[jp]))
            | ((dk == "once") & ~self.disc_used[jp])
        )
        self.disc_used[jp] |= disc
        prev = self.prev_s[jp]
        pay = self.payment(sp + FINALIZE_DELAY, self.send_inv[jp], True, ep - 2 * HOUR)
        inv = self.add_invoices(jp, sp, K_PERIOD, reason, disc, np.where(prev >= 0, prev, sp), pay)
        plan_price = _pidx(acct[p], tier[p], iv[p], cur[p])
        one = np.ones(len(p), dtype=np.int64)
        self.add_lines(inv, jp, L_PLAN, self.skey[jp] * 3 + ITEM_PLAN, plan_price, one,
                       PRICE_UNIT[plan_price], sp, ep, False)  # fmt: skip
        q = self.seats[jp]
        hs = q > 0
        seat_price = _pidx(acct[p], cfg.SEATS, iv[p], cur[p])
        self.add_lines(inv[hs], jp[hs], L_SEATS, self.skey[jp[hs]] * 3 + ITEM_SEATS,
                       seat_price[hs], q[hs], PRICE_UNIT[seat_price[hs]] * q[hs], sp[hs], ep[hs],
                       False)  # fmt: skip
        hu = self.metered[jp] & self.prev_paid[jp] & (prev >= 0) & (iv[p] == 0)
        if hu.any():
            usage_price = _pidx(acct[p][hu], cfg.USAGE, 0, cur[p][hu])
            med = np.where(tier[p][hu] == cfg.BUSINESS, 300.0, 80.0)
            uq = np.maximum(1, np.exp(rng.normal(np.log(med), 0.8)).astype(np.int64))
            self.add_lines(inv[hu], jp[hu], L_USAGE, self.skey[jp[hu]] * 3 + ITEM_USAGE,
                           usage_price, uq, PRICE_UNIT[usage_price] * uq, prev[hu], sp[hu],
                           False)  # fmt: skip

        # payment failure ends the subscription (unpaid or canceled) when retries are exhausted
        final = pay["final_at"]
        ff = final >= 0
        jf = jp[ff]
        alive[jf] = False
        gone = final[ff] < T
        self.ended_at[jf[gone]] = final[ff][gone]
        self.end_kind[jf[gone]] = END_PAYMENT
        self.end_items(jf[gone], final[ff][gone])

        # ---- one mid-period change, prorated ----------------------------------------------
        ok = np.zeros(n, dtype=bool)
        ok[p] = (pay["n_fail"] == 0) & ~ff
        u = rng.random(n)
        annual = iv == 1
        p_up = np.where((tier >= 1) & (tier <= 2), np.where(annual, 0.15, 0.02), 0.0)
        p_inc = np.where(self.seats[j] > 0, np.where(annual, 0.3, 0.06), 0.0)
        p_add = np.where((self.seats[j] == 0) & (tier >= cfg.PRO), np.where(annual, 0.1, 0.015),
                         0.0)  # fmt: skip
        up = ok & (u < p_up)
        inc = ok & ~up & (u < p_up + p_inc)
        add = ok & ~up & ~inc & (u < p_up + p_inc + p_add)
        frac = rng.uniform(0.05, 0.6, n)
        t_mid = s + (frac * (e - s)).astype(np.int64)
        live = t_mid < T
        up, inc, add = up & live, inc & live, add & live
        mid = up | inc | add
        if mid.any():
            m = np.nonzero(mid)[0]
            jm, tm, em, sm = j[m], t_mid[m], e[m], s[m]
            rem_num, rem_den = em - tm, em - sm
            old_plan = _pidx(acct[m], tier[m], iv[m], cur[m])
            new_tier = np.where(up[m], tier[m] + 1, tier[m])
            new_plan = _pidx(acct[m], new_tier, iv[m], cur[m])
            delta = np.where(inc[m], np.minimum(1 + rng.geometric(0.45, len(m)), 8), 0)
            added = np.where(add[m], np.minimum(rng.geometric(0.3, len(m)), 15), 0)
            seat_price = _pidx(acct[m], cfg.SEATS, iv[m], cur[m])
            gross = np.where(
                up[m], PRICE_UNIT[new_plan] - PRICE_UNIT[old_plan],
                PRICE_UNIT[seat_price] * (delta + added),
            )  # fmt: skip
            amount = _half_up_ratio(gross, rem_num, rem_den)
            price = np.where(up[m], new_plan, seat_price)
            qty = np.where(up[m], 1, delta + added)
            item = self.skey[jm] * 3 + np.where(up[m], ITEM_PLAN, ITEM_SEATS)
            pay_m = self.payment(tm + FINALIZE_DELAY, self.send_inv[jm], False, em)
            zero = np.zeros(len(m), dtype=bool)
            inv_m = self.add_invoices(jm, tm, K_PRORATION, np.full(len(m), R_UPDATE), zero, tm,
                                      pay_m)  # fmt: skip
            self.lines.add(
                line=self.line_keys.take(len(m)), inv=inv_m, item=item,
                kind=np.where(up[m], L_PLAN, L_SEATS).astype(np.int64), price=price, qty=qty,
                amount=amount, ps=tm, pe=em, proration=np.ones(len(m), dtype=bool),
            )  # fmt: skip
            self.tier[jm] = new_tier
            self.seats[jm] += delta + added
            newly = added > 0
            self.seat_created[jm[newly]] = tm[newly]
            self.last_change[jm] = tm
            self.set_items(jm, tm)

        # ---- decisions taking effect at the next renewal ----------------------------------
        still = alive[j]
        tier = self.tier[j]
        churn = np.select(
            [tier == 0, annual, tier == cfg.STARTER, tier == cfg.PRO],
            [0.04, np.where(self.business[j], 0.15, 0.22), 0.045, 0.03],
            0.02,
        ) + np.where(self.c[j] < 3, 0.02, 0.0)
        r_time = s + (rng.uniform(0.1, 0.95, n) * (e - s)).astype(np.int64)
        r_time = np.maximum(r_time, np.where(mid, t_mid + HOUR, 0))
        cancel = still & (rng.random(n) < churn) & (r_time < T) & (r_time < e)
        self.pend_cancel[j] = cancel
        self.canceled_at[j[cancel]] = r_time[cancel]
        self.cancel_at[j[cancel]] = e[cancel]
        keep = still & ~cancel
        u = rng.random(n)
        down = keep & (tier >= cfg.PRO) & (u < np.where(annual, 0.08, 0.012))
        conv = keep & (tier == 0) & (u < 0.06)
        self.pend_tier[j[down]] = tier[down] - 1
        self.pend_tier[j[conv]] = np.where(rng.random(int(conv.sum())) < 0.7, 1, 2)
        u = rng.random(n)
        to_year = keep & (tier > 0) & ~annual & ~self.metered[j] & (u < 0.015)
        to_month = keep & annual & (u < 0.05)
        self.pend_iv[j[to_year]] = 1
        self.pend_iv[j[to_month]] = 0
        q = self.seats[j]
        dec = keep & (q >= 2) & (rng.random(n) < np.where(annual, 0.15, 0.04))
        self.pend_seats[j[dec]] = -np.minimum(rng.integers(1, 4, int(dec.sum())), q[dec] - 1)

        self.prev_s[j] = s
        self.prev_paid[j] = paid
        self.c[j] += length
        self.first[j] = False

    # ----------------------------------------------------------------------------------------
    def onboarding_invoices(self) -> None:
        rng = self.rng
        j = np.nonzero(self.onboarding & (self.first_paid_at >= 0))[0]
        date = self.first_paid_at[j] + rng.integers(1 * DAY, 5 * DAY, len(j))
        keep = date < self.T
        j, date = j[keep], date[keep]
        fin = date + rng.integers(HOUR, 3 * DAY, len(j))  # manual invoices: drafted, sent later
        pay = self.payment(fin, self.send_inv[j], True, fin + 60 * DAY)
        voided = rng.random(len(j)) < 0.02
        pay["void"] = pay["void"] | voided
        pay["final_at"] = np.where(voided, fin + DAY, pay["final_at"])
        pay["paid_at"] = np.where(voided, -1, pay["paid_at"])
        pay["n_fail"] = np.where(voided, 0, pay["n_fail"])
        zero = np.zeros(len(j), dtype=bool)
        inv = self.add_invoices(
            j, date, K_ONBOARDING, np.full(len(j), R_MANUAL), zero, date, pay, fin
        )
        price = _pidx(self.acct[j], cfg.ONBOARDING, 0, self.cur[j])
        one = np.ones(len(j), dtype=np.int64)
        self.add_lines(inv, j, L_ONBOARDING, -one, price, one, PRICE_UNIT[price], date, date, False)

    def result(self, batch: int) -> SimResult:
        T = self.T
        status = np.full(self.n, ST_ACTIVE, dtype=np.int64)
        status[self.trial & (self.trial_end >= T)] = ST_TRIALING
        status[np.isin(self.end_kind, (END_CANCEL, END_TRIAL))] = ST_CANCELED
        pay_end = self.end_kind == END_PAYMENT
        unpaid = pay_end & (self.rng.random(self.n) < 0.5)
        status[pay_end] = np.where(unpaid[pay_end], ST_UNPAID, ST_CANCELED)
        ended = np.where(status == ST_UNPAID, -1, self.ended_at)
        # trials that are still running or never converted keep their trial period as period
        no_period = self.cps < 0
        self.cps = np.where(no_period, np.where(self.trial, self.trial_start, self.created),
                            self.cps)  # fmt: skip
        self.cpe = np.where(no_period, np.where(self.trial, self.trial_end,
                                                add_months(self.created, 1)), self.cpe)  # fmt: skip
        feedback = self.rng.integers(0, len(FEEDBACK), self.n)
        canceled_at = np.select(
            [self.end_kind == END_TRIAL, (self.end_kind == END_PAYMENT) & (status == ST_CANCELED),
             self.end_kind == END_PAYMENT],
            [self.trial_end, self.ended_at, -1],
            self.canceled_at,
        )  # fmt: skip
        subs = {
            "skey": self.skey, "ckey": self.ckey, "acct": self.acct, "cur": self.cur,
            "created": self.created, "anchor": self.anchor, "trial_start": self.trial_start,
            "trial_end": self.trial_end, "status": status, "ended_at": ended,
            "end_kind": self.end_kind, "canceled_at": canceled_at,
            "cancel_at": self.cancel_at, "cps": self.cps, "cpe": self.cpe, "tier": self.tier,
            "iv": self.iv, "seats": self.seats, "metered": self.metered, "coupon": self.coupon,
            "disc_end": self.disc_end, "last_change": self.last_change, "feedback": feedback,
            "send": self.send_inv,
        }  # fmt: skip
        # items as they stand at the cutoff
        k = self.skey
        item_parts = [
            {"item": k * 3 + ITEM_PLAN, "skey": k, "kind": np.zeros_like(k),
             "price": _pidx(self.acct, self.tier, self.iv, self.cur), "qty": np.ones_like(k),
             "created": self.created},
        ]  # fmt: skip
        hs = self.seat_created >= 0
        item_parts.append({
            "item": k[hs] * 3 + ITEM_SEATS, "skey": k[hs], "kind": np.ones_like(k[hs]),
            "price": _pidx(self.acct, cfg.SEATS, self.iv, self.cur)[hs],
            "qty": np.maximum(self.seats[hs], 1), "created": self.seat_created[hs],
        })  # fmt: skip
        hm = self.metered & (self.tier > 0)
        item_parts.append({
            "item": k[hm] * 3 + ITEM_USAGE, "skey": k[hm], "kind": np.full(int(hm.sum()), 2),
            "price": _pidx(self.acct, cfg.USAGE, 0, self.cur)[hm],
            "qty": np.zeros(int(hm.sum()), dtype=np.int64), "created": self.created[hm],
        })  # fmt: skip
        items = {c: np.concatenate([p[c] for p in item_parts]) for c in item_parts[0]}
        invoices = self.invoices.concat()
        return SimResult(
            subs=subs,
            items=items,
            events=self.events.concat(),
            invoices=invoices,
            lines=self.lines.concat(),
            attempts=payment_attempts(invoices, self.T, batch * 10**9) if invoices else {},
        )


def simulate(
    rng: np.random.Generator, cust: dict[str, np.ndarray], cutoff: int, batch: int
) -> SimResult:
    """Simulate the subscriptions of one customer batch up to the cutoff."""
    sim = _Sim(rng, cust, cutoff, batch)
    sim.run()
    sim.onboarding_invoices()
    return sim.result(batch)
