"""Parts of a list: its amount threshold in SQL, and the list in words (states, order, groups)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlglot import exp

from app.core.errors import CompileError
from app.core.plan import Assumption, Filter, ListOrder, QueryPlan
from app.semantic.describe import OP_WORDS
from app.semantic.model import ListColumn, ListSpec
from app.sql.compile.money import FX_SOURCE
from app.sql.compile.sqlbuild import (
    COMPARE,
    Type,
    cast,
    col,
    fragment,
    in_list,
    literal,
    literals,
    none_of,
    table,
)
from app.sql.compile.state import CompileContext

DEFAULT_LIMIT = 100
_DAY_WORDS = {"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before"}
# State words that read after the entity's name ("subscriptions on trial").
_AFTER = ("on", "in", "from", "no", "requested", "needing", "under", "pre", "post")


def threshold(
    amount: str,
    currency: str,
    op: str,
    value: object,
    thr_currency: str | None,
    ctx: CompileContext,
) -> exp.Expr:
    """Amount threshold in a currency; other currencies converted with the as-of day's rate."""
    compare = COMPARE.get(op, exp.GT)
    cur = (thr_currency or ctx.account.currency).lower()
    exp10 = 0 if cur in ctx.model.zero_decimal_currencies else 2
    minor = int(Decimal(str(value)).scaleb(exp10))

    def rates() -> exp.Expr:
        """`(SELECT rates FROM exchange_rates_from_usd WHERE day = as_of LIMIT 1)`."""
        on_day = exp.EQ(this=cast(col("date", FX_SOURCE), Type.DATE), expression=literal(ctx.as_of))
        query = exp.select(col("buy_currency_exchange_rates", FX_SOURCE))
        query = query.from_(table(FX_SOURCE), copy=False).where(on_day, copy=False)
        return query.limit(exp.Literal.number(1), copy=False).subquery(copy=False)

    def rate(path: exp.Expr) -> exp.Expr:
        return cast(exp.JSONExtractScalar(this=rates(), expression=path), Type.DOUBLE)

    source = exp.DPipe(this=exp.Literal.string("$."), expression=fragment(currency), safe=True)
    converted = exp.Div(
        this=exp.Mul(this=fragment(amount), expression=rate(literal(f"$.{cur}"))),
        expression=rate(source),
    )
    same = exp.EQ(this=fragment(currency), expression=literal(cur))
    case = exp.case().when(same, fragment(amount), copy=False).else_(converted, copy=False)
    return compare(this=case, expression=literal(minor))


def describe(
    plan: QueryPlan, spec: ListSpec, ctx: CompileContext, order: ListOrder, limit: int | None
) -> tuple[str, bool]:
    """The list in words ('The 5 most recent failed charges'), and whether it says the count."""
    states = [" or ".join(map(str, f.values)) for f in plan.filters if f.dimension == "state"]
    before = [s for s in states if s.split()[0] not in _AFTER]  # "invoice based": not "in"
    after = [s for s in states if s.split()[0] in _AFTER]
    noun = " ".join([*before, spec.label.lower(), *after])
    sort = ctx.model.list_column(spec, order.column)
    adjective, phrase = _order_words(sort, order.direction, spec)
    counted = False
    if plan.per_group is not None:
        group = _label(ctx.model.list_column(spec, plan.per_group.column), plan.per_group.column)
        n = plan.per_group.n
        least = plan.per_group.at_least
        if plan.per_group.count and least:
            head = f"{group.capitalize()}s with {least} or more {noun}"
        elif plan.per_group.count:
            head = f"{group.capitalize()}s with {noun}, counted"
        elif plan.columns and all(spec.describes(c, plan.per_group.column) for c in plan.columns):
            head = f"{group.capitalize()}s with {noun}"
        elif adjective:
            which = f"the {n} {adjective}" if n > 1 else f"the {adjective}"
            head = f"{noun.capitalize()}: {which} of each {group}"
        else:
            head = f"{noun.capitalize()}: {f'{n} rows' if n > 1 else 'one row'} per {group}"
    elif limit and plan.limit_by and adjective:  # "fee components of the 5 most recent ..."
        parent = _label(ctx.model.list_column(spec, plan.limit_by), plan.limit_by)
        head = f"{spec.label} of the {limit:,} {adjective} {parent}s"
        if states:
            head += f" ({', '.join(states)})"
        counted = True
    elif limit and limit != DEFAULT_LIMIT and adjective:
        one = " ".join([*before, spec.label.lower().removesuffix("s"), *after])
        head = f"The {adjective} {one}" if limit == 1 else f"The {limit:,} {adjective} {noun}"
        counted = True
    else:
        head = f"{noun.capitalize()}, {phrase}"
    conditions = [_filter_words(f, spec, ctx) for f in plan.filters if f.dimension != "state"]
    if conditions:
        head += ", where " + " and ".join(conditions)
    return head, counted


def _label(c: ListColumn | None, name: str) -> str:
    """A column's label in lower case ('amount remaining'), or the name given."""
    return ((c.label or c.name) if c is not None else name).replace("_", " ").lower()


def _order_words(c: ListColumn | None, direction: str, spec: ListSpec) -> tuple[str, str]:
    """(adjective, phrase) of an order: ('most recent', 'most recent first')."""
    desc = direction == "desc"
    label = _label(c, c.name if c else "")
    if c is not None and (c.kind == "date" or c.name == spec.recent):
        if c.name == spec.recent:
            return ("most recent", "most recent first") if desc else ("oldest", "oldest first")
        return (
            ("latest", f"latest {label} first") if desc else ("earliest", f"earliest {label} first")
        )
    if c is not None and c.kind in ("money", "count", "number"):
        adjective = "largest" if desc else "smallest"
        suffix = "" if c.name in ("amount", spec.order) else f" by {label}"
        return f"{adjective}{suffix}", f"{adjective} {label} first"
    return "", f"by {label}{', descending' if desc else ''}"


def _filter_words(f: Filter, spec: ListSpec, ctx: CompileContext) -> str:
    """One filter in words: 'card brand is Visa or MasterCard', 'amount over 1,000 USD'."""
    column = ctx.model.list_column(spec, f.dimension)
    dim = ctx.model.dimensions.get(f.dimension)
    name = dim.label.lower() if dim else _label(column, f.dimension)
    if f.dimension == "amount":
        value = Decimal(str(f.values[0]))
        cur = (f.currency or ctx.account.currency).upper()
        money = next((c for c in spec.columns if c.expr == spec.amount), None)
        return f"{_label(money, 'amount')} {OP_WORDS[f.op]} {value:,} {cur}"
    values = " or ".join(str(v) for v in f.values)
    if column is not None and column.kind == "date":
        return f"{name} {_DAY_WORDS.get(f.op, OP_WORDS[f.op])} {values}"
    return f"{name} {OP_WORDS[f.op]} {values}"


def state_time(plan: QueryPlan, spec: ListSpec) -> str:
    """The time a period applies to: when the asked state began ('canceled last month')."""
    for f in plan.filters:
        if f.dimension == "state" and len(f.values) == 1 and str(f.values[0]) in spec.state_times:
            return spec.state_times[str(f.values[0])]
    return spec.time


def compare(
    value: exp.Expr, op: str, values: tuple[str | int | Decimal, ...], day: bool = False
) -> exp.Expr:
    """A catalogue column compared with literal values (ISO days for a date column)."""
    try:
        nodes = [literal(date.fromisoformat(str(v))) for v in values] if day else literals(values)
    except ValueError as err:
        raise CompileError(f"not a day: {values}") from err
    if op in ("neq", "not_in"):
        return none_of(value, nodes)
    if op in COMPARE:
        return COMPARE[op](this=value, expression=nodes[0])
    return in_list(value, nodes)


def notes(
    plan: QueryPlan, spec: ListSpec, shown: list[ListColumn], group: ListColumn | None
) -> list[Assumption]:
    """What the reader of a list should know: roll-ups, groups without a value, currencies."""
    out: list[Assumption] = []
    rolled = [c for c in shown if c.via]
    if rolled:
        names = ", ".join((c.label or c.name.replace("_", " ")).lower() for c in rolled)
        text = (
            f"{names.capitalize()}: read from each row's {str(rolled[0].via).replace('_', ' ')}; "
            "several values are joined with commas, amounts summed."
        )
        out.append(Assumption(key="list_rollup", text=text))
    if group is not None:
        label = (group.label or group.name.replace("_", " ")).lower()
        text = f"One row per {label}; {spec.label.lower()} without a {label} are left out."
        out.append(Assumption(key="list_per_group", text=text))
    when = state_time(plan, spec)
    if plan.time is not None and when != spec.time:
        state = next(
            str(f.values[0])
            for f in plan.filters
            if f.dimension == "state"
            and len(f.values) == 1
            and spec.state_times.get(str(f.values[0])) == when
        )
        text = f"The period is when each became {state}, not when it was created."
        out.append(Assumption(key="list_state_time", text=text))
    if any(c.kind == "money" for c in shown):
        text = "Amounts are shown in each row's own currency, not converted."
        out.append(Assumption(key="list_currency", text=text))
    return out
