"""Generator helpers: calendar arithmetic on int64 seconds, Arrow staging, SQL macros."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

DAY = 86_400
HOUR = 3_600

# Ids are a bijective scramble of a 48-bit integer key, printed as 10 base-36 digits. The
# scramble only uses BIGINT operations that cannot overflow (odd multipliers < 2**15, masks).
_MASK48 = (1 << 48) - 1
_ID_XOR = 187_649_984_473_770


def sql_macros(seed: int) -> str:
    """SQL macros used by every generation step (deterministic ids, randomness, timestamps)."""
    return f"""
CREATE OR REPLACE TEMP MACRO _scr1(x) AS xor(((x)::BIGINT * 28411) & {_MASK48}, {_ID_XOR});
CREATE OR REPLACE TEMP MACRO _scr2(y) AS (xor(y, y >> 21) * 30517) & {_MASK48};
CREATE OR REPLACE TEMP MACRO sid(prefix, k) AS
    prefix || '_' || lower(to_base(_scr2(_scr1(k)), 36, 10));
CREATE OR REPLACE TEMP MACRO rnd(k, salt) AS
    ((hash(k, salt, {int(seed)}::BIGINT) >> 11)::DOUBLE / 9007199254740992.0);
CREATE OR REPLACE TEMP MACRO rint(k, salt, n) AS
    (floor(rnd(k, salt) * (n))::BIGINT);
CREATE OR REPLACE TEMP MACRO ts(x) AS make_timestamp((x)::BIGINT * 1000000);
CREATE OR REPLACE TEMP MACRO ts_nullable(x) AS
    CASE WHEN (x) IS NULL OR (x) < 0 THEN NULL ELSE make_timestamp((x)::BIGINT * 1000000) END;
CREATE OR REPLACE TEMP MACRO local_ts(tz, x) AS
    timezone(tz, timezone('UTC', make_timestamp((x)::BIGINT * 1000000)));
CREATE OR REPLACE TEMP MACRO local_month(tz, x) AS
    date_trunc('month', timezone(tz, timezone('UTC', make_timestamp((x)::BIGINT * 1000000))));
CREATE OR REPLACE TEMP MACRO half_up(num, den) AS ((num) * 2 + (den)) // (2 * (den));
"""


def add_months(ts: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add calendar months to int64 unix seconds, clamping the day like Stripe billing anchors."""
    d = ts.astype("datetime64[s]")
    day = d.astype("datetime64[D]")
    sod = (d - day).astype(np.int64)
    mon = day.astype("datetime64[M]")
    dom = (day - mon.astype("datetime64[D]")).astype(np.int64)
    mon2 = mon + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = mon2.astype("datetime64[D]")
    dim = ((mon2 + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    out = (first + np.minimum(dom, dim - 1)).astype("datetime64[s]").astype(np.int64)
    return out + sod


def categorical(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """Draw n category indices with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


class Staging:
    """Accumulates numpy column batches per staging table and appends them to DuckDB."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.created: set[str] = set()

    def append(self, name: str, cols: dict[str, Any]) -> int:
        """Append one batch of equally long columns to staging table `name`; return rows."""
        tbl = pa.table({k: _to_arrow(v) for k, v in cols.items()})
        self.conn.register("_batch", tbl)
        try:
            if name in self.created:
                self.conn.execute(f"INSERT INTO {name} SELECT * FROM _batch")
            else:
                self.conn.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _batch")
                self.created.add(name)
        finally:
            self.conn.unregister("_batch")
        return tbl.num_rows


def _to_arrow(v: Any) -> pa.Array:
    if isinstance(v, pa.Array | pa.ChunkedArray):
        return v
    arr = np.asarray(v)
    if arr.dtype.kind in "US":
        return pa.array(arr.astype(str))
    if arr.dtype == object:
        return pa.array(list(arr), type=pa.string())
    return pa.array(arr)
