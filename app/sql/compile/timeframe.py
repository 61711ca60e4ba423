"""Turn a plan's time range, grain and comparison into buckets and SQL time predicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlglot import exp

from app.core.errors import CompileError
from app.core.plan import Assumption, Grain, QueryPlan, TimeRange
from app.semantic.model import Metric
from app.sql.compile.sqlbuild import Type, all_of, cast, date_trunc, fn, fragment, literal, paren

DEFAULT_YEARS = 3  # a yearly series without a period: this year and the two before


@dataclass(frozen=True)
class Bucket:
    """One output period: its label, its half-open local range and the day a stock is read."""

    label: date | str
    start: date
    end: date
    point: date


@dataclass
class Frame:
    """The buckets a query computes and the range it must scan."""

    range: TimeRange
    grain: Grain | None
    buckets: list[Bucket]
    scan_range: tuple[date, date]
    as_of_end_utc: datetime
    shift: tuple[str, int] | None = None
    notes: list[Assumption] = field(default_factory=list)

    def bucket_expr(self, column: str, zone: str, tz: str) -> exp.Expr:
        """Each row's bucket label, from the time column (a model fragment)."""
        if self.grain:
            return cast(date_trunc(self.grain, local_expr(column, zone, tz)), Type.DATE)
        if len(self.buckets) == 1 and (self.buckets[0].start, self.buckets[0].end) == tuple(
            self.scan_range
        ):  # the scan's own time filter already keeps exactly this bucket's rows
            return literal(self.buckets[0].label)
        case = exp.case()
        for b in self.buckets:
            lo, hi = utc_bounds(b.start, b.end, zone, tz)
            within = all_of(
                [
                    exp.GTE(this=fragment(column), expression=literal(lo)),
                    exp.LT(this=fragment(column), expression=literal(hi)),
                ]
            )
            case = case.when(within, literal(b.label), copy=False)
        return paren(case)


def to_utc(d: date, tz: str) -> datetime:
    """The UTC instant (naive) of local midnight starting day d in time zone tz."""
    return datetime.combine(d, time(), ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def utc_bounds(start: date, end: date, zone: str, tz: str) -> tuple[datetime, datetime]:
    """Timestamp bounds for a local date range on a column stored in UTC or local time."""
    if zone == "utc":
        return to_utc(start, tz), to_utc(end, tz)
    return datetime.combine(start, time()), datetime.combine(end, time())


def local_expr(column: str, zone: str, tz: str) -> exp.Expr:
    """The time column (a model fragment) in the account's local time."""
    if zone == "utc":
        utc = exp.AtTimeZone(this=fragment(column), zone=exp.Literal.string("UTC"))
        return fn("timezone", literal(tz), utc)
    return fragment(column)


def time_filter(column: str, zone: str, tz: str, scan: tuple[date, date]) -> list[exp.Expr]:
    """Conditions keeping rows whose time falls in the local range (pushdown friendly)."""
    lo, hi = utc_bounds(scan[0], scan[1], zone, tz)
    return [
        exp.GTE(this=fragment(column), expression=literal(lo)),
        exp.LT(this=fragment(column), expression=literal(hi)),
    ]


def trunc(d: date, grain: Grain) -> date:
    """Start of the grain period containing d (weeks start on Monday)."""
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return date(d.year, 1, 1)


def step(d: date, grain: Grain, n: int = 1) -> date:
    """The start of the period n grains after the one starting at d."""
    if grain == "day":
        return d + timedelta(days=n)
    if grain == "week":
        return d + timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def shift_year(d: date, years: int) -> date:
    """Same calendar day `years` later (Feb 29 → Feb 28)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def plan_frame(plan: QueryPlan, as_of: date, tz: str, metrics: list[Metric]) -> Frame:
    """Buckets, scan range and notes for a plan, relative to an explicit as_of."""
    notes: list[Assumption] = []
    stocks = all(m.aggregation in ("stock", "snapshot") for m in metrics)
    if plan.time is not None:
        r = plan.time
    elif stocks and not plan.grain:
        r = TimeRange(start=as_of, end=as_of + timedelta(days=1), label=f"as of {as_of}")
        notes.append(Assumption(key="as_of_default", text=f"Measured at the end of {as_of}."))
    elif plan.grain == "year":  # one year to date would be a series of one
        first = as_of.year - DEFAULT_YEARS + 1
        r = TimeRange(start=date(first, 1, 1), end=as_of + timedelta(days=1), label="years to date")
        text = f"No period given: the years {first} to {as_of.year} (to date) were used."
        notes.append(Assumption(key="period_default", text=text))
    else:
        r = TimeRange(
            start=date(as_of.year, 1, 1), end=as_of + timedelta(days=1), label="year to date"
        )
        notes.append(
            Assumption(key="period_default", text="No period given: year to date was used.")
        )
    coarse = [m for m in metrics if "day" not in m.grains]
    if coarse and (r.start.day != 1 or r.end.day != 1):
        start, end = (
            r.start.replace(day=1),
            r.end if r.end.day == 1 else step(trunc(r.end, "month"), "month"),
        )
        r = TimeRange(start=start, end=end, label=r.label)
        notes.append(
            Assumption(
                key="monthly_accounting",
                text=(
                    "MRR movements are classified by calendar month"
                    if all(m.aggregation == "movement" for m in coarse)
                    else "Revenue recognition is booked by accounting month"
                )
                + "; whole months were used.",
            )
        )
    cut_end = as_of + timedelta(days=1)
    full = r
    if r.end > cut_end and r.start <= as_of:
        r = TimeRange(start=r.start, end=cut_end, label=r.label)
        notes.append(
            Assumption(
                key="to_date",
                text=f"The period is not over on {as_of}: it runs to date ({r.start} to {as_of}).",
            )
        )
    if plan.grain and any(plan.grain not in m.grains for m in metrics):
        raise CompileError(f"{metrics[0].label} is booked monthly; ask by month, quarter or year")
    as_of_end = to_utc(as_of + timedelta(days=1), tz)
    if any(m.aggregation == "snapshot" for m in metrics) and (plan.grain or plan.comparison):
        raise CompileError("receivables are known only as of now; ask for a single total")
    if plan.grain:
        return _series(plan, r, as_of, as_of_end, notes)
    return _totals(plan, r, full, as_of, as_of_end, notes)


def _point(end: date, as_of: date) -> date:
    return min(end - timedelta(days=1), as_of)


def _series(
    plan: QueryPlan, r: TimeRange, as_of: date, as_of_end: datetime, notes: list[Assumption]
) -> Frame:
    grain = plan.grain
    assert grain is not None
    scan_start = r.start
    shift: tuple[str, int] | None = None
    if plan.comparison is not None:
        if plan.comparison.kind == "same_period_last_year":
            scan_start = shift_year(r.start, -1)
            shift = ("year", 1)
        else:
            scan_start = step(trunc(r.start, grain), grain, -1)
            shift = (grain, 1)
    buckets = []
    b = trunc(scan_start, grain)
    while b < r.end and b <= as_of:
        nxt = step(b, grain)
        buckets.append(
            Bucket(
                label=b,
                start=max(b, scan_start),
                end=min(nxt, r.end),
                point=_point(min(nxt, r.end), as_of),
            )
        )
        b = nxt
    if len(buckets) > 1000:
        raise CompileError("that series has more than 1,000 periods; pick a coarser grain")
    if not buckets:
        raise CompileError("the period starts after the as-of date")
    return Frame(
        range=r,
        grain=grain,
        buckets=buckets,
        scan_range=(scan_start, r.end),
        as_of_end_utc=as_of_end,
        shift=shift,
        notes=notes,
    )


def _totals(
    plan: QueryPlan,
    r: TimeRange,
    full: TimeRange,
    as_of: date,
    as_of_end: datetime,
    notes: list[Assumption],
) -> Frame:
    buckets = [Bucket(label="current", start=r.start, end=r.end, point=_point(r.end, as_of))]
    if plan.comparison is not None:
        if plan.comparison.kind == "same_period_last_year":
            ps, pe = shift_year(r.start, -1), shift_year(r.end, -1)
        else:
            ps, pe = previous_range(full.start, full.end)
            if r.end < full.end:  # like for like: the same number of days of the previous period
                pe = min(pe, ps + (r.end - r.start))
        buckets.append(Bucket(label="previous", start=ps, end=pe, point=_point(pe, as_of)))
        notes.append(
            Assumption(
                key="comparison_period", text=f"Compared with {ps} to {pe - timedelta(days=1)}."
            )
        )
    scan = (min(b.start for b in buckets), max(b.end for b in buckets))
    return Frame(
        range=r, grain=None, buckets=buckets, scan_range=scan, as_of_end_utc=as_of_end, notes=notes
    )


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The period of the same shape immediately before [start, end)."""
    for grain in ("year", "quarter", "month"):
        g: Grain = grain
        n = 1
        while step(start, g, n) <= end and n <= 24:
            if trunc(start, g) == start and step(start, g, n) == end:
                return step(start, g, -n), start
            n += 1
    days = (end - start).days
    return start - timedelta(days=days), start
