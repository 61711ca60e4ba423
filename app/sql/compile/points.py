"""The days a stock is read at: one point per bucket, as a CTE, and the scan's upper bound."""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from app.core.plan import Assumption
from app.semantic.model import Metric
from app.sql.compile.sqlbuild import fragment, literal, named
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import step, utc_bounds

_DAY = timedelta(days=1)


def points(q: CompileState, at: str) -> list[date]:
    """The days whose end-of-day state the buckets report (`start`: the day before each)."""
    return [b.point if at == "end" else b.start - timedelta(days=1) for b in q.frame.buckets]


def points_cte(q: CompileState, at: str) -> str:
    """A CTE of (period, point): the day whose end-of-day state each bucket reports."""
    name = f"points_{at}"
    if any(n == name for n, _ in q.ctes):
        return name
    rows = [
        exp.select(named(literal(b.label), "period"), named(literal(point), "point"))
        for b, point in zip(q.frame.buckets, points(q, at), strict=True)
    ]
    union = rows[0] if len(rows) == 1 else exp.union(*rows, distinct=False, copy=False)
    return q.cte(name, union)


def before_last_point(q: CompileState, m: Metric, at: str) -> exp.Expr:
    """`time < end of the last point` (local days): no row after every point can count."""
    assert m.time
    nxt = max(points(q, at)) + timedelta(days=1)
    upper = utc_bounds(nxt, nxt, m.time_zone, q.ctx.account.timezone)[0]
    return exp.LT(this=fragment(m.time), expression=literal(upper))


def series_points_note(q: CompileState, metrics: list[Metric]) -> Assumption | None:
    """For a series of balances (ARR by year): the day each period's value is read at."""
    stocks = [m for m in metrics if m.aggregation in ("stock", "snapshot")]
    if q.frame.grain is None or not stocks:
        return None
    days = [b.point for b in q.frame.buckets]
    shown = [str(d) for d in days]
    last = q.frame.buckets[-1]
    if isinstance(last.label, date) and last.point < step(last.label, q.frame.grain) - _DAY:
        shown[-1] += " (to date)"
    listed = (
        ", ".join(shown[:-1]) + f" and {shown[-1]}"
        if 1 < len(shown) <= 6
        else shown[0]
        if len(shown) == 1
        else f"{shown[0]} to {shown[-1]}"
    )
    labels = " and ".join(m.label for m in stocks)
    text = f"{labels} is read at the end of each {q.frame.grain}: {listed}."
    return Assumption(key="series_points", text=text)
