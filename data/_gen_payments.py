"""Payment outcome model: when (and whether) an invoice gets paid, and its charge attempts.

charge_automatically invoices are attempted at finalization; a failed first attempt (6 % of
period invoices) is retried at +3, +7 and +14 days (smart-retry style); 80 % eventually succeed,
the rest are marked uncollectible an hour after the last failure (the subscription then ends).
send_invoice invoices are net 30: paid through the hosted page after a log-normal delay (median
16 days, so some are paid late); 2.5 % are never paid and end uncollectible or void.
"""

from __future__ import annotations

import numpy as np

from data._gen_util import DAY, HOUR, categorical

RETRY_OFFSETS = np.array([0, 3 * DAY, 7 * DAY, 14 * DAY], dtype=np.int64)
FINALIZE_DELAY = HOUR  # subscription invoices stay draft for an hour, as on Stripe


def draw_payments(
    rng: np.random.Generator, fin: np.ndarray, send: np.ndarray, can_fail: bool, cap: np.ndarray
) -> dict[str, np.ndarray]:
    """Draw the payment timeline of invoices finalized at `fin` (-1 marks "never")."""
    m = len(fin)
    jit = rng.integers(5 * 60, 6 * HOUR, m)
    fail_first = rng.random(m) < (0.06 if can_fail else 0.03)
    recover = (rng.random(m) < 0.8) | (not can_fail)
    retries = categorical(rng, m, (0.6, 0.3, 0.1)) + 1  # failed attempts before success
    n_fail = np.where(fail_first, np.where(recover, retries, 4), 0)
    if not can_fail:
        n_fail = np.minimum(n_fail, 1)
    ok = n_fail < 4
    paid = np.where(ok, fin + RETRY_OFFSETS[np.minimum(n_fail, 3)] + (n_fail > 0) * jit, -1)
    final = np.where(ok, -1, fin + RETRY_OFFSETS[3] + jit + HOUR)
    # send_invoice: net 30, paid through the hosted invoice page, sometimes late or never
    due = np.where(send, fin + 30 * DAY, -1)
    delay = np.exp(rng.normal(np.log(16 * DAY), 0.6, m)).astype(np.int64)
    delay = np.clip(delay, HOUR, 80 * DAY)
    never = send & (rng.random(m) < (0.025 if can_fail else 0.0))
    void = never & (rng.random(m) < 0.3)
    s_final = np.minimum(due + 15 * DAY, cap)
    paid = np.where(send, np.where(never, -1, fin + delay), paid)
    final = np.where(send, np.where(never, s_final, -1), final)
    n_fail = np.where(send, 0, n_fail)
    return {
        "n_fail": n_fail,
        "paid_at": paid,
        "final_at": final,
        "void": void,
        "due": due,
        "jit": jit,
    }


def payment_attempts(
    inv: dict[str, np.ndarray], cutoff: int, charge_base: int
) -> dict[str, np.ndarray]:
    """One row per payment attempt (a charge) made before the cutoff."""
    paid = inv["paid_at"] >= 0
    n_att = np.where(inv["send"], paid.astype(np.int64), inv["n_fail"] + paid)
    n_att = np.where(inv["void"] & (inv["n_fail"] == 0), paid.astype(np.int64), n_att)
    rep = np.repeat(np.arange(len(n_att)), n_att)
    start = np.cumsum(n_att) - n_att
    k = np.arange(len(rep)) - start[rep]
    fin = inv["fin"][rep]
    t = np.where(
        inv["send"][rep],
        inv["paid_at"][rep],
        fin + RETRY_OFFSETS[np.minimum(k, 3)] + (k > 0) * inv["jit"][rep],
    )
    ok = k == n_att[rep] - 1
    ok &= paid[rep]
    keep = t < cutoff
    return {
        "charge": charge_base + np.arange(int(keep.sum()), dtype=np.int64),
        "inv": inv["inv"][rep][keep],
        "attempt": k[keep],
        "ts": t[keep],
        "ok": ok[keep],
    }
