"""Sum a metric's rows per output key; convert money with the previous day's exchange rate."""

from __future__ import annotations

from sqlglot import exp

from app.sql.compile.sqlbuild import (
    Type,
    cast,
    col,
    fn,
    group_by_all,
    in_list,
    join,
    literal,
    literals,
    named,
    paren,
    table,
)
from app.sql.compile.state import CompileState

FX_SOURCE = "exchange_rates_from_usd"


def sum_by_keys(q: CompileState, base: str) -> exp.Select:
    """`SELECT keys, sum(v) AS v FROM base GROUP BY ALL`."""
    select = exp.select(*(col(k) for k in q.keys), named(fn("sum", col("v")), "v"))
    return group_by_all(select.from_(table(base), copy=False))


def _ensure_fx(q: CompileState) -> None:
    """Add the `fx` CTE once: each day's rates, keyed by the day they apply to (the next one)."""
    if q.fx_added:
        return
    day = exp.Add(this=cast(col("date", FX_SOURCE), Type.DATE), expression=exp.Literal.number(1))
    rates = col("buy_currency_exchange_rates", FX_SOURCE)
    fx = exp.select(named(day, "day"), named(rates, "rates"))
    q.cte("fx", fx.from_(table(FX_SOURCE), copy=False))
    last = exp.select(named(fn("max", col("day")), "day")).from_(table("fx"), copy=False)
    q.cte("fx_last", last)
    q.fx_added = True


def uses_rates(q: CompileState) -> None:
    """Record that the answer's amounts were converted with the rates (their CTEs, added once)."""
    _ensure_fx(q)


def _rate(path: exp.Expr) -> exp.Expr:
    """`CAST(json_extract_string(fx.rates, path) AS DOUBLE)`: units of a currency per USD."""
    return cast(exp.JSONExtractScalar(this=col("rates", "fx"), expression=path), Type.DOUBLE)


def convert(q: CompileState, base: str, name: str, *, rates_per_key: bool = False) -> str:
    """Sum minor units per key; convert to the target currency with the previous day's rate.

    With `rates_per_key` the two rates are read from the JSON once per (day, currency) of the
    base, not once per row (rows from a rollup: many per day); the arithmetic is the same.
    """
    if q.target is None:
        return q.cte(name, sum_by_keys(q, base))
    if rates_per_key:
        rates = _key_rates(q, base)
        converted = convert_value(q, "b", (col("rt", "r"), col("rs", "r")))
        select = exp.select(*(col(k, "b") for k in q.keys), named(fn("sum", converted), "v"))
        select = select.from_(table(base, alias="b"), copy=False)
        on = exp.and_(
            exp.EQ(this=col("day", "r"), expression=col("day", "b")),
            exp.EQ(this=col("currency", "r"), expression=col("currency", "b")),
            copy=False,
        )
        select = select.join(join(table(rates, alias="r"), on, side="LEFT"), copy=False)
        return q.cte(name, group_by_all(select))
    converted = convert_value(q, "b")
    select = exp.select(*(col(k, "b") for k in q.keys), named(fn("sum", converted), "v"))
    select = select.from_(table(base, alias="b"), copy=False)
    return q.cte(name, group_by_all(join_fx(q, select, "b")))


def _key_rates(q: CompileState, base: str) -> str:
    """A CTE of each (day, currency) of base but the target's: the target's and its rate."""
    assert q.target is not None
    keys = exp.select(col("day"), col("currency")).distinct(copy=False).from_(table(base))
    other = exp.NEQ(this=col("currency"), expression=literal(q.target))
    distinct = keys.where(other, copy=False).subquery("k", copy=False)
    source = exp.DPipe(this=exp.Literal.string("$."), expression=col("currency", "k"), safe=True)
    select = exp.select(
        col("day", "k"),
        col("currency", "k"),
        named(_rate(literal(f"$.{q.target}")), "rt"),
        named(_rate(source), "rs"),
    ).from_(distinct, copy=False)
    return q.cte(f"{base}_rates", join_fx(q, select, "k"))


def join_fx(q: CompileState, select: exp.Select, alias: str) -> exp.Select:
    """The select LEFT JOINed to the `fx` CTE (added once) on the day of `alias`'s rows.

    A day after the last published rate takes the last rate (`fx_last`), so an amount is never
    dropped for want of a rate; the answer says so (Assistant's exchange-rate notice).
    """
    _ensure_fx(q)
    day = fn("least", col("day", alias), col("day", "fx_last"))
    on = exp.EQ(this=col("day", "fx"), expression=day)
    select = select.join(exp.Join(this=table("fx_last"), kind="CROSS"), copy=False)
    return select.join(join(table("fx"), on, side="LEFT"), copy=False)


def convert_value(
    q: CompileState, alias: str, rates: tuple[exp.Expr, exp.Expr] | None = None
) -> exp.Expr:
    """`alias.v` (minor units of `alias.currency`) in the target's minor units, rounded.

    Reads the rates of the `fx` join (`join_fx`), or the given (target, source) rate columns;
    the target currency itself is kept as is.
    """
    assert q.target is not None
    zero = q.ctx.model.zero_decimal_currencies
    currency = col("currency", alias)
    factor = paren(
        exp.case()
        .when(in_list(currency, literals(zero)), exp.Literal.number(100), copy=False)
        .else_(exp.Literal.number(1), copy=False)
    )
    source_path = exp.DPipe(
        this=exp.Literal.string("$."), expression=col("currency", alias), safe=True
    )
    rate_target, rate_source = rates or (_rate(literal(f"$.{q.target}")), _rate(source_path))
    scaled: exp.Expr = exp.Mul(this=col("v", alias), expression=factor)
    scaled = exp.Mul(this=scaled, expression=rate_target)
    scaled = exp.Div(this=scaled, expression=rate_source)
    target_factor = 100 if q.target in zero else 1
    scaled = exp.Div(this=scaled, expression=exp.Literal.number(target_factor))
    return (
        exp.case()
        .when(
            exp.EQ(this=col("currency", alias), expression=literal(q.target)),
            col("v", alias),
            copy=False,
        )
        .else_(cast(fn("round", scaled), Type.INT128), copy=False)
    )


def convert_stock(q: CompileState, base: str, name: str) -> str:
    """Convert a stock at its point with the rate published for the point day."""
    if q.target is None:
        return q.cte(name, sum_by_keys(q, base))
    day = exp.Add(this=col("point"), expression=exp.Literal.number(1))
    shifted = exp.select(exp.Star(), named(day, "day")).from_(table(base), copy=False)
    return convert(q, q.cte(f"{name}_day", shifted), name)
