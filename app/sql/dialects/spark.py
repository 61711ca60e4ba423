"""DuckDB-dialect SQL → Spark SQL, fixing the constructs sqlglot does not carry over faithfully.

Each rewrite in `SPARK_REWRITES` is pinned by an executed test in tests/test_spark.py.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

WHOLE_DECIMAL = "decimal(38,0)"  # what HUGEINT becomes on Spark (see _wide_integers)


def _wide_integers(node: exp.Expr) -> exp.Expr:
    """HUGEINT (DuckDB's 128-bit integer, used for exact money sums) → DECIMAL(38, 0)."""
    if isinstance(node, exp.DataType) and node.this in (exp.DType.INT128, exp.DType.UINT128):
        return exp.DataType.build("DECIMAL(38, 0)")
    return node


def _is_utc(node: exp.Expr | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.name.upper() in ("UTC", "Z")


def _utc_instant(node: exp.Expr) -> exp.Expr | None:
    """The naive UTC timestamp inside `x AT TIME ZONE 'UTC'` or `timezone('UTC', x)`."""
    found: exp.Expr | None = None
    if isinstance(node, exp.AtTimeZone) and _is_utc(node.args.get("zone")):
        found = node.this
    elif isinstance(node, exp.Anonymous) and node.name.upper() == "TIMEZONE":
        args = node.expressions
        if len(args) == 2 and _is_utc(args[0]):
            found = args[1]
    return found


def _local_time(node: exp.Expr) -> exp.Expr:
    """DuckDB `timezone(zone, <UTC instant>)` (local wall time) → `from_utc_timestamp(x, zone)`.

    sqlglot passes DuckDB's `timezone()` through unchanged, and Spark has no such function.
    """
    if not (isinstance(node, exp.Anonymous) and node.name.upper() == "TIMEZONE"):
        return node
    if len(node.expressions) != 2:
        return node
    zone, value = node.expressions
    instant = _utc_instant(value)
    if instant is not None:
        return exp.Anonymous(this="FROM_UTC_TIMESTAMP", expressions=[instant.copy(), zone.copy()])
    # timezone(zone, naive): the naive time read in `zone`, as an instant
    return exp.Anonymous(this="TO_UTC_TIMESTAMP", expressions=[value.copy(), zone.copy()])


def _trunc_to_timestamp(node: exp.Expr) -> exp.Expr:
    """DuckDB `date_trunc` on a DATE → Spark `date_trunc`, which also returns a TIMESTAMP.

    sqlglot writes it as Spark's `trunc`, which returns a DATE, and NULL below a week.
    """
    if isinstance(node, exp.DateTrunc):
        unit = node.args.get("unit")
        name = unit.name if isinstance(unit, exp.Expr) else str(unit)
        return exp.TimestampTrunc(this=node.this.copy(), unit=exp.var(name.upper()))
    return node


_INTERVAL_UNITS = {"QUARTER": ("MONTH", 3), "WEEK": ("DAY", 7)}


def _unit(node: exp.Expr) -> str | None:
    unit = node.args.get("unit")
    if isinstance(unit, exp.Var | exp.Literal | exp.Identifier):
        return unit.name.upper()
    return None


def _intervals(node: exp.Expr) -> exp.Expr:
    """`INTERVAL (expr) unit` → `INTERVAL '1' unit * (expr)`; QUARTER and WEEK in months/days.

    Spark accepts only a literal inside INTERVAL and has no QUARTER interval; DuckDB writes
    `date_add('day', -30, t)` from Trino as `t + INTERVAL (-30) DAY`.
    """
    if not isinstance(node, exp.Interval):
        return node
    unit = _unit(node)
    if unit is None:
        return node
    base, factor = _INTERVAL_UNITS.get(unit, (unit, 1))
    value = node.this
    if isinstance(value, exp.Literal) and factor == 1:
        return node
    if isinstance(value, exp.Literal) and value.name.lstrip("-").isdigit():
        return exp.Interval(
            this=exp.Literal.string(str(int(value.name) * factor)), unit=exp.var(base)
        )
    one = exp.Interval(this=exp.Literal.string(str(factor)), unit=exp.var(base))
    return exp.Paren(this=exp.Mul(this=one, expression=exp.Paren(this=value.copy())))


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def _as_bigint(node: exp.Expr) -> exp.Expr:
    return exp.cast(exp.Paren(this=node), "BIGINT")


_MICROS = {"HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000, "MILLISECOND": 1000}


def _date_diff(node: exp.Expr) -> exp.Expr:
    """DuckDB `date_diff` counts unit boundaries crossed; Spark's counts whole units elapsed."""
    if not isinstance(node, exp.DateDiff):
        return node
    unit = _unit(node) or "DAY"
    end, start = node.this, node.expression
    if unit in ("DAY", "WEEK"):
        days = _fn("DATEDIFF", exp.cast(end, "DATE"), exp.cast(start, "DATE"))
        if unit == "DAY":
            return _as_bigint(days)
        return _as_bigint(exp.IntDiv(this=days, expression=exp.Literal.number(7)))
    if unit in ("MONTH", "QUARTER", "YEAR"):
        per_year = {"MONTH": 12, "QUARTER": 4, "YEAR": 1}[unit]
        years = exp.Sub(this=_fn("YEAR", end), expression=_fn("YEAR", start))
        if per_year == 1:
            return _as_bigint(years)
        part = "MONTH" if unit == "MONTH" else "QUARTER"
        within = exp.Sub(this=_fn(part, end), expression=_fn(part, start))
        scaled = exp.Mul(this=exp.Paren(this=years), expression=exp.Literal.number(per_year))
        return _as_bigint(exp.Add(this=scaled, expression=exp.Paren(this=within)))
    if unit in _MICROS:
        micros = [
            _fn(
                "UNIX_MICROS",
                exp.cast(exp.TimestampTrunc(this=t.copy(), unit=exp.var(unit)), "TIMESTAMP_LTZ"),
            )
            for t in (end, start)
        ]
        diff = exp.Paren(this=exp.Sub(this=micros[0], expression=micros[1]))
        return _as_bigint(exp.IntDiv(this=diff, expression=exp.Literal.number(_MICROS[unit])))
    return node


def _day_of_week(node: exp.Expr) -> exp.Expr:
    """DuckDB `dayofweek` counts Sunday as 0, `isodow` Monday as 1; Spark's counts Sunday as 1.

    sqlglot writes `isodow(x)` as `DAYOFWEEK(x) % 7 + 1`, which is off by two.
    """
    if isinstance(node, exp.DayOfWeekIso):
        inner = _fn("WEEKDAY", node.this)  # Monday = 0
        return exp.Paren(this=exp.Add(this=inner, expression=exp.Literal.number(1)))
    if isinstance(node, exp.DayOfWeek):
        inner = _fn("DAYOFWEEK", node.this)
        return exp.Paren(this=exp.Sub(this=inner, expression=exp.Literal.number(1)))
    return node


def _generator_casts(node: exp.Expr) -> exp.Expr:
    """`CAST(unnest(list) AS t)` (a DuckDB date spine) → `explode(CAST(list AS ARRAY<t>))`.

    Spark accepts a generator only as a whole select item, not inside a cast.
    """
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Explode | exp.Unnest):
        generator = node.this
        inner = generator.this if isinstance(generator, exp.Explode) else generator.expressions[0]
        array = exp.DataType(this=exp.DType.ARRAY, expressions=[node.to.copy()], nested=True)
        return exp.Explode(this=exp.Cast(this=inner.copy(), to=array))
    return node


Rewrite = Callable[[exp.Expr], exp.Expr]
SPARK_REWRITES: tuple[Rewrite, ...] = (
    _wide_integers,
    _local_time,
    _trunc_to_timestamp,
    _intervals,
    _date_diff,
    _day_of_week,
    _generator_casts,
)


def to_spark(expression: exp.Expr) -> exp.Expr:
    """Apply `SPARK_REWRITES` to a copy of a DuckDB-dialect expression."""
    tree = expression.copy()
    for rewrite in SPARK_REWRITES:
        tree = tree.transform(rewrite, copy=False)
    return tree


def spark_sql(expression: exp.Expr) -> str:
    """Render a DuckDB-dialect expression as Spark SQL.

    `SparkWarehouse.run` passes the parse of `Guarded.sql`, the DuckDB text the guard checked, so
    Spark runs the statement DuckDB would run, whatever dialect the user wrote.
    """
    return to_spark(expression).sql(dialect="spark", comments=False)
